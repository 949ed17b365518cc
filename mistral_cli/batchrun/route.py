"""`--via batch`: an analysis command's requests run as one job on Mistral's batch service,
printed exactly as the online route prints them.

    request file (requests_file.py: one line per input, custom_id = input number)
      -> the run, once (procedure.py: upload and create adopted after a kill)
      -> the job followed quietly (JOBS.follow: a bar on a terminal's stderr, nothing on stdout)
      -> its output and error files saved in the data folder (JOBS.save_results, private)
      -> every input's outcome in input order (in_order.py, flat memory)
      -> the command's own WRITE for each answer, so lines, order and formats match online

An input that failed in the job (or whose answer is malformed) is listed at the end, exit 1,
after the rest is written; `--fail-on` gives exit 6 as online; a job that ended FAILED,
TIMEOUT_EXCEEDED or CANCELLED prints what it answered and exits 5. The same command started
again resumes its run; a run that ended prints its saved results again with no request.

Following a job, judging its end and saving its files are the batch commands' (the layer
above): the caller lends them as JOBS (`Jobs`; commands/shared/via.py builds it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mistral_cli.errors import ContentFlaggedError, JobFailedError, MCLIError, NotFoundError, UnexpectedResponse
from mistral_cli.render.output import OutputFormat

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.batchrun.in_order import Outcome
    from mistral_cli.batchrun.procedure import BatchRun
    from mistral_cli.batchrun.requests_file import RequestsFile
    from mistral_cli.bodies.batch import BatchJob
    from mistral_cli.env import Env

RESULTS_FOLDER = "batch-results"  # in the data folder: one private folder per run, by tag
LISTED = 20  # failed inputs named in the error; the count covers the rest


@dataclass(frozen=True)
class Route:
    """One command's batch route: KIND names the command (it is part of the run's fingerprint)."""

    kind: str
    endpoint: str
    model: str
    fresh: bool
    interval: float
    source: str  # where the inputs come from, for messages and `mcli batch runs`
    unit: str = "input"


class Jobs(Protocol):
    """What the route borrows from the batch commands: follow a job, judge its end, save its files."""

    def follow(self, env: "Env", run: "BatchRun", job_id: str, output: OutputFormat, interval: float,
               then: str = "", quiet: bool = False) -> Any:
        """Watch the run's job to its end (kept in the journal, also when it failed); its final body."""

    def failure(self, job: "BatchJob") -> JobFailedError | None:
        """The error of a job that ended FAILED, TIMEOUT_EXCEEDED or CANCELLED; None otherwise."""

    def save_results(self, env: "Env", job_id: str, job: "BatchJob", directory: Path, force: bool) -> list[Path]:
        """Download the job's output and error files into DIRECTORY; their paths."""


@dataclass
class Failures:
    """Inputs that got no answer: how many, and the first LISTED of them with their reason."""

    count: int = 0
    listed: list[str] = field(default_factory=list)

    def add(self, number: int, reason: str) -> None:
        """Input NUMBER (from 0) failed for REASON."""
        self.count += 1
        if len(self.listed) < LISTED:
            self.listed.append(f"input {number + 1}: {reason}")


def run(env: "Env", route: Route, jobs: Jobs, bodies: Iterable[tuple[int, dict]], first: int,
        write: Callable[["Outcome"], None], finish: Callable[[], None]) -> int:
    """Send BODIES (input number, request body; numbers from FIRST) as one batch run, its job
    handled by JOBS, WRITE each answer in input order, then FINISH the output; return the
    number of inputs (0: nothing was sent). WRITE raises an MCLIError for an answer it cannot use."""
    from mistral_cli.batchrun.procedure import LocalInput, RunSpec, open_run
    from mistral_cli.batchrun.requests_file import requests_file

    with requests_file(bodies, first) as requests:
        if requests.count == 0:
            return 0
        spec = RunSpec(route.kind, route.endpoint, route.model,
                       [LocalInput(requests.path, f"{requests.count} {route.unit}(s) from {route.source}")])
        with open_run(env, spec, fresh=route.fresh) as batch_run:
            job, failed, files = _results(env, batch_run, route, jobs)
            try:
                failures = _write_in_order(env, requests, files, write)
            except KeyboardInterrupt:
                batch_run.interrupted("its results are saved: resuming prints them again, sending nothing")
                raise
    _end(job, failed, failures, requests.count, finish)
    return requests.count


def _results(env: "Env", batch_run: "BatchRun", route: Route,
             jobs: Jobs) -> tuple["BatchJob", JobFailedError | None, list[Path]]:
    """The run's ended job, its failure (if it ended badly) and its saved result files: saved
    before (no request), or the job followed to its end and its files downloaded now."""
    from mistral_cli.api.operations import describe
    from mistral_cli.bodies.batch import BatchJob

    folder = _folder(env, batch_run.tag)
    body = batch_run.record.final_job
    ended_before = body is not None
    if body is None:
        body = _follow(env, batch_run, route, jobs.follow)
    job = BatchJob.parse(body, describe("batch.get", batch_run.record.job_id))
    failed = jobs.failure(job)
    if failed is not None and ended_before:
        failed.hint = (f"this is batch run {batch_run.tag} again, as it ended; --new starts a separate "
                       "run (a new job, billed again)")
    saved = batch_run.saved_files(folder)
    if saved is not None:
        env.info(f"batch run {batch_run.tag} ended ({job.status_text}): printing its saved results; "
                 "nothing is sent")
        return job, failed, saved
    try:
        return job, failed, _download(env, batch_run, jobs, job, failed, folder)
    except KeyboardInterrupt:
        batch_run.interrupted("resuming downloads its results")
        raise


def _follow(env: "Env", batch_run: "BatchRun", route: Route, follow: Callable[..., Any]) -> dict:
    """Create the job if need be and FOLLOW it to its end; its final body (kept in the journal)."""
    job_id = batch_run.ensure_job()
    try:
        return follow(env, batch_run, job_id, OutputFormat.table, route.interval,
                      " and prints the results", quiet=True)
    except JobFailedError:
        if batch_run.record.final_job is None:
            raise
        return batch_run.record.final_job


def _folder(env: "Env", tag: str) -> Path:
    """The private folder of run TAG's result files."""
    from mistral_cli.config.paths import data_dir

    return data_dir(env.environ) / RESULTS_FOLDER / tag


def _download(env: "Env", batch_run: "BatchRun", jobs: Jobs, job: "BatchJob", failed: JobFailedError | None,
              folder: Path) -> list[Path]:
    """Save the job's output and error files into FOLDER (replacing what a killed start left)."""
    from mistral_cli.api.operations import describe
    from mistral_cli.batchrun.procedure import remove_partial_downloads
    from mistral_cli.config.paths import private_dir

    job_id = batch_run.record.job_id
    if job.id != job_id:  # file names come from the id mcli checked, never from a body
        raise UnexpectedResponse(describe("batch.get", job_id), "id", f"{job.id[:80]!r} is not the job asked for")
    if not (job.output_file or job.error_file):
        if failed is not None:
            raise failed
        raise NotFoundError(f"batch job {job_id} ended {job.status_text} without a result file")
    private_dir(folder, folder.parent.parent)  # the data folder, batch-results and the run's
    names = [f"{job_id}.{kind}.jsonl" for kind in ("output", "error")]
    remove_partial_downloads(folder, names)
    batch_run.saving(folder)
    paths = jobs.save_results(env, job_id, job, folder, force=True)
    batch_run.saved(folder, paths)
    return paths


def _write_in_order(env: "Env", requests: "RequestsFile", files: list[Path],
                    write: Callable[["Outcome"], None]) -> Failures:
    """WRITE every answered input in input order; the failed ones, counted and listed."""
    from mistral_cli.batchrun.in_order import in_order

    failures = Failures()
    for outcome in in_order(requests.path, files, requests.first, requests.count, env.warn):
        if outcome.error is not None:
            failures.add(outcome.number, outcome.error)
            continue
        try:
            write(outcome)
        except MCLIError as exc:
            failures.add(outcome.number, exc.message)
    return failures


def _end(job: "BatchJob", failed: JobFailedError | None, failures: Failures, total: int,
         finish: Callable[[], None]) -> None:
    """Finish the output, then say how the run ended: the job failed (exit 5), inputs failed
    (exit 1) or the gate tripped (exit 6), in that order; a tripped gate is named in the others."""
    flagged: ContentFlaggedError | None = None
    try:
        finish()
    except ContentFlaggedError as exc:
        flagged = exc
    details = failures.listed + ([f"and {failures.count - len(failures.listed)} more"]
                                 if failures.count > len(failures.listed) else [])
    if flagged is not None and (failed or failures.count):
        details.append(f"also: {flagged.message}")
    if failed is not None:
        failed.details[:0] = details
        raise failed
    if failures.count:
        raise MCLIError(f"{failures.count} of {total} input(s) got no answer in batch job {job.id}; "
                        "the others were written", details=details)
    if flagged is not None:
        raise flagged

