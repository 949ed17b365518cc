"""The run procedure: upload a run's request files and create its job exactly once.

`open_run` fingerprints the inputs, takes the run's lock and claims its journal entry: the
latest run of the same fingerprint (a resumed run), or a new one (`fresh`, or none yet).
`BatchRun.ensure_job` then walks the steps, each written to the journal before its request
goes out and after its answer comes back:

    upload i:  done (file id known)  -> nothing to send
               sent, no answer       -> look on the server by the tagged name; adopt it, else send
               not sent              -> send
    create:    the same, looking for the job by its `mcli_run` metadata

A request whose error answer proves a refusal (400, 401, 403, 404, 413, 415, 422, 429:
http/errors.REFUSED) is marked unsent again: there is nothing to look for. Anything else that
fails after sending (408, 409, 425, 499, a 5xx, no answer, a cut answer) stays `sent`, so the
next start looks before it sends. A create refused with a 404 because the run's upload is
gone marks that upload unsent, so the resume uploads it again. The caller follows the job and
reports its end (`ended`: kept only if the body proves it, the run's own job ended, with a
result file if it succeeded) and where it saved the results (`saving`, `saved`), so a
finished run can be shown again from the journal without a request.

Every hint that tells how to resume (an ambiguous answer, Ctrl-C, SIGTERM) ends with
`batch run TAG resumes with: COMMAND`, COMMAND being this command line without `--new`
(resume.py): running exactly that resumes this run.
"""

from __future__ import annotations

import glob

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.api.operations import describe
from mistral_cli.batchrun.adopt import answer_id, find_job, find_upload, look_twice
from mistral_cli.batchrun.fingerprint import (TAG_KEY, file_digest, fingerprint, new_tag, upload_name,
                                              without_credentials)
from mistral_cli.batchrun.lock import RunLock
from mistral_cli.batchrun.resume import resume_line, this_command
from mistral_cli.errors import MCLIError, NotFoundError, UnexpectedResponse, UsageError, job_created
from mistral_cli.render.progress import progress_bar
from mistral_cli.store.runs import NewRun, Run, RunJournal, UploadStep, open_journal

STDIN = "standard input"  # how an input label names standard input

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.bodies.batch import BatchJob
    from mistral_cli.env import Env


@dataclass(frozen=True)
class LocalInput:
    """A local request file (JSONL) to upload, and how the user named it."""

    path: Path
    label: str


@dataclass
class RunSpec:
    """What a run sends: its kind (the command), the job's options, and its request files in
    order, each a LocalInput or the id of a file already on the server."""

    kind: str
    endpoint: str
    model: str
    inputs: list[LocalInput | str]
    metadata: dict[str, str] = field(default_factory=dict)
    timeout_hours: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # --body/-F fields beyond the options

    def reads_stdin(self) -> bool:
        """Whether a request file was made from standard input (its label says so)."""
        return any(STDIN in item.label for item in self.local_inputs())

    def local_inputs(self) -> list[LocalInput]:
        """The request files to upload, in order."""
        return [item for item in self.inputs if isinstance(item, LocalInput)]


@contextmanager
def open_run(env: "Env", spec: RunSpec, *, fresh: bool) -> Iterator["BatchRun"]:
    """The run of SPEC, held by this process until the block ends: the latest one with the
    same fingerprint, or (FRESH, or none yet) a new one."""
    if TAG_KEY in spec.metadata:
        raise UsageError(f"--metadata: the key {TAG_KEY} is mcli's own (it tags each batch run)")
    new_run, paths = _new_run(env, spec)
    command = this_command(env)
    lock = RunLock(env.environ)
    journal = open_journal(env)
    try:
        record, resumed = journal.claim(new_run, fresh=fresh, hold=lock.hold)
        run = BatchRun(env, journal, record, spec, paths, command)
        if resumed:
            env.info(f"resuming batch run {record.tag} ({record.state}); --new starts a separate run")
        try:
            yield run
        except KeyboardInterrupt:
            run.interrupted(run.in_flight())
            raise
    finally:
        lock.release()
        journal.close()


def _new_run(env: "Env", spec: RunSpec) -> tuple[NewRun, dict[int, Path]]:
    """The journal entry a new run of SPEC would get, and its local files by upload number."""
    digests = [(item, *file_digest(item.path)) for item in spec.local_inputs()]
    parts = {"kind": spec.kind, "server": without_credentials(env.server_url), "profile": env.known_profile(),
             "endpoint": spec.endpoint, "model": spec.model, "metadata": dict(sorted(spec.metadata.items())),
             "timeout_hours": spec.timeout_hours,
             "inputs": [item if isinstance(item, str) else None for item in spec.inputs],
             "files": [[sha, size] for _item, sha, size in digests]}
    if spec.extra:  # only then: the fingerprints of runs without extra fields stay as they were
        parts["extra"] = spec.extra
    print_ = fingerprint(parts)
    tag = new_tag(print_)
    steps = [UploadStep(seq, item.label, upload_name(tag, seq), size, sha)
             for seq, (item, sha, size) in enumerate(digests, 1)]
    labels = [item if isinstance(item, str) else item.label for item in spec.inputs]
    new_run = NewRun(tag, print_, spec.kind, parts["server"], parts["profile"], labels, steps)
    return new_run, {seq: item.path for seq, (item, _sha, _size) in enumerate(digests, 1)}


def _surely_not_acted(exc: MCLIError) -> bool:
    """Whether the error answer proves the server refused the request (400, 401, 403, 404,
    413, 415, 422, 429): nothing can exist to look for. Any other error answer (408, 409, 425,
    499, a 5xx), no answer or a cut one may follow an action (batchrun/resume.py)."""
    from mistral_cli.batchrun.resume import refused

    return refused(exc)


def _proven_final(record: Run) -> dict | None:
    """The final job RECORD keeps, if it proves the end of the run's job (an entry written
    before bad answers were refused is asked again, not replayed)."""
    from mistral_cli.bodies.batch import BatchJob

    body = record.final_job
    if body is None:
        return None
    try:
        job = BatchJob.parse(body, describe("batch.get", record.job_id or ""))
    except MCLIError:
        return None
    return body if job.id == record.job_id and _proves_end(job) else None


def proves_end_of(body: Any, job_id: str | None) -> bool:
    """Whether BODY is a well-formed final state of the job JOB_ID (see _proves_end)."""
    from mistral_cli.bodies.batch import BatchJob

    try:
        job = BatchJob.parse(body, describe("batch.get", job_id or ""))
    except MCLIError:
        return False
    return job.id == job_id and _proves_end(job)


def _proves_end(job: "BatchJob") -> bool:
    """Whether JOB is a well-formed final state: ended, and with a result file if it succeeded."""
    return job.is_final and (job.failed or bool(job.output_file or job.error_file))


class BatchRun:
    """One journalled run held by this process (see the module docstring)."""

    def __init__(self, env: "Env", journal: RunJournal, record: Run, spec: RunSpec, paths: dict[int, Path],
                 command: str = ""):
        self.env = env
        self.command = command  # the command line that resumes this run (never with --new)
        self.hinted = False  # whether the resume command was printed after an interruption
        self.journal = journal
        self.record = record
        record.final_job = _proven_final(record)
        self.spec = spec
        self.paths = paths
        self.job_body: dict | None = None  # the job as last heard from the server in this process

    @property
    def tag(self) -> str:
        """The run's tag."""
        return self.record.tag

    def _refresh(self) -> None:
        """Read the run's entry again after a step was written."""
        self.record = self.journal.get(self.tag) or self.record
        self.record.final_job = _proven_final(self.record)

    def _look(self, find: Any, what: str, step: str) -> Any:
        """What FIND finds on the server of a request (for STEP: upload, job) sent without an
        answer (looking twice)."""
        def waiting(seconds: float) -> None:
            self.env.info(f"batch run {self.tag}: {what} is not on the server; looking again in {seconds:g} s "
                          "before sending it")

        return look_twice(find, waiting, self._resume_hint(step))

    def resume_line(self) -> str:
        """`batch run TAG resumes with: COMMAND`, the end of every resume hint of this run."""
        return resume_line(self.tag, self.command, self.spec.reads_stdin())

    def in_flight(self) -> str:
        """What this run sent with no answer yet, as a note for an interruption ('' for nothing)."""
        record = self.journal.get(self.tag) or self.record
        if record.create_sent_at and not record.job_id:
            return "its batch job may exist on the server"
        sent = [step.name for step in record.uploads if step.sent_at and not step.file_id]
        return f"the upload {sent[0]} may exist on the server" if sent else ""

    def interrupted(self, note: str = "") -> None:
        """Say once, after Ctrl-C or SIGTERM, what the run did (NOTE) and the command that resumes it."""
        if not self.hinted:
            self.hinted = True
            self.env.info(f"interrupted: {note + '; ' if note else ''}{self.resume_line()}")

    def _resume_hint(self, what: str) -> str:
        """What to do after a request for WHAT failed with no sure answer."""
        from mistral_cli.batchrun.resume import looked_up

        return looked_up(f"the {what}", self.resume_line())

    # -- the steps ----------------------------------------------------------------------

    def ensure_job(self) -> str:
        """The run's job id: uploads what is not on the server yet, then creates the job, or
        adopts what an earlier start of this run sent."""
        if self.record.job_id:
            return self.record.job_id
        file_ids = [item if isinstance(item, str) else self._upload(step)
                    for item, step in zip(self.spec.inputs, self._steps_in_input_order())]
        return self._create(file_ids)

    def _steps_in_input_order(self) -> Iterator[UploadStep | None]:
        """For each input in order, its upload step (None for a file id)."""
        steps = iter(self.record.uploads)
        for item in self.spec.inputs:
            yield None if isinstance(item, str) else next(steps)

    def _upload(self, step: UploadStep | None) -> str:
        """The file id of upload STEP: known, found on the server, or uploaded now."""
        assert step is not None
        if step.file_id:
            return step.file_id
        if step.sent_at:
            found = self._look(lambda: find_upload(self.env.client, step.name, step.bytes), step.name, "upload")
            if found:
                self.journal.upload_done(self.tag, step.seq, found)
                self.env.info(f"found {step.name} on the server as {found} (its upload's answer was lost)")
                return found
        self.journal.upload_sent(self.tag, step.seq)
        try:
            body = self._send_upload(step)
        except MCLIError as exc:
            if _surely_not_acted(exc):
                self.journal.upload_unsent(self.tag, step.seq)
            else:
                exc.hint = self._resume_hint("upload")
            raise
        file_id = answer_id(body, "files.upload")
        self.journal.upload_done(self.tag, step.seq, file_id)
        self.env.info(f"uploaded {step.source} as {file_id} ({step.name})")
        return file_id

    def _send_upload(self, step: UploadStep) -> Any:
        """POST the file of STEP under its tagged name (purpose batch, with a progress bar)."""
        from mistral_cli.api.files import upload_file

        with progress_bar(self.env, f"uploading {step.name}", step.bytes) as on_progress:
            return upload_file(self.env.client, self.paths[step.seq], purpose="batch", name=step.name,
                               on_progress=on_progress)

    def _create(self, file_ids: list[str]) -> str:
        """The job id: found on the server when an earlier create got no answer, else created now."""
        if self.record.create_sent_at:
            found = self._look(lambda: find_job(self.env.client, self.tag, self.record.create_sent_at),
                               "its batch job", "job")
            if found:
                job_id = str(found["id"])
                self.journal.job_known(self.tag, job_id)
                self.env.info(f"found batch job {job_id} of run {self.tag} on the server "
                              "(its create's answer was lost)")
                return self._known(job_id, found)
        self.journal.create_sent(self.tag)
        try:
            body = self._send_create(file_ids)
        except MCLIError as exc:
            if _surely_not_acted(exc):
                self.journal.create_unsent(self.tag)
                if isinstance(exc, NotFoundError):
                    self._forget_gone_uploads(exc)
            else:
                exc.hint = self._resume_hint("job")
            raise
        job_id = answer_id(body, "batch.create")
        with job_created("batch job", job_id, f"mcli batch get {job_id}"):  # a full disk here
            self.journal.job_known(self.tag, job_id)
        self.env.info(f"created batch job {job_id} (batch run {self.tag})")
        return self._known(job_id, body)

    def _forget_gone_uploads(self, exc: MCLIError) -> None:
        """After a create answered 404: the run's uploads no longer on the server are marked
        unsent (the resume uploads them again instead of failing the same way forever), and
        EXC says so and how to resume."""
        self._refresh()
        gone = [step for step in self.record.uploads if step.file_id and not self._still_there(step.file_id)]
        for step in gone:
            self.journal.upload_unsent(self.tag, step.seq)
        if gone:
            names = ", ".join(f"{step.file_id} ({step.source})" for step in gone)
            exc.message += f"; batch run {self.tag} uploaded file(s) no longer on the server: {names}"
            exc.hint = f"the run uploads them again, then creates its job; {self.resume_line()}"
            self._refresh()

    def _still_there(self, file_id: str) -> bool:
        """Whether FILE_ID is still on the server (True when that cannot be told)."""
        from mistral_cli.api.operations import call

        try:
            body = call(self.env.client, "files.retrieve", file_id)
        except NotFoundError:
            return False
        except MCLIError:
            return True
        return not (isinstance(body, dict) and body.get("deleted") is True)

    def _send_create(self, file_ids: list[str]) -> Any:
        """POST the job of FILE_IDS, its metadata carrying the run's tag."""
        from mistral_cli.api.batch import create_job

        spec = self.spec
        return create_job(self.env.client, input_files=file_ids, endpoint=spec.endpoint, model=spec.model,
                          metadata={**spec.metadata, TAG_KEY: self.tag}, timeout_hours=spec.timeout_hours,
                          extra=spec.extra)

    def _known(self, job_id: str, body: dict) -> str:
        """Keep BODY as the job last heard of; JOB_ID."""
        self.job_body = body
        self._refresh()
        return job_id

    # -- what the caller learnt -----------------------------------------------------------

    def ended(self, body: Any) -> None:
        """The job ended with BODY (its final state): kept, so the run can be shown again, if
        BODY proves it; a body of another job is an error; a SUCCESS without a result file is
        not kept (the next start asks the server again)."""
        from mistral_cli.bodies.batch import BatchJob

        job_id = self.record.job_id
        request = describe("batch.get", job_id)
        job = BatchJob.parse(body, request)
        if job.id != job_id:  # never kept: the next start asks again
            raise UnexpectedResponse(request, "id", f"{job.id[:80]!r} is not the job asked for")
        if _proves_end(job):
            self.journal.ended(self.tag, body)
            self._refresh()
        else:
            self.env.verbose(f"batch run {self.tag}: the job's final state ({job.status_text}, no result file) "
                             "is not kept; the next start asks the server again")

    def saving(self, folder: Path) -> None:
        """The results are about to be written into FOLDER."""
        self.journal.saving(self.tag, {"dir": str(folder.resolve()), "complete": False, "files": []})
        self._refresh()

    def saved(self, folder: Path, paths: list[Path]) -> None:
        """The results were written: PATHS in FOLDER (their sizes are kept to notice changes)."""
        files = [{"path": str(path.resolve()), "bytes": path.stat().st_size} for path in paths]
        self.journal.saved(self.tag, {"dir": str(folder.resolve()), "complete": True, "files": files})
        self._refresh()

    def owns(self, folder: Path) -> bool:
        """Whether this run was writing or wrote its results into FOLDER (its files there are its own)."""
        results = self.record.results or {}
        return results.get("dir") == str(folder.resolve())

    def saved_files(self, folder: Path) -> list[Path] | None:
        """The result files saved in FOLDER, if all are there unchanged; else None."""
        results = self.record.results or {}
        if not self.owns(folder) or not results.get("complete"):
            return None
        paths = [(Path(str(item.get("path"))), item.get("bytes")) for item in results.get("files") or []
                 if isinstance(item, dict)]
        if all(path.is_file() and path.stat().st_size == size for path, size in paths):
            return [path for path, _size in paths]
        return None


def remove_partial_downloads(folder: Path, names: list[str]) -> None:
    """Delete the temporary files a killed download of NAMES left in FOLDER (safe_files' naming):
    no clean-up runs on SIGKILL."""
    from mistral_cli.safe_files import temp_prefix

    for name in names:
        for leftover in folder.glob(f"{glob.escape(temp_prefix(name))}*.part"):
            try:
                leftover.unlink()
            except OSError:
                pass
