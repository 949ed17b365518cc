"""`mcli sandbox`: the local Mistral API for trying mcli and testing scripts with no key and no
spend. `serve` puts it on a port of this machine; `--server-url sandbox` (any command) runs it
in-process instead. Both keep their state in the data folder's sandbox/; `reset` clears it.
The sandbox itself is mistral_cli/sandbox/, imported only when one of these runs.
"""

from __future__ import annotations

import shutil
import signal
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import env_of, epilog, number_option
from mistral_cli.env import Env
from mistral_cli.errors import UsageError
from mistral_cli.numbers import Bound

DEFAULT_PORT = 8642
PORT = Bound("--port", 0, 65_535, integer=True)
FAIL_RATE = Bound("--fail-rate", 0, 1)
RETRY_AFTER = Bound("--retry-after", 0, 86_400)
LATENCY = Bound("--latency", 0, 3_600)
CUT_STREAM_AFTER = Bound("--cut-stream-after", 0, None, integer=True)
NOT_A_MODEL = "answers are stand-ins derived from the input; no model runs"

app = McliTyper(
    help="A local Mistral API: try mcli and test scripts with no key and no spend.", no_args_is_help=True,
    epilog=epilog("mcli --server-url sandbox chat hello   # in-process, nothing to start",
                  "mcli sandbox serve --port 8642", "mcli sandbox serve --fail-rate 0.2 --status 503 --retry-after 1",
                  "mcli sandbox reset"))


class FaultStatus(str, Enum):
    """Values of `serve --status`."""

    too_many = "429"
    internal = "500"
    unavailable = "503"


def register(root: typer.Typer) -> None:
    """Add the `sandbox` group to the root app."""
    root.add_typer(app, name="sandbox")


def state_dir(env: Env) -> Path:
    """Where the sandbox keeps its files and jobs: the data folder's sandbox/."""
    from mistral_cli.config.paths import data_dir

    return Path(data_dir(env.environ)) / "sandbox"


@app.command("serve", epilog=epilog(
    "mcli sandbox serve", "mcli sandbox serve --port 0   # any free port",
    "mcli sandbox serve --fail-rate 0.3 --status 429 --retry-after 2",
    "mcli sandbox serve --latency 0.5 --cut-stream-after 3",
    before="Then, in another shell: export MISTRAL_SERVER_URL=http://127.0.0.1:8642 MISTRAL_API_KEY=sandbox-key"))
def serve(
    ctx: typer.Context,
    port: Annotated[int, number_option(PORT, help="Port on 127.0.0.1; 0 picks a free one")] = DEFAULT_PORT,
    fail_rate: Annotated[float, number_option(FAIL_RATE, help="Share of answers that fail with --status")] = 0.0,
    status: Annotated[FaultStatus, typer.Option("--status", help="The status of a failed answer.")] = FaultStatus.too_many,
    retry_after: Annotated[Optional[float], number_option(
        RETRY_AFTER, help="Retry-After seconds sent with a failed answer", show_default=False)] = None,
    latency: Annotated[float, number_option(LATENCY, help="Seconds every answer waits")] = 0.0,
    cut_stream_after: Annotated[Optional[int], number_option(
        CUT_STREAM_AFTER, help="Break every streamed answer after N events", show_default=False)] = None,
) -> None:
    """Serve the local API on 127.0.0.1 until Ctrl-C (requests checked against the bundled spec with the `sandbox` extra)."""
    from mistral_cli.sandbox.faults import Faults
    from mistral_cli.sandbox.world import build

    env = env_of(ctx)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops it, even if started with `&`
    faults = Faults(fail_rate=fail_rate, status=int(status.value), retry_after=retry_after, latency=latency,
                    cut_stream_after=cut_stream_after)
    try:
        api = build(state_dir(env), env.environ, env.warn, listen=True, port=port, faults=faults)
    except OSError as exc:
        raise UsageError(f"cannot serve on port {port}: {exc.strerror or exc}",
                         hint="pick another with --port N, or --port 0 for any free port") from None
    api.start()
    try:
        env.info(f"mcli sandbox: the local Mistral API at {api.url} ({NOT_A_MODEL}); Ctrl-C stops it")
        env.stdout.write(f"export MISTRAL_SERVER_URL={api.url} MISTRAL_API_KEY=sandbox-key\n")
        env.stdout.flush()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (errors.Terminated)
        env.info(f"mcli sandbox: stopped after {api.received} request(s)")
    finally:
        api.stop()


@app.command("reset", epilog=epilog("mcli sandbox reset"))
def reset(ctx: typer.Context) -> None:
    """Delete the sandbox's files and jobs (the data folder's sandbox/); real data is untouched."""
    env = env_of(ctx)
    folder = state_dir(env)
    if not folder.is_dir():
        env.info("mcli sandbox: nothing to reset")
        return
    files = len(list(folder.glob("files/*.json")))
    jobs = len(list(folder.glob("batch/*.json"))) + len(list(folder.glob("fine_tuning/*.json")))
    shutil.rmtree(folder)
    env.info(f"mcli sandbox: removed {files} file(s) and {jobs} job(s) from {folder}")
