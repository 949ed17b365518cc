"""`mcli batch create` with local input as a run that happens once, and `mcli batch runs`.

The procedure (fingerprint, journal, upload and create once, adopt after a crash) lives in
batchrun/; this module puts it together with following the job (watch.py) and saving
its results (results.py). A run whose job has ended is shown again from the journal
without a request; its results are fetched again only when the folder asked for does not
hold them unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.commands.batch.watch import replay, watch_job
from mistral_cli.commands.shared.common_options import OutputOpt, env_of, number_option
from mistral_cli.errors import NotFoundError, UnexpectedResponse
from mistral_cli.numbers import Bound
from mistral_cli.render.human import short_path
from mistral_cli.render.output import Column, OutputFormat, emit_list, emit_object

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.batchrun.procedure import BatchRun, RunSpec
    from mistral_cli.bodies.batch import BatchJob
    from mistral_cli.commands.batch.inputs import RequestFiles
    from mistral_cli.env import Env

def _inputs(run: dict) -> str:
    """A run's inputs as one cell."""
    return ", ".join(map(str, run.get("inputs") or []))


RUN_COLUMNS = (
    Column("TAG", "tag", "id", priority=0),
    Column("STATE", "state"),
    Column("JOB", "job_id", "id", priority=4),  # the tag names the run in every batch command
    Column("INPUTS", _inputs, priority=5),
    Column("RESULTS", lambda run: (run.get("results") or {}).get("dir"), "path", show=short_path,
           priority=2),
    Column("UPDATED", "updated_at", "time", priority=3),
    Column("KIND", "kind", priority=1),  # last: the TSV's columns before it keep their places
)
RUN_FIELDS = (
    *RUN_COLUMNS[:2],
    Column("JOB", "job_id", "id"),
    Column("KIND", "kind"),
    Column("SERVER", "server"),
    Column("PROFILE", "profile"),
    Column("INPUTS", _inputs),
    Column("UPLOADS", lambda run: ", ".join(f"{up['name']} -> {up['file_id'] or ('sent' if up['sent_at'] else '-')}"
                                            for up in run.get("uploads") or [])),
    Column("JOB STATUS", lambda run: (run.get("final_job") or {}).get("status")),
    Column("RESULTS", lambda run: ", ".join(str(item.get("path")) for item in
                                            (run.get("results") or {}).get("files") or [])),
    Column("FINGERPRINT", "fingerprint"),
    Column("CREATED", "created_at", "time"),
    Column("UPDATED", "updated_at", "time"),
)
DEFAULT_LIMIT = 30


def spec_of(sorted_inputs: "RequestFiles", prompts: Path | None, from_prompts: str | None, endpoint: str,
            model: str, metadata: dict[str, str], timeout_hours: int | None,
            extra: dict | None = None) -> "RunSpec":
    """The run `batch create` makes of its inputs: the local files and file ids in the order
    given, then the request file made from --from-prompts."""
    from mistral_cli.batchrun.procedure import LocalInput, RunSpec

    items: list[LocalInput | str] = [LocalInput(path, str(path)) for path in sorted_inputs.paths]
    items += sorted_inputs.ids
    if prompts is not None:
        source = "standard input" if from_prompts == "-" else str(from_prompts)
        items.append(LocalInput(prompts, f"{source} (prompts)"))
    return RunSpec("batch create", endpoint, model, items, dict(metadata), timeout_hours, dict(extra or {}))


def create(env: "Env", spec: "RunSpec", *, fresh: bool, watch: bool, results_dir: Path | None,
           interval: float, output: OutputFormat) -> dict | None:
    """Run SPEC once: resume its last run (unless FRESH) or start one; return the job body to
    print when not watching, None when the watch showed it."""
    from mistral_cli.batchrun.procedure import open_run

    with open_run(env, spec, fresh=fresh) as run:
        body = run.record.final_job
        if body is None:
            job_id = run.ensure_job()
            if not watch:
                return run.job_body or _get(env, job_id)
            then = " and saves the results" if results_dir is not None else ""
            body = follow(env, run, job_id, output, interval, then)
        elif not watch:
            return body
        else:
            _replay(env, body, output)
        if results_dir is not None:
            _save(env, run, body, results_dir)
    return None


def _get(env: "Env", job_id: str) -> dict:
    """The job JOB_ID as the server has it now."""
    from mistral_cli.api.operations import call

    return call(env.client, "batch.get", job_id)


def follow(env: "Env", run: "BatchRun", job_id: str, output: OutputFormat, interval: float,
           then: str = "", quiet: bool = False, back_off: bool = False) -> Any:
    """Watch the run's job to its end (kept in the journal, also when it failed); its final
    body. THEN says what a start again does after the watch (for the Ctrl-C message)."""
    ended: list[Any] = []

    def on_end(body: Any) -> None:
        run.ended(body)
        ended.append(body)

    env.info(f"batch run {run.tag}: following batch job {job_id}")
    try:
        watch_job(env, job_id, output, interval, on_end=on_end, quiet=quiet, back_off=back_off)
    except KeyboardInterrupt:
        run.interrupted(f"resuming follows the job{then}")
        raise
    return ended[0]


def _replay(env: "Env", body: dict, output: OutputFormat) -> "BatchJob":
    """Show a finished run's final state as its watch did at the end (no request)."""
    return replay(env, body, output)


def _save(env: "Env", run: "BatchRun", body: dict, folder: Path) -> None:
    """Save the run's results into FOLDER, unless they are there already, unchanged."""
    from mistral_cli.batchrun.procedure import remove_partial_downloads
    from mistral_cli.api.operations import describe
    from mistral_cli.bodies.batch import BatchJob
    from mistral_cli.commands.batch.results import result_files, save_results

    saved = run.saved_files(folder)
    if saved is not None:
        env.info(f"results of batch run {run.tag} already saved: {', '.join(map(str, saved))}")
        return
    request = describe("batch.get", run.record.job_id)
    job = BatchJob.parse(body, request)
    if job.id != run.record.job_id:  # the file names come from the id mcli checked, never from a body
        raise UnexpectedResponse(request, "id", f"{job.id[:80]!r} is not the job asked for")
    ours = run.owns(folder)  # an earlier start of this run was writing there: its files are its own
    if ours:
        remove_partial_downloads(folder, [f"{job.id}.{kind}.jsonl" for kind, _id in result_files(job)])
    run.saving(folder)
    run.saved(folder, save_results(env, run.record.job_id, job, folder, force=ours))


def note_in_journal(env: "Env", job_id: str, body: Any, folder: Path | None = None,
                    paths: list[Path] | None = None) -> None:
    """What `batch watch` and `batch results` learnt of JOB_ID, kept in the run journal when
    the job is a journalled run's: its final BODY (if it proves the end) and the result files
    saved in FOLDER. A job of no run, or a journal that cannot be written, changes nothing."""
    from mistral_cli.store import StoreError
    from mistral_cli.store.runs import journal_path, open_journal

    if not journal_path(env).exists():
        return
    try:
        with open_journal(env) as journal:
            run = journal.by_job(job_id)
            if run is not None:
                _note(journal, run, body, folder, paths)
    except StoreError as exc:
        env.warn(f"batch job {job_id}: the run journal was not updated: {exc.message}")


def _note(journal: Any, run: Any, body: Any, folder: Path | None, paths: list[Path] | None) -> None:
    """Record BODY as RUN's end (unless it is kept already) and PATHS saved in FOLDER."""
    from mistral_cli.batchrun.procedure import proves_end_of

    if run.state != "saved" and proves_end_of(body, run.job_id):
        journal.ended(run.tag, body)
    if folder is not None and paths:
        files = [{"path": str(path.resolve()), "bytes": path.stat().st_size} for path in paths]
        journal.saved(run.tag, {"dir": str(folder.resolve()), "complete": True, "files": files})


# -- mcli batch runs ----------------------------------------------------------------------


def runs(
    ctx: typer.Context,
    tag: Annotated[Optional[str], typer.Argument(
        metavar="[TAG]", help="Show this run in full (its uploads, job and results).", show_default=False)] = None,
    limit: Annotated[int, number_option(Bound("--limit", 1, None, integer=True), "-n",
                                        help="Show at most this many runs, newest first")] = DEFAULT_LIMIT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Show the batch run journal: each run's state, job id and where its results are."""
    from mistral_cli.store.runs import open_existing_journal

    env = env_of(ctx)
    journal = open_existing_journal(env)
    try:
        if tag is not None:
            run = journal.get(tag) if journal else None
            if run is None:
                raise NotFoundError(f"no batch run {tag!r} in the journal",
                                    hint="`mcli batch runs` lists the runs")
            emit_object(env, output, run.to_dict(), RUN_FIELDS, id_key="tag", title=f"batch run {tag}")
            return
        items = [run.to_dict() for run in journal.runs(limit)] if journal else []
        emit_list(env, output, items, RUN_COLUMNS, id_key="tag")
    finally:
        if journal is not None:
            journal.close()
