"""`mcli batch`: the four batch job operations (create, list, get, cancel), plus watch and results.

Inputs (`--input`, `--from-prompts`, `--metadata`) live in inputs.py, following a job in
watch.py, its results in results.py, runs that happen once in run.py; this module parses options and wires them.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.api.batch import OCR_ENDPOINT, BatchEndpoint
from mistral_cli.api.operations import call, describe, fetch_object
from mistral_cli.bodies.batch_status import BatchStatus
from mistral_cli.bodies.fields import BATCH_FIELDS
from mistral_cli.commands.batch import inputs
from mistral_cli.commands.batch import run as batch_run
from mistral_cli.commands.batch.results import print_answers, save_results
from mistral_cli.commands.batch.watch import BatchAdapter, watch_job
from mistral_cli.commands.shared import watching
from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import (
    AllPagesOpt,
    BodyOpt,
    FieldOpt,
    OpenChoice,
    OutputOpt,
    PageOpt,
    PageSizeOpt,
    YesOpt,
    env_of,
    epilog,
    number_option,
    warn_unknown_value,
)
from mistral_cli.commands.shared.interval import DEFAULT_INTERVAL, IntervalOpt, check_interval
from mistral_cli.commands.shared.listing import show_list
from mistral_cli.commands.shared.spending import EstimateOpt, MaxCostOpt, start_batch_run
from mistral_cli.errors import UsageError, job_created
from mistral_cli.generation.args import RANGES
from mistral_cli.inputs import check_datetime, check_uuid, confirm, request_base
from mistral_cli.numbers import Bound
from mistral_cli.render.output import Column, OutputFormat, emit_object

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

app = McliTyper(help="Run many requests at once on Mistral's batch engine.", no_args_is_help=True,
                epilog=epilog("mcli batch create --from-prompts prompts.txt --model mistral-small-latest --watch",
                              "mcli batch list", "mcli batch runs"))

EXAMPLE_ID = "b2c5a1d4-2f8e-4f0c-9b1a-6d3e8f7a9c10"


def _progress(job: dict) -> str:
    done = (job.get("succeeded_requests") or 0) + (job.get("failed_requests") or 0)
    return f"{done}/{job.get('total_requests') or 0}"


LIST_COLUMNS = (
    Column("ID", "id", "id", priority=0),
    Column("STATUS", "status", "status"),
    Column("MODEL", "model", "id", priority=2),  # an id: whole, or left out (and named), never cut
    Column("ENDPOINT", "endpoint", priority=5),
    Column("DONE", _progress, priority=2),
    Column("FAILED", "failed_requests", priority=4),
    Column("CREATED", "created_at", "time", priority=4),
)
DETAIL_FIELDS = (
    Column("ID", "id", "id"),
    Column("STATUS", "status", "status"),
    Column("MODEL", "model"),
    Column("ENDPOINT", "endpoint"),
    Column("REQUESTS", "total_requests"),
    Column("SUCCEEDED", "succeeded_requests"),
    Column("FAILED", "failed_requests"),
    Column("INPUT FILES", "input_files", "list"),
    Column("OUTPUT FILE", "output_file", "id"),
    Column("ERROR FILE", "error_file", "id"),
    Column("METADATA", "metadata"),
    Column("ERRORS", lambda job: "; ".join(str(e.get("message")) for e in _listed(job.get("errors"))
                                           if isinstance(e, dict))),
    Column("CREATED", "created_at", "time"),
    Column("STARTED", "started_at", "time"),
    Column("COMPLETED", "completed_at", "time"),
)

JobIdArg = Annotated[str, typer.Argument(metavar="JOB_ID", help="Batch job id (a UUID).", show_default=False)]


def _listed(value: Any) -> list:
    """VALUE if the server sent a list there, else nothing."""
    return value if isinstance(value, list) else []
MetadataOpt = Annotated[Optional[list[str]], typer.Option(
    "--metadata", metavar="KEY=VALUE", help="Metadata pair (repeatable).", show_default=False)]


def register(root: typer.Typer) -> None:
    """Add the `batch` group to the root app."""
    root.add_typer(app, name="batch")


# -- create ------------------------------------------------------------------------------


@app.command("create", epilog=epilog(
    "mcli batch create --input requests.jsonl --endpoint /v1/chat/completions --model mistral-small-latest",
    "mcli batch create --from-prompts prompts.txt --model mistral-small-latest -s 'Answer in one word.' "
    "--watch --results-dir out",
    "cat prompts.txt | mcli batch create --from-prompts - --model mistral-small-latest --max-tokens 200",
    f"mcli batch create --input {EXAMPLE_ID} --endpoint /v1/embeddings --model mistral-embed "
    "--metadata team=search -o text"))
def create(
    ctx: typer.Context,
    input_: Annotated[Optional[list[str]], typer.Option(
        "--input", "-i", metavar="PATH|ID", show_default=False,
        help="Request file: a local JSONL ('-': standard input; checked, then uploaded) or a file id (repeatable).")] = None,
    from_prompts: Annotated[Optional[str], typer.Option(
        "--from-prompts", metavar="FILE|-", show_default=False,
        help="One prompt per line (- for stdin): each becomes a chat request, custom_id = its line number.")] = None,
    endpoint: Annotated[Optional[str], typer.Option(
        "--endpoint", metavar="ENDPOINT", show_default=False, parser=OpenChoice(e.value for e in BatchEndpoint),
        help="Endpoint every request goes to: " + ", ".join(e.value for e in BatchEndpoint)
        + f" (with --from-prompts: the chat one); another ({OCR_ENDPOINT}) is sent with a warning.")] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", show_default=False,
        help="Model for every request (default: the profile's model for the endpoint, as the "
        "online commands use it).")] = None,
    metadata: MetadataOpt = None,
    timeout_hours: Annotated[Optional[int], number_option(
        Bound("--timeout-hours", 1, None, integer=True), help="Hours before the job times out (server default 24)",
        show_default=False)] = None,
    system: Annotated[Optional[str], typer.Option(
        "--system", "-s", help="System prompt of every request (--from-prompts).", show_default=False)] = None,
    max_tokens: Annotated[Optional[int], number_option(
        RANGES["max_tokens"], help="Most tokens per answer (--from-prompts)", show_default=False)] = None,
    temperature: Annotated[Optional[float], number_option(
        RANGES["temperature"], help="Sampling temperature (--from-prompts)", show_default=False)] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Follow the new job until it ends.")] = False,
    results_dir: Annotated[Optional[Path], typer.Option(
        "--results-dir", metavar="DIR", help="With --watch: save the result files here at the end.",
        show_default=False)] = None,
    interval: IntervalOpt = DEFAULT_INTERVAL,
    body: BodyOpt = None,
    body_fields: FieldOpt = None,
    new: Annotated[bool, typer.Option(
        "--new", help="Start a separate run of the same input (by default, the same command "
        "resumes its last run: nothing is uploaded or created twice).")] = False,
    max_cost: MaxCostOpt = None,
    estimate: EstimateOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a batch job from request files or a file of prompts (exactly once: see --new)."""
    env = env_of(ctx)
    options = inputs.PromptOptions(system, max_tokens, temperature)
    endpoint_value = _check_create(from_prompts, input_ or [], endpoint, options, timeout_hours,
                                   watch, results_dir, interval)
    warn_unknown_value(env, "--endpoint", endpoint_value, tuple(e.value for e in BatchEndpoint))
    extra = job_fields(env, body, body_fields)
    model = model or inputs.default_model(env, endpoint_value)
    pairs = inputs.parse_metadata(metadata or [])
    with ExitStack() as stack:  # the prompts file is written (and checked) before any upload
        given = inputs.spool_stdin_input(env, input_ or [], stack)
        sorted_inputs = inputs.sort_inputs(given)
        sorted_inputs.labels = {Path(copy): "standard input" for copy, value in zip(given, input_ or [])
                                if copy != value}
        inputs.validate_files(sorted_inputs.paths, sorted_inputs.labels)
        prompts = (stack.enter_context(inputs.prompt_requests_file(env, from_prompts, options))
                   if from_prompts is not None else None)
        paths = [*sorted_inputs.paths, *([prompts] if prompts is not None else [])]
        if start_batch_run(env, max_cost, estimate, model, endpoint_value, paths, sorted_inputs.ids, output):
            return
        # every create is a run that happens once (local files and file ids alike): journalled,
        # so a start after a kill or a lost answer adopts the job instead of paying again
        spec = batch_run.spec_of(sorted_inputs, prompts, from_prompts, endpoint_value, model, pairs,
                                 timeout_hours, extra)
        shown = batch_run.create(env, spec, fresh=new, watch=watch, results_dir=results_dir,
                                 interval=interval, output=output)
        if shown is not None:
            _show_created(env, output, shown)


def _show_created(env: "Env", output: OutputFormat, body: dict) -> None:
    """Print the new job BODY; an output that fails (a full disk) still says the job exists."""
    job_id = body.get("id") if isinstance(body, dict) else None
    with job_created("batch job", job_id, f"mcli batch get {job_id}"):
        emit_object(env, output, body, DETAIL_FIELDS if env.stdout_isatty else None, title="batch job")


def job_fields(env: "Env", body: Path | None, specs: list[str] | None) -> dict:
    """The job's --body and -F fields beyond its options (those the options set are refused)."""
    extra = request_base(env, body, specs, BATCH_FIELDS, "batch create")
    taken = sorted(set(extra) & BATCH_FIELDS)
    if taken:
        raise UsageError(f"--body/-F: {', '.join(taken)}: set by the options "
                         "(--input, --endpoint, --model, --metadata, --timeout-hours)")
    return extra


def _check_create(from_prompts: str | None, input_: list[str], endpoint: str | None,
                  options: inputs.PromptOptions, timeout_hours: int | None, watch: bool,
                  results_dir: Path | None, interval: float) -> str:
    """Refuse inconsistent create options before anything is read or sent; return the endpoint."""
    if from_prompts is None and not input_:
        raise UsageError("give the requests: --input PATH|ID (repeatable) or --from-prompts FILE|-")
    if from_prompts is None and (options.system, options.max_tokens, options.temperature) != (None,) * 3:
        raise UsageError("-s/--system, --max-tokens and --temperature shape --from-prompts requests; "
                         "give --from-prompts, or put them in the request file")
    if from_prompts is not None and endpoint not in (None, BatchEndpoint.chat.value):
        raise UsageError(f"--from-prompts makes chat requests: --endpoint must be {BatchEndpoint.chat.value}")
    if endpoint is None and from_prompts is None:
        raise UsageError("--endpoint is required with --input (for example --endpoint /v1/chat/completions)")
    if results_dir is not None and not watch:
        raise UsageError("--results-dir saves the results when the job ends: it needs --watch")
    check_interval(interval)
    return endpoint or BatchEndpoint.chat.value


app.command("runs", epilog=epilog(
    "mcli batch runs",
    "mcli batch runs 3fa9c2d1-7b2e0a4c",
    "mcli batch runs -o json | jq '.[] | select(.state != \"saved\") | .job_id'"))(batch_run.runs)


# -- list, get, cancel -------------------------------------------------------------------


@app.command("list", epilog=epilog(
    "mcli batch list",
    "mcli batch list --status RUNNING --status QUEUED --created-by-me",
    "mcli batch list --model mistral-small-latest --metadata team=search --all -o json",
    "mcli batch list --created-after 2025-01-01T00:00:00Z -o text"))
def list_(
    ctx: typer.Context,
    model: Annotated[Optional[str], typer.Option("--model", help="Only jobs of this model.", show_default=False)] = None,
    metadata: MetadataOpt = None,
    created_after: Annotated[Optional[str], typer.Option(
        "--created-after", metavar="DATETIME", help="Only jobs created after this ISO 8601 time.",
        show_default=False)] = None,
    created_by_me: Annotated[bool, typer.Option("--created-by-me", help="Only jobs you created.")] = False,
    status: Annotated[Optional[list[BatchStatus]], typer.Option(
        "--status", help="Only jobs in this status (repeatable).", show_default=False)] = None,
    page: PageOpt = None,
    page_size: PageSizeOpt = None,
    all_pages: AllPagesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List batch jobs."""
    env = env_of(ctx)
    filters = {"model": model, "metadata": inputs.metadata_filter(metadata or []),
               "created_after": check_datetime(created_after, "--created-after"),
               "created_by_me": created_by_me, "status": [s.value for s in status or ()]}
    show_list(env, "batch.list", filters, page=page, page_size=page_size, all_pages=all_pages,
              output=output, columns=LIST_COLUMNS)


@app.command("get", epilog=epilog(f"mcli batch get {EXAMPLE_ID}", f"mcli batch get {EXAMPLE_ID} -o json"))
def get(ctx: typer.Context, job_id: JobIdArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show one batch job: status, counts, files, errors."""
    env = env_of(ctx)
    check_uuid(job_id, "job id")
    body = fetch_object(env.client, "batch.get", job_id)
    emit_object(env, output, body, DETAIL_FIELDS if env.stdout_isatty else None, title="batch job")


@app.command("cancel", epilog=epilog(f"mcli batch cancel {EXAMPLE_ID}", f"mcli batch cancel {EXAMPLE_ID} --yes -o json"))
def cancel(ctx: typer.Context, job_id: JobIdArg, yes: YesOpt = False,
           output: OutputOpt = OutputFormat.table) -> None:
    """Ask for a batch job to be cancelled (asks first on a terminal)."""
    env = env_of(ctx)
    check_uuid(job_id, "job id")
    confirm(env, f"Cancel batch job {job_id}?", yes)
    body = fetch_object(env.client, "batch.cancel", job_id)
    env.info(watching.cancel_note(BatchAdapter(), job_id, body))
    if output is OutputFormat.table:  # shown as a job: checked as one, as fine-tuning cancel checks its job
        from mistral_cli.bodies.batch import BatchJob

        BatchJob.parse(body, describe("batch.cancel", job_id))
    emit_object(env, output, body, DETAIL_FIELDS if env.stdout_isatty else None, title="batch job")


# -- watch, results ----------------------------------------------------------------------


@app.command("watch", epilog=epilog(
    f"mcli batch watch {EXAMPLE_ID}",
    f"mcli batch watch {EXAMPLE_ID} -o jsonl > progress.jsonl",
    f"mcli batch watch {EXAMPLE_ID} --interval 30 && mcli batch results {EXAMPLE_ID} --answers"))
def watch(ctx: typer.Context, job_id: JobIdArg, interval: IntervalOpt = DEFAULT_INTERVAL,
          output: OutputOpt = OutputFormat.table) -> None:
    """Follow a batch job until it ends (exit 5 if it fails, times out or is cancelled)."""
    env = env_of(ctx)
    check_uuid(job_id, "job id")
    check_interval(interval)
    watch_job(env, job_id, output, interval,
              on_end=lambda body: batch_run.note_in_journal(env, job_id, body))


@app.command("results", epilog=epilog(
    f"mcli batch results {EXAMPLE_ID}",
    f"mcli batch results {EXAMPLE_ID} --dir results --force",
    f"mcli batch results {EXAMPLE_ID} --answers | sort -n > answers.tsv"))
def results(
    ctx: typer.Context,
    job_id: JobIdArg,
    directory: Annotated[Path, typer.Option("--dir", metavar="DIR", help="Folder to save the files in.")] = Path("."),
    answers: Annotated[bool, typer.Option(
        "--answers", help="Print `custom_id<TAB>answer` per request instead (errors on stderr).")] = False,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite existing files.")] = False,
) -> None:
    """Download a batch job's output and error files, or print its answers."""
    from mistral_cli.bodies.batch import BatchJob

    env = env_of(ctx)
    check_uuid(job_id, "job id")
    body = call(env.client, "batch.get", job_id)
    job = BatchJob.parse(body, describe("batch.get", job_id))
    if answers:
        print_answers(env, job_id, job)
        batch_run.note_in_journal(env, job_id, body)
    else:
        paths = save_results(env, job_id, job, directory, force)
        batch_run.note_in_journal(env, job_id, body, directory, paths)

