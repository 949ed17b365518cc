"""`mcli fine-tuning`: the five job operations (create, list, get, cancel, start), plus
`validate` (local training files) and `watch` (follow a job until it ends).

create lives in create.py, watch's loop and views in watch.py,
the option parsers in parse.py; this module declares the group.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.api import lists
from mistral_cli.api.operations import call, describe, fetch_object
from mistral_cli.api.pages import sum_totals
from mistral_cli.bodies.fine_tuning_enums import JobStatus, JobType
from mistral_cli.commands.fine_tuning import create as fine_tuning_create
from mistral_cli.commands.fine_tuning import watch as fine_tuning_watch
from mistral_cli.commands.fine_tuning.parse import parse_classifier_target, target_labels
from mistral_cli.commands.shared import watching
from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import (
    AllPagesOpt,
    OutputOpt,
    PageOpt,
    PageSizeOpt,
    YesOpt,
    env_of,
    epilog,
)
from mistral_cli.commands.shared.interval import IntervalOpt, check_interval
from mistral_cli.commands.shared.listing import show_list, show_page
from mistral_cli.errors import UsageError
from mistral_cli.inputs import check_datetime, check_paging, check_uuid, confirm, existing_file, is_stdin, stdin_as_file
from mistral_cli.numbers import DEFAULT_PAGE_SIZE
from mistral_cli.render.output import Column, OutputFormat, emit_list, emit_object, write_lines_raw

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

EXAMPLE_ID = "7ad642c1-fc6f-4a4a-8ab3-45e3d3c9f0b1"

app = McliTyper(help="Create, follow and manage fine-tuning jobs.", no_args_is_help=True,
                epilog=epilog("mcli fine-tuning validate train.jsonl",
                              "mcli fine-tuning create --model open-mistral-7b --training-file train.jsonl --watch",
                              "mcli fine-tuning list --status RUNNING",
                              f"mcli fine-tuning watch {EXAMPLE_ID}"))

LIST_COLUMNS = (
    Column("ID", "id", "id", priority=0),
    Column("STATUS", "status", "status"),
    Column("MODEL", "model", "id", priority=4),  # the result's id names its base model too
    Column("TYPE", "job_type", priority=6),
    Column("FINE-TUNED MODEL", "fine_tuned_model", "id", priority=2, under="ID"),  # the job's result
    Column("SUFFIX", "suffix", priority=2),  # the name the user gave the result
    Column("CREATED", "created_at", "time", priority=5),
)

JobIdArg = Annotated[str, typer.Argument(help="Fine-tuning job id (a UUID).", show_default=False,
                                         metavar="JOB_ID")]


def register(root: typer.Typer) -> None:
    """Add the `fine-tuning` group to the root app."""
    root.add_typer(app, name="fine-tuning")


app.command("create", epilog=epilog(*fine_tuning_create.EXAMPLES))(fine_tuning_create.create)


# -- validate ----------------------------------------------------------------------------


JOBS = "fine_tuning.list"


@app.command("validate", epilog=epilog(
    "mcli fine-tuning validate train.jsonl valid.jsonl",
    "mcli fine-tuning validate labels.jsonl --job-type classifier --classifier-target 'sentiment=positive,negative'",
    "mcli fine-tuning validate train.jsonl -o json"))
def validate(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(
        help="JSONL training files ('-': standard input).", show_default=False)],
    job_type: Annotated[JobType, typer.Option("--job-type", help="The format to check: completion (chat) or classifier.")] = JobType.completion,
    classifier_target: Annotated[Optional[list[str]], typer.Option(
        "--classifier-target", metavar="NAME=LABEL,LABEL[;...]",
        help="With --job-type classifier: the targets and labels a line may use; repeatable.")] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Check training files line by line (constant memory); exit 2 on any problem."""
    from mistral_cli.validate.training import check_training_file

    env = env_of(ctx)
    targets = [parse_classifier_target(text) for text in classifier_target or []]
    labels = target_labels(targets) if targets else None
    if sum(is_stdin(path) for path in paths) > 1:
        raise UsageError("fine-tuning validate: standard input can be read only once")
    for path in paths:
        if not is_stdin(path):
            existing_file(path, "fine-tuning validate")
    reports = []
    for path in paths:
        if is_stdin(path):  # read into a file: the check reads it line by line, in constant memory
            with stdin_as_file(env, "fine-tuning validate") as copy:
                reports.append(check_training_file(copy, job_type.value, labels, "standard input"))
        else:
            reports.append(check_training_file(path, job_type.value, labels))
    _show_reports(env, reports, output)
    bad = [report for report in reports if not report.ok]
    if bad:
        raise UsageError(f"{len(bad)} of {len(reports)} file(s) have problems",
                         details=[line for report in bad for line in report.shown()])


def _show_reports(env: "Env", reports: list, output: OutputFormat) -> None:
    """One summary per file (json: objects with the problems shown)."""
    from mistral_cli.render.human import size

    if output in (OutputFormat.json, OutputFormat.jsonl):
        rows = [{"path": r.path, "ok": r.ok, "lines": r.lines, "examples": r.examples,
                 "blank_lines": r.blank_lines, "bytes": r.bytes,
                 "problem_count": r.problem_count, "problems": r.problems} for r in reports]
        emit_list(env, output, rows, (), body=rows)
    elif output is OutputFormat.text:
        write_lines_raw(env, (r.path for r in reports if r.ok))
    elif env.stdout_isatty:
        write_lines_raw(env, (f"{r.path}: {_state(r)}, {r.examples:,} examples{_blanks(r, ', ')}, "
                              f"{size(r.bytes)}" for r in reports))
    else:
        write_lines_raw(env, (f"{r.path}\t{_state(r)}\t{r.examples}\t{r.bytes}" for r in reports))
        for report in reports:
            if report.blank_lines:
                env.info(f"{report.path}:{_blanks(report, ' ')}")


def _blanks(report: Any, lead: str) -> str:
    """The note on a file's blank lines (skipped, not examples), or ""."""
    count = report.blank_lines
    return f"{lead}{count:,} blank line{'s' if count != 1 else ''} skipped" if count else ""


def _state(report: Any) -> str:
    return "ok" if report.ok else f"{report.problem_count} problem(s)"


# -- list --------------------------------------------------------------------------------


@app.command("list", epilog=epilog(
    "mcli fine-tuning list",
    "mcli fine-tuning list --status RUNNING --status QUEUED --created-by-me",
    "mcli fine-tuning list --model open-mistral-7b --created-after 2026-11-01 --all -o json",
    "mcli fine-tuning list --wandb-project ft --suffix support -o text"))
def list_(
    ctx: typer.Context,
    model: Annotated[Optional[str], typer.Option("--model", help="Only jobs fine-tuning this model.")] = None,
    status: Annotated[Optional[list[JobStatus]], typer.Option(
        "--status", help="Only jobs in this status (repeatable).", case_sensitive=False)] = None,
    created_after: Annotated[Optional[str], typer.Option("--created-after", metavar="DATETIME", help="Only jobs created after (ISO 8601).")] = None,
    created_before: Annotated[Optional[str], typer.Option("--created-before", metavar="DATETIME", help="Only jobs created before (ISO 8601).")] = None,
    created_by_me: Annotated[bool, typer.Option("--created-by-me", help="Only jobs created with this key's user.")] = False,
    wandb_project: Annotated[Optional[str], typer.Option("--wandb-project", help="Only jobs reporting to this W&B project.")] = None,
    wandb_name: Annotated[Optional[str], typer.Option("--wandb-name", help="Only jobs with this W&B run name.")] = None,
    suffix: Annotated[Optional[str], typer.Option("--suffix", help="Only jobs with this model suffix.")] = None,
    page: PageOpt = None,
    page_size: PageSizeOpt = None,
    all_pages: AllPagesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List fine-tuning jobs, newest first."""
    env = env_of(ctx)
    filters: dict[str, Any] = {
        "model": model, "created_after": check_datetime(created_after, "--created-after"),
        "created_before": check_datetime(created_before, "--created-before"),
        "created_by_me": created_by_me, "wandb_project": wandb_project,
        "wandb_name": wandb_name, "suffix": suffix}
    statuses = list(dict.fromkeys(s.value for s in status or ()))
    if len(statuses) <= 1:
        show_list(env, JOBS, {**filters, "status": statuses[0] if statuses else None}, page=page,
                  page_size=page_size, all_pages=all_pages, output=output, columns=LIST_COLUMNS)
        return
    check_paging(page, page_size, all_pages)
    show_page(env, _list_several(env, all_pages, page, page_size, filters, statuses), output, LIST_COLUMNS)


def _list_several(env: "Env", all_pages: bool, page: int | None, page_size: int | None, filters: dict,
                  statuses: list[str]) -> dict:
    """Several --status lists as the one JobsOut a single call would give: newest first, and
    page PAGE holds at most PAGE_SIZE rows of their union (each status read up to that page)."""
    if all_pages:
        return merge_lists([lists.read_all(env.client, JOBS, {**filters, "status": s}, page_size=page_size)
                            for s in statuses])
    size = page_size or DEFAULT_PAGE_SIZE
    end = ((page or 0) + 1) * size
    bodies = [lists.read_all(env.client, JOBS, {**filters, "status": s}, page_size=size, limit=end)
              for s in statuses]
    merged = merge_lists(bodies)
    return {**merged, "data": merged["data"][end - size:end]}


def merge_lists(bodies: list[dict]) -> dict:
    """Lists of disjoint queries as one, newest first; `total` by api/pages.py's one rule."""
    data = [job for body in bodies for job in body.get("data") or []]
    data.sort(key=_created_at, reverse=True)
    return {**bodies[0], "data": data, "total": sum_totals(bodies)}


def _created_at(job: Any) -> int:
    """A job's creation time for sorting (0 when the server gave none or not a number)."""
    created = job.get("created_at") if isinstance(job, dict) else None
    return created if isinstance(created, int) and not isinstance(created, bool) else 0


# -- get, cancel, start, watch -----------------------------------------------------------


@app.command("get", epilog=epilog(f"mcli fine-tuning get {EXAMPLE_ID}",
                                  f"mcli fine-tuning get {EXAMPLE_ID} -o json | jq .checkpoints"))
def get(ctx: typer.Context, job_id: JobIdArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show a job: status, model, hyperparameters, events, checkpoints and their metrics."""
    env = env_of(ctx)
    check_uuid(job_id, "job id")
    show_job(env, call(env.client, "fine_tuning.get", job_id), output, describe("fine_tuning.get", job_id))


def show_job(env: "Env", body: Any, output: OutputFormat, request: str) -> None:
    """A detailed job in OUTPUT's format (table: fields, events, checkpoints, loss chart)."""
    if output is not OutputFormat.table or not isinstance(body, dict):
        emit_object(env, output, body if isinstance(body, dict) else {"body": body})
        return
    from mistral_cli.bodies.fine_tuning import FineTuningJob
    from mistral_cli.render.job_view import detail_lines, job_renderable

    job = FineTuningJob.parse(body, request)
    if env.stdout_isatty:
        env.console.print(job_renderable(job, body, width=env.console.width))
    else:
        write_lines_raw(env, detail_lines(job, body))


@app.command("cancel", epilog=epilog(f"mcli fine-tuning cancel {EXAMPLE_ID}",
                                     f"mcli fine-tuning cancel {EXAMPLE_ID} --yes -o json"))
def cancel(ctx: typer.Context, job_id: JobIdArg, yes: YesOpt = False,
           output: OutputOpt = OutputFormat.table) -> None:
    """Ask the server to cancel a job (asks first on a terminal)."""
    env = env_of(ctx)
    check_uuid(job_id, "job id")
    confirm(env, f"Cancel fine-tuning job {job_id}?", yes)
    body = fetch_object(env.client, "fine_tuning.cancel", job_id)
    env.info(watching.cancel_note(fine_tuning_watch.FineTuningAdapter(), job_id, body))
    show_job(env, body, output, describe("fine_tuning.cancel", job_id))


@app.command("start", epilog=epilog(f"mcli fine-tuning start {EXAMPLE_ID}",
                                    f"mcli fine-tuning start {EXAMPLE_ID} && mcli fine-tuning watch {EXAMPLE_ID}"))
def start(ctx: typer.Context, job_id: JobIdArg, output: OutputOpt = OutputFormat.table) -> None:
    """Start a validated job that was created with --no-auto-start."""
    env = env_of(ctx)
    check_uuid(job_id, "job id")
    body = fetch_object(env.client, "fine_tuning.start", job_id)
    env.info(f"start requested for {job_id} ({body.get('status')})")
    show_job(env, body, output, describe("fine_tuning.start", job_id))


@app.command("watch", epilog=epilog(
    f"mcli fine-tuning watch {EXAMPLE_ID}",
    f"mcli fine-tuning watch {EXAMPLE_ID} -o jsonl | jq -c '{{status, trained_tokens}}'",
    f"model=$(mcli fine-tuning watch {EXAMPLE_ID} -o text)"))
def watch(
    ctx: typer.Context,
    job_id: JobIdArg,
    interval: IntervalOpt = fine_tuning_watch.DEFAULT_INTERVAL,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Follow a job until it ends: live on a terminal, a line per change elsewhere; exit 5 if it fails."""
    env = env_of(ctx)
    check_uuid(job_id, "job id")
    check_interval(interval)
    fine_tuning_watch.watch(env, job_id, interval=interval, output=output)
