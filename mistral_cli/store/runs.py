"""The batch run journal: what each batch run has sent and what came back, in the local database.

A run is what one command with local input sets out to do on the batch engine: upload its
request files, create one job, follow it, save its results. Each step is committed before
its request goes out (`sent`) and again when the answer comes back (the file or job id), so a
process killed at any moment (SIGKILL included) leaves a journal that says what may already
exist on the server. `batchrun/` reads it to resume a run instead of repeating it.

    journal = open_journal(env)
    run, resumed = journal.claim(new_run, fresh=False, hold=lock)
    journal.upload_sent(run.tag, 1); ...; journal.upload_done(run.tag, 1, file_id)

A run's `state` is the furthest step it reached: new, uploading, creating, created, ended
(the job's final body is kept), saved (where its results were written is kept). The
database file is the history database (0600 in a 0700 folder); the journal holds ids,
hashes, sizes and the names of local files, never request contents or keys.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.store.conversations import store_path, utc_now
from mistral_cli.store.schema import connect, connect_reader, guarded, store_error, write_transaction
from mistral_cli.times import iso

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

STATES = ("new", "uploading", "creating", "created", "ended", "saved")  # in the order a run goes
_RUN_COLUMNS = ("tag, fingerprint, kind, server, profile, inputs, state, create_sent_at, job_id, "
                "final_job, results, created_at, updated_at")
_UPLOAD_COLUMNS = "seq, source, name, bytes, sha256, sent_at, file_id"


@dataclass
class UploadStep:
    """One request file of a run: where it came from, the tagged name it is uploaded under,
    its size and SHA-256, when its upload was sent, and the file id the server gave it."""

    seq: int
    source: str
    name: str
    bytes: int
    sha256: str
    sent_at: str | None = None
    file_id: str | None = None


@dataclass
class Run:
    """One journalled batch run (see the module docstring for its states)."""

    tag: str
    fingerprint: str
    kind: str
    server: str
    profile: str
    inputs: list[str]
    state: str
    create_sent_at: str | None
    job_id: str | None
    final_job: dict | None
    results: dict | None
    created_at: str
    updated_at: str
    uploads: list[UploadStep] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The run's fields, uploads included, for JSON output."""
        return asdict(self)


@dataclass
class NewRun:
    """What a run is before anything is sent: its tag, fingerprint and request files."""

    tag: str
    fingerprint: str
    kind: str
    server: str
    profile: str
    inputs: list[str]
    uploads: list[UploadStep]


def journal_path(env: "Env") -> Path:
    """Where the journal lives: in the history database (store_path), beside the conversations."""
    return store_path(env)


def open_journal(env: "Env") -> "RunJournal":
    """Open the journal of ENV, creating the database (and its folder) if needed."""
    return RunJournal(journal_path(env))


def open_existing_journal(env: "Env") -> "RunJournal | None":
    """The journal if its database exists, else None: listing never creates it, and opens it
    read-only when it may not write it."""
    path = journal_path(env)
    return RunJournal(path, reading=True) if path.exists() else None


_guarded = guarded("batch run journal")


def _json_or_none(text: str | None) -> Any:
    """TEXT decoded, or None (also for text that is not JSON: the journal must not break listing)."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


class RunJournal:
    """The batch run journal in the local database."""

    def __init__(self, path: Path, *, reading: bool = False):
        """Open PATH (see schema.connect); READING: for a command that only reads (read-only
        when this process may not write the file)."""
        self.path = Path(path)
        self.clock: Callable[[], Any] = utc_now
        try:
            self._conn = connect_reader(self.path) if reading else connect(self.path)
        except (sqlite3.Error, OSError) as exc:
            raise store_error("cannot open the batch run journal", self.path, exc,
                              "mcli needs it to run a batch exactly once; check the data folder "
                              "(MCLI_DATA_DIR)") from exc

    def __enter__(self) -> "RunJournal":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def _now(self) -> str:
        """The journal's clock, as ISO 8601 UTC to the second."""
        return iso(self.clock())

    # -- reading -------------------------------------------------------------------------

    def _run(self, row: Sequence[Any]) -> Run:
        """A run from its ROW (JSON columns decoded), with its upload steps."""
        values = list(row)
        values[5] = _json_or_none(values[5]) or []
        values[9] = _json_or_none(values[9])
        values[10] = _json_or_none(values[10])
        run = Run(*values)
        run.uploads = [UploadStep(*upload) for upload in self._conn.execute(
            f"SELECT {_UPLOAD_COLUMNS} FROM batch_run_uploads WHERE tag = ? ORDER BY seq", (run.tag,))]
        return run

    @_guarded
    def get(self, tag: str) -> Run | None:
        """The run TAG, or None."""
        row = self._conn.execute(f"SELECT {_RUN_COLUMNS} FROM batch_runs WHERE tag = ?", (tag,)).fetchone()
        return self._run(row) if row else None

    @_guarded
    def runs(self, limit: int | None = None) -> list[Run]:
        """The runs, newest first (at most LIMIT)."""
        rows = self._conn.execute(f"SELECT {_RUN_COLUMNS} FROM batch_runs ORDER BY rowid DESC LIMIT ?",
                                  (-1 if limit is None else limit,)).fetchall()
        return [self._run(row) for row in rows]

    @_guarded
    def by_job(self, job_id: str) -> Run | None:
        """The latest run whose job is JOB_ID, or None (a job made by hand belongs to no run)."""
        row = self._conn.execute(f"SELECT {_RUN_COLUMNS} FROM batch_runs WHERE job_id = ? "
                                 "ORDER BY rowid DESC LIMIT 1", (job_id,)).fetchone()
        return self._run(row) if row else None

    def _latest(self, fingerprint: str) -> Run | None:
        """The run of FINGERPRINT recorded last, or None."""
        row = self._conn.execute(f"SELECT {_RUN_COLUMNS} FROM batch_runs WHERE fingerprint = ? "
                                 "ORDER BY rowid DESC LIMIT 1", (fingerprint,)).fetchone()
        return self._run(row) if row else None

    # -- claiming a run ------------------------------------------------------------------

    @_guarded
    def claim(self, new_run: NewRun, *, fresh: bool, hold: Callable[[str], None]) -> tuple[Run, bool]:
        """The latest run with NEW_RUN's fingerprint (unless FRESH), else NEW_RUN recorded;
        HOLD(tag) takes the run's lock inside the same transaction, so two processes never
        both claim a run. Returns (run, whether it was resumed)."""
        with write_transaction(self._conn):
            run = None if fresh else self._latest(new_run.fingerprint)
            if run is None:
                self._insert(new_run)
            hold(run.tag if run else new_run.tag)
        return self.get(run.tag if run else new_run.tag), run is not None  # type: ignore[return-value]

    def _insert(self, new_run: NewRun) -> None:
        """Record NEW_RUN and its upload steps, nothing sent yet."""
        now = self._now()
        self._conn.execute(
            "INSERT INTO batch_runs (tag, fingerprint, kind, server, profile, inputs, state, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, 'new', ?, ?)",
            (new_run.tag, new_run.fingerprint, new_run.kind, new_run.server, new_run.profile,
             json.dumps(new_run.inputs), now, now))
        self._conn.executemany(
            "INSERT INTO batch_run_uploads (tag, seq, source, name, bytes, sha256) VALUES (?, ?, ?, ?, ?, ?)",
            [(new_run.tag, step.seq, step.source, step.name, step.bytes, step.sha256)
             for step in new_run.uploads])

    # -- steps ---------------------------------------------------------------------------

    def _update_run(self, tag: str, assignments: str, values: Sequence[Any]) -> None:
        """Set ASSIGNMENTS (SQL, `?` for VALUES) on run TAG, in a transaction of its own."""
        with write_transaction(self._conn):
            self._conn.execute(f"UPDATE batch_runs SET {assignments}, updated_at = ? WHERE tag = ?",
                               (*values, self._now(), tag))

    def _update_upload(self, tag: str, seq: int, sent_at: str | None, file_id: str | None) -> None:
        """Set upload SEQ of run TAG to SENT_AT and FILE_ID; the run is uploading."""
        with write_transaction(self._conn):
            self._conn.execute("UPDATE batch_run_uploads SET sent_at = ?, file_id = ? WHERE tag = ? AND seq = ?",
                               (sent_at, file_id, tag, seq))
            self._conn.execute("UPDATE batch_runs SET state = 'uploading', updated_at = ? WHERE tag = ?",
                               (self._now(), tag))

    @_guarded
    def upload_sent(self, tag: str, seq: int) -> None:
        """Upload SEQ of run TAG is about to be sent (committed before it goes out)."""
        self._update_upload(tag, seq, self._now(), None)

    @_guarded
    def upload_unsent(self, tag: str, seq: int) -> None:
        """Upload SEQ surely did not store a file (the server refused it): nothing to look for."""
        self._update_upload(tag, seq, None, None)

    @_guarded
    def upload_done(self, tag: str, seq: int, file_id: str) -> None:
        """Upload SEQ of run TAG is on the server as FILE_ID."""
        self._update_upload(tag, seq, self._now(), file_id)

    @_guarded
    def create_sent(self, tag: str) -> None:
        """The job create of run TAG is about to be sent (committed before it goes out)."""
        self._update_run(tag, "state = 'creating', create_sent_at = ?", (self._now(),))

    @_guarded
    def create_unsent(self, tag: str) -> None:
        """The job create surely created nothing (the server refused it)."""
        self._update_run(tag, "state = 'uploading', create_sent_at = NULL", ())

    @_guarded
    def job_known(self, tag: str, job_id: str) -> None:
        """Run TAG's job is JOB_ID (from the create's answer, or found on the server)."""
        self._update_run(tag, "state = 'created', job_id = ?", (job_id,))

    @_guarded
    def ended(self, tag: str, body: dict) -> None:
        """Run TAG's job ended; BODY is its final state as the server gave it."""
        self._update_run(tag, "state = 'ended', final_job = ?", (json.dumps(body),))

    @_guarded
    def saved(self, tag: str, results: dict) -> None:
        """Run TAG's results were written where RESULTS says (a folder and its files)."""
        self._update_run(tag, "state = 'saved', results = ?", (json.dumps(results),))

    @_guarded
    def saving(self, tag: str, results: dict) -> None:
        """Run TAG's results are about to be written where RESULTS says (state stays ended)."""
        self._update_run(tag, "results = ?", (json.dumps(results),))
