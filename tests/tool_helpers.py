"""Helpers for the tool-loop tests: small local tools written as Python scripts (each logs
every run to a marker file), a scripted tool-calling model on the fake server, and a run of
mcli as if on a terminal (stdin and stderr are terminals, replies typed in advance)."""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
import time
from pathlib import Path

from tests.conftest import Result
from tests.fakeapi import sse_response
from tests.generation_helpers import text_chunks, tool_call, tool_call_chunks

CHAT = "/v1/chat/completions"

# Every tool appends what it read on stdin to $MARKER (one JSON line per run), then acts.
TOOLS = {
    "echo": "sys.stdout.write(data)",
    "fail": "sys.stderr.write('bad thing happened\\n'); sys.exit(3)",
    "hang": ("pid = os.fork()\n"
             "if pid == 0:\n    time.sleep(60); os._exit(0)\n"
             "open(os.environ['MARKER'] + '.child', 'w').write(str(pid))\n"
             "time.sleep(60)"),
    "forker": ("pid = os.fork()\n"
               "if pid == 0:\n    time.sleep(60); os._exit(0)\n"
               "open(os.environ['MARKER'] + '.child', 'w').write(str(pid))\n"
               "print('parent done')"),
    "flood": ("block = b'x' * 65536\n"
              "for _ in range(16384):\n    sys.stdout.buffer.write(block)"),
    "environ": "json.dump(dict(os.environ), sys.stdout)",
}
PRELUDE = ("import json, os, sys, time\n"
           "data = sys.stdin.read()\n"
           "with open(os.environ['MARKER'], 'a') as log:\n"
           "    log.write(json.dumps({'tool': sys.argv[1], 'stdin': data, 'argv': sys.argv[2:]}) + '\\n')\n")


def write_tools(folder: Path) -> Path:
    """Write the tool script into FOLDER; return its path."""
    script = folder / "tool.py"
    body = "\n".join(f"if sys.argv[1] == {name!r}:\n" + "\n".join("    " + line for line in code.splitlines())
                     for name, code in TOOLS.items())
    script.write_text(PRELUDE + body + "\n", encoding="utf-8")
    return script


def exec_spec(script: Path, name: str, tool: str | None = None) -> str:
    """A --tool-exec NAME=COMMAND value running TOOL (default NAME) of SCRIPT."""
    return f"{name}={shlex.quote(sys.executable)} {shlex.quote(str(script))} {tool or name}"


def runs(marker: Path) -> list[dict]:
    """Every run logged in MARKER (tool, stdin, argv), in order."""
    if not marker.exists():
        return []
    return [json.loads(line) for line in marker.read_text(encoding="utf-8").splitlines()]


def script_model(api, *answers: list[dict]) -> None:
    """The fake model answers each request with the next of ANSWERS (one use each)."""
    for events in answers:
        api.add("POST", CHAT, sse_response(events), times=1)


def calls(*specs: tuple) -> list[dict]:
    """A streamed answer calling tools: each spec is (call id, name, arguments)."""
    return tool_call_chunks(*(tool_call(cid, name, args, i) for i, (cid, name, args) in enumerate(specs)))


def final(text: str = "All done.") -> list[dict]:
    """A streamed final answer without tool calls."""
    return text_chunks(text)


def tool_messages(body: dict) -> list[dict]:
    """The tool messages of a request body."""
    return [m for m in body["messages"] if m["role"] == "tool"]


def on_terminal(*args: str, replies: str = "") -> Result:
    """Run mcli in-process with stdin and stderr as terminals; REPLIES is what the user types."""
    from mistral_cli.app import main
    from mistral_cli.env import Env

    out, err = io.StringIO(), io.StringIO()
    env = Env(io.StringIO(replies), out, err, stdin_isatty=True, stdout_isatty=False,
              stderr_isatty=True, environ=dict(os.environ))
    code = main([str(a) for a in args], env)
    return Result(code, out.getvalue(), err.getvalue())


def process_gone(pid: int) -> bool:
    """Whether PID has ended (a zombie counts: waits a little while init reaps the orphan)."""
    for _ in range(200):
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as status:
                if status.read().split(")")[-1].split()[0] == "Z":
                    return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.02)
    return False
