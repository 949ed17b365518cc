"""`fine-tuning create` as a run that happens once: its uploads and its job create are journalled.

The run journal (store/runs.py) holds fine-tuning runs beside the batch runs (kind
`fine-tuning create`). A run's fingerprint is the job it asks for (the JobIn, local files
by their SHA-256 and size, keys and tokens left out) with the server and profile. The same
command started again resumes the latest run of its fingerprint; `--new` starts another.

    upload i:  done (file id known)       -> nothing to send
               the same bytes uploaded before and still there (batchrun/reuse.py) -> reused
               sent, no answer            -> looked for by its tagged name; adopted, else sent
    create:    done (job id known)        -> the job is shown again (one GET), nothing created
               sent, no answer            -> looked for by intent (batchrun/adopt_intent.py):
                                             one match is adopted; several: nothing is created,
                                             the candidates are listed with the command that
                                             creates a new job anyway (`--new`)
               not sent, or refused       -> sent

An answer that proves a refusal (batchrun/resume.py's `refused`) marks the step unsent;
any other failure after sending leaves it `sent`, and the error's hint is the command that
resumes. Ctrl-C or SIGTERM while a request is out says what may exist and that command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.batchrun.adopt import answer_id, find_upload, look_twice
from mistral_cli.batchrun.fingerprint import file_digest, fingerprint, new_tag, without_credentials
from mistral_cli.batchrun.lock import RunLock
from mistral_cli.batchrun.resume import NEW, interrupted_note, refused, resume_hint, this_command
from mistral_cli.errors import MCLIError
from mistral_cli.store.runs import NewRun, Run, RunJournal, UploadStep, open_journal

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

KIND = "fine-tuning create"
PURPOSE = "fine-tune"
SECRET_KEYS = ("api_key", "token")
CELL = 80  # the most of one server field a candidate line shows


@dataclass(frozen=True)
class LocalFile:
    """A local training or validation file to upload, and how to name it in messages."""

    path: Path
    label: str


@dataclass
class FineTuningSpec:
    """What a run creates: MAKE_BODY turns the file ids of FILES (in order) into the JobIn;
    UPLOAD(path, name) sends one file and returns the server's UploadFileOut."""

    files: list[LocalFile]
    make_body: Callable[[list[str]], dict]
    upload: Callable[[Path, str], Any]


class AmbiguousJob(MCLIError):
    """More than one job on the server may be the one a lost create made: nothing is created."""


@contextmanager
def open_fine_tuning_run(env: "Env", spec: FineTuningSpec, *, fresh: bool) -> Iterator["FineTuningRun"]:
    """The run of SPEC, held by this process until the block ends: the latest one with the
    same fingerprint, or (FRESH, or none yet) a new one."""
    new_run, paths = _new_run(env, spec)
    lock = RunLock(env.environ)
    journal = open_journal(env)
    try:
        record, resumed = journal.claim(new_run, fresh=fresh, hold=lock.hold)
        if resumed:
            env.info(f"resuming fine-tuning run {record.tag} ({record.state}); --new starts a separate run")
        yield FineTuningRun(env, journal, record, spec, paths)
    finally:
        lock.release()
        journal.close()


def _new_run(env: "Env", spec: FineTuningSpec) -> tuple[NewRun, dict[int, Path]]:
    """The journal entry a new run of SPEC would get, and its local files by upload number."""
    digests = [(item, *file_digest(item.path)) for item in spec.files]
    job = without_secrets(spec.make_body([f"local:{sha}:{size}" for _item, sha, size in digests]))
    parts = {"kind": KIND, "server": without_credentials(env.server_url), "profile": env.known_profile(),
             "job": job}
    print_ = fingerprint(parts)
    tag = new_tag(print_)
    steps = [UploadStep(seq, item.label, upload_name(tag, seq, item.path), size, sha)
             for seq, (item, sha, size) in enumerate(digests, 1)]
    inputs = [str(item.path) for item in spec.files] + _file_ids(job)
    new_run = NewRun(tag, print_, KIND, parts["server"], parts["profile"], inputs, steps)
    return new_run, {seq: item.path for seq, (item, _sha, _size) in enumerate(digests, 1)}


def without_secrets(value: Any) -> Any:
    """VALUE (a JobIn or part of one) without API keys and tokens, which no journal keeps."""
    if isinstance(value, dict):
        return {key: without_secrets(item) for key, item in value.items() if key not in SECRET_KEYS}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def _file_ids(job: dict) -> list[str]:
    """The ids of files already on the server that JOB names (local files are listed apart)."""
    ids = [entry.get("file_id") for entry in job.get("training_files") or [] if isinstance(entry, dict)]
    ids += list(job.get("validation_files") or [])
    return [str(item) for item in ids if item and not str(item).startswith("local:")]


def upload_name(tag: str, seq: int, path: Path) -> str:
    """The name local file SEQ of run TAG is uploaded under: its own, and the run's tag."""
    return f"{path.stem}.mcli-run-{tag}-{seq}{path.suffix or '.jsonl'}"


class FineTuningRun:
    """One journalled fine-tuning run held by this process (see the module docstring)."""

    def __init__(self, env: "Env", journal: RunJournal, record: Run, spec: FineTuningSpec,
                 paths: dict[int, Path]):
        self.env = env
        self.journal = journal
        self.record = record
        self.spec = spec
        self.paths = paths
        self.how = "created"  # how this process came by the job: created, found or resumed

    @property
    def tag(self) -> str:
        """The run's tag."""
        return self.record.tag

    def ensure_job(self) -> dict:
        """The run's job as the server last showed it: created now, found after a lost answer,
        or (created before) fetched again; on Ctrl-C or SIGTERM, says how to resume."""
        try:
            return self._ensure_job()
        except KeyboardInterrupt:
            self._interrupted()
            raise

    def _ensure_job(self) -> dict:
        """ensure_job's steps."""
        from mistral_cli.api.operations import call

        if self.record.job_id:
            self.how = "resumed"
            return call(self.env.client, "fine_tuning.get", self.record.job_id)
        file_ids = [self._upload(step) for step in self.record.uploads]
        return self._create(self.spec.make_body(file_ids))

    def _interrupted(self) -> None:
        """Say what the run may have made on the server and the command that resumes it."""
        record = self.journal.get(self.tag) or self.record
        sent = [step.source for step in record.uploads if step.sent_at and not step.file_id]
        if record.create_sent_at and not record.job_id:
            interrupted_note(self.env, "its fine-tuning job", self.tag, "fine-tuning")
        elif sent:
            interrupted_note(self.env, f"the upload of {sent[0]}", self.tag, "fine-tuning")

    def _waiting(self, what: str) -> Callable[[float], None]:
        """What to say while waiting to look for WHAT a second time."""
        def say(seconds: float) -> None:
            self.env.info(f"fine-tuning run {self.tag}: {what} is not on the server; looking again in "
                          f"{seconds:g} s before sending it")
        return say

    # -- uploads --------------------------------------------------------------------------

    def _upload(self, step: UploadStep) -> str:
        """The file id of upload STEP: known, reused, found on the server, or uploaded now."""
        from mistral_cli.batchrun.reuse import upload_once

        if step.file_id:
            return step.file_id
        sent: list[bool] = []
        file_id, reused = upload_once(self.env, self.paths[step.seq], PURPOSE,
                                      lambda: self._send_upload(step, sent))
        self.journal.upload_done(self.tag, step.seq, file_id)
        done = "reusing the earlier upload of" if reused else "uploaded" if sent else "found the upload of"
        self.env.info(f"{done} {step.source} as {file_id}")
        return file_id

    def _send_upload(self, step: UploadStep, sent: list[bool]) -> Any:
        """The UploadFileOut of STEP: found on the server after a lost answer, else sent now
        (SENT gets an entry when it is)."""
        if step.sent_at:
            found = look_twice(lambda: find_upload(self.env.client, step.name, step.bytes, PURPOSE),
                               self._waiting(step.name),
                               resume_hint(self.env, f"the upload of {step.source}", self.tag, "fine-tuning"))
            if found:
                return {"id": found}
        self.journal.upload_sent(self.tag, step.seq)
        try:
            body = self.spec.upload(self.paths[step.seq], step.name)
        except MCLIError as exc:
            if refused(exc):
                self.journal.upload_unsent(self.tag, step.seq)
            else:
                exc.hint = resume_hint(self.env, f"the upload of {step.source}", self.tag, "fine-tuning")
            raise
        sent.append(True)
        return body

    # -- the create -----------------------------------------------------------------------

    def _create(self, body: dict) -> dict:
        """The job of BODY: found on the server when an earlier create got no answer, else created now."""
        from mistral_cli.api.fine_tuning import create_job

        if self.record.create_sent_at:
            found = self._adopt(body, self.record.create_sent_at)
            if found is not None:
                return found
        self.journal.create_sent(self.tag)
        try:
            answer = create_job(self.env.client, body)
        except MCLIError as exc:
            if refused(exc):
                self.journal.create_unsent(self.tag)
            else:
                exc.hint = resume_hint(self.env, "the fine-tuning job", self.tag, "fine-tuning")
            raise
        job_id = answer_id(answer, "fine_tuning.create")
        self.journal.job_known(self.tag, job_id)
        return answer

    def _adopt(self, body: dict, sent_at: str) -> dict | None:
        """The job a create sent at SENT_AT made, found by intent; None when there is none;
        AmbiguousJob when several could be it."""
        from mistral_cli.batchrun.adopt_intent import find_jobs

        known = {run.job_id for run in self.journal.runs() if run.job_id and run.tag != self.tag}
        found = look_twice(lambda: find_jobs(self.env.client, body, sent_at, known) or None,
                           self._waiting("its fine-tuning job"),
                           resume_hint(self.env, "the fine-tuning job", self.tag, "fine-tuning"))
        if not found:
            return None
        if len(found) > 1:
            raise self._ambiguous(found, sent_at)
        job = found[0]
        self.journal.job_known(self.tag, str(job["id"]))
        self.how = "found"
        return job

    def _ambiguous(self, jobs: list[dict], sent_at: str) -> AmbiguousJob:
        """The error that lists JOBS, each of which may be this run's, and what to do."""
        from mistral_cli.times import iso

        def cell(value: Any) -> str:
            return str(value)[:CELL]

        lines = [f"{job.get('id')}  {cell(job.get('status'))}  created {iso(job.get('created_at'))}  "
                 f"{cell(job.get('model'))}  suffix {cell(job.get('suffix'))}" for job in jobs]
        return AmbiguousJob(
            f"fine-tuning run {self.tag}: its create (sent {sent_at}) got no answer, and {len(jobs)} jobs "
            "on the server match it; nothing was created", details=lines,
            hint=f"follow the one that is yours with `mcli fine-tuning watch JOB_ID`; to create a new job "
                 f"anyway (billed again): {this_command(self.env)} {NEW}")
