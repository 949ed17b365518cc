"""`--via online|batch` on the analysis commands (embeddings, classifiers moderate and
moderate-chat): the options of the batch route and the rule that every option either works on
the route chosen or is refused, with the reason, before anything is read or sent.

The route itself (request file, run once, results in input order) is batchrun/route.py,
loaded only when `--via batch` is given; `run_batch` lends it the batch commands' follow,
verdict and save (`BatchCommands`), and `run_texts` sends one text a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mistral_cli.commands.shared.interval import check_interval, interval_option
from mistral_cli.errors import JobFailedError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.batchrun.in_order import Outcome
    from mistral_cli.batchrun.procedure import BatchRun
    from mistral_cli.batchrun.route import Route
    from mistral_cli.bodies.batch import BatchJob
    from mistral_cli.env import Env
    from mistral_cli.render.output import OutputFormat

ROUTE = "Route"


class Via(str, Enum):
    """Where the requests run."""

    online = "online"
    batch = "batch"


ViaOpt = Annotated[Via, typer.Option(
    "--via", rich_help_panel=ROUTE, metavar="online|batch",
    help="online: answers now (default). batch: one job on Mistral's batch service at half the "
         "price, answered within the job's timeout; same output. Run again to resume.")]
NewOpt = Annotated[bool, typer.Option(
    "--new", rich_help_panel=ROUTE,
    help="With --via batch: start a separate run, even if the same inputs ran before.")]
IntervalOpt = Annotated[float, interval_option("With --via batch: ", rich_help_panel=ROUTE, back_off=True)]

# option (parameter name) -> why it has no meaning on the batch route
ONLINE_ONLY = {
    "per_request": "the batch route sends one request per input (its custom_id is the input number)",
    "batch_size": "the batch route sends one request per input (its custom_id is the input number)",
    "concurrency": "the batch service runs the requests; nothing is sent at once from here",
}
# option (parameter name) -> what it is for, on the batch route only
BATCH_ONLY = {
    "new": "it starts a separate batch run",
    "interval": "it sets how often the batch job is polled",
}


def check_route(ctx: typer.Context, via: Via, interval: float) -> None:
    """Refuse (exit 2) an option given on the command line that the chosen route cannot
    honour, and an --interval out of bounds."""
    check_interval(interval)
    refused = ONLINE_ONLY if via is Via.batch else BATCH_ONLY
    for name, reason in refused.items():
        if _given(ctx, name):
            flag = _flag(ctx, name)
            if via is Via.batch:
                raise UsageError(f"{flag} does not apply with --via batch: {reason}")
            raise UsageError(f"{flag} applies only with --via batch: {reason}")


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the option NAME was set on the command line (or from the environment)."""
    if name not in ctx.params:
        return False
    source = ctx.get_parameter_source(name)  # an enum of the click Typer carries: read by name
    return source is not None and source.name != "DEFAULT"


def _flag(ctx: typer.Context, name: str) -> str:
    """The option's long name, as the user types it."""
    for param in ctx.command.params:
        if param.name == name:
            return max(param.opts, key=len)
    return name


# -- the batch route, with the batch commands' ways with a job ------------------------------

class BatchCommands:
    """The batch route's `Jobs` (batchrun/route.py): `mcli batch create`'s follow (run.py), the
    watch adapter's verdict on a job's end (watch.py), `mcli batch results`' save (results.py)."""

    def follow(self, env: "Env", run: "BatchRun", job_id: str, output: OutputFormat, interval: float,
               then: str = "", quiet: bool = False) -> Any:
        """Watch the run's job to its end (kept in the journal, also when it failed); its final body."""
        from mistral_cli.commands.batch.run import follow

        return follow(env, run, job_id, output, interval, then, quiet=quiet, back_off=True)

    def failure(self, job: "BatchJob") -> JobFailedError | None:
        """The error of a job that ended FAILED, TIMEOUT_EXCEEDED or CANCELLED; None otherwise."""
        from mistral_cli.commands.batch.watch import BatchAdapter
        from mistral_cli.commands.shared.watching import FAILED

        adapter = BatchAdapter()
        return adapter.failure(job) if adapter.state(job) == FAILED else None

    def save_results(self, env: "Env", job_id: str, job: "BatchJob", directory: Path, force: bool) -> list[Path]:
        """Download the job's output and error files into DIRECTORY; their paths."""
        from mistral_cli.commands.batch.results import save_results

        return save_results(env, job_id, job, directory, force)


def run_batch(env: "Env", route: "Route", bodies: Iterable[tuple[int, dict]], first: int,
              write: Callable[["Outcome"], None], finish: Callable[[], None]) -> int:
    """Send BODIES on ROUTE as one batch run (batchrun/route.py `run`), its job followed,
    judged and saved as the batch commands do; the number of inputs sent."""
    from mistral_cli.batchrun import route as batch_route

    return batch_route.run(env, route, BatchCommands(), bodies, first, write, finish)


def run_texts(env: "Env", route: "Route", texts: Iterable[str], skip: int, check: Callable[[Any], dict],
              writer: Any, extra: dict | None = None) -> int:
    """Send each text after the first SKIP as one request, `{**EXTRA, "input": [text]}`; print each
    answer, once CHECK has accepted it, through WRITER's `group` and `finish` as the online
    route does; return the number of texts sent."""
    from mistral_cli.commands.shared.text_groups import TextGroup, numbered

    def write(outcome: "Outcome") -> None:
        writer.group(TextGroup(outcome.number, [_request_text(outcome.request)], 0), check(outcome.body))

    bodies = ((number, {**(extra or {}), "input": [text]}) for number, text in numbered(texts, skip))
    return run_batch(env, route, bodies, skip, write, writer.finish)


def _request_text(request: dict[str, Any]) -> str:
    """The one text of a request body `{"input": [text]}`."""
    texts = request.get("input")
    return texts[0] if isinstance(texts, list) and texts and isinstance(texts[0], str) else ""
