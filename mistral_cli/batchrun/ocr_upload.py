"""`mcli ocr` on a local document: the document's upload is sent once, whatever is interrupted.

The upload is a run in the run journal (store/runs.py, kind `ocr upload`) whose fingerprint is
the document's bytes (SHA-256 and size) with the server and profile. Its one step is the
upload, sent under the document's name and the run's tag (`report.mcli-run-TAG-1.pdf`),
which is how a later start finds it on the server when the answer was lost:

    the same bytes uploaded before and still there (batchrun/reuse.py) -> reused, one GET
    sent, no answer (killed, 408, 5xx, a reset)  -> looked for by its tagged name; adopted, else sent
    refused (batchrun/resume.py's `refused`)     -> nothing to look for next time

Ctrl-C or SIGTERM while the upload is out says that it may exist and the command that resumes.
The run's lock is held for the upload only, never during the OCR request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.batchrun.adopt import find_upload, look_twice
from mistral_cli.batchrun.fingerprint import file_digest, fingerprint, new_tag, without_credentials
from mistral_cli.batchrun.lock import RunBusy, RunLock
from mistral_cli.batchrun.resume import looked_up, refused, resume_line, this_command
from mistral_cli.errors import MCLIError
from mistral_cli.store.runs import NewRun, RunJournal, UploadStep, open_journal

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

KIND = "ocr upload"
PURPOSE = "ocr"
Send = Callable[[str], Any]  # uploads the document under a name; returns the UploadFileOut


def upload_once(env: "Env", path: Path, label: str, stdin: bool, send: Send) -> tuple[str, str]:
    """The file id of PATH's bytes uploaded for OCR, and how it came: `uploaded` now, `reused`
    (an earlier upload still there) or `found` (an upload whose answer was lost); SEND(name)
    uploads the document under NAME. LABEL names the document in messages; STDIN: it came on
    standard input, which the command run again needs too."""
    new_run = _new_run(env, path, label)
    lock = RunLock(env.environ)
    journal = open_journal(env)
    try:
        try:
            record, _resumed = journal.claim(new_run, fresh=False, hold=lock.hold)
        except RunBusy:
            raise RunBusy(f"the upload of {label} is in progress in another mcli process",
                          hint="wait for it to finish, then run the command again: it reuses that upload") from None
        step = record.uploads[0]
        try:
            return _upload(env, journal, Hint(record.tag, stdin), step, path, send)
        except KeyboardInterrupt:
            _interrupted(env, journal, Hint(record.tag, stdin))
            raise
    finally:
        lock.release()
        journal.close()


def _new_run(env: "Env", path: Path, label: str) -> NewRun:
    """The journal entry a new upload run of PATH's bytes would get."""
    sha, size = file_digest(path)
    parts = {"kind": KIND, "server": without_credentials(env.server_url), "profile": env.known_profile(),
             "sha256": sha, "bytes": size}
    print_ = fingerprint(parts)
    tag = new_tag(print_)
    step = UploadStep(1, label, upload_name(tag, path), size, sha)
    return NewRun(tag, print_, KIND, parts["server"], parts["profile"], [str(path)], [step])


def upload_name(tag: str, path: Path) -> str:
    """The name the document at PATH is uploaded under by run TAG: its own, and the run's tag."""
    return f"{path.stem}.mcli-run-{tag}-1{path.suffix}"


@dataclass(frozen=True)
class Hint:
    """What a resume hint names: the run's TAG, and whether its input came on standard input."""

    tag: str
    stdin: bool

    def line(self, env: "Env") -> str:
        """`ocr upload run TAG resumes with: COMMAND`."""
        return resume_line(self.tag, this_command(env), stdin=self.stdin, kind=KIND)


def _upload(env: "Env", journal: RunJournal, hint: Hint, step: UploadStep, path: Path,
            send: Send) -> tuple[str, str]:
    """upload_once's steps, the run held."""
    from mistral_cli.batchrun import reuse

    sent: list[bool] = []
    file_id, reused = reuse.upload_once(env, path, PURPOSE, lambda: _send(env, journal, hint, step, send, sent))
    journal.upload_done(hint.tag, step.seq, file_id)
    return file_id, "reused" if reused else "uploaded" if sent else "found"


def _send(env: "Env", journal: RunJournal, hint: Hint, step: UploadStep, send: Send, sent: list[bool]) -> Any:
    """STEP's UploadFileOut: found on the server after a lost answer, else sent now (SENT
    gets an entry when it is)."""
    if step.sent_at and not step.file_id:
        def say(seconds: float) -> None:
            env.info(f"ocr upload run {hint.tag}: the upload of {step.source} is not on the server; looking "
                     f"again in {seconds:g} s before sending it")

        found = look_twice(lambda: find_upload(env.client, step.name, step.bytes, PURPOSE), say,
                           looked_up(f"the upload of {step.source}", hint.line(env)))
        if found:
            return {"id": found}
    journal.upload_sent(hint.tag, step.seq)
    try:
        body = send(step.name)
    except MCLIError as exc:
        if refused(exc):
            journal.upload_unsent(hint.tag, step.seq)
        else:
            exc.hint = looked_up(f"the upload of {step.source}", hint.line(env))
        raise
    sent.append(True)
    return body


def _interrupted(env: "Env", journal: RunJournal, hint: Hint) -> None:
    """After Ctrl-C or SIGTERM: say that the upload may exist, and the command that resumes."""
    record = journal.get(hint.tag)
    step = record.uploads[0] if record and record.uploads else None
    if step and step.sent_at and not step.file_id:
        env.info(f"interrupted: the upload of {step.source} may exist on the server; {hint.line(env)}")
