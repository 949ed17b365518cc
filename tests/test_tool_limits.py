"""The limits of a tool run, seen from outside the process: memory stays bounded while a tool
floods its output, Ctrl-C kills the tool's whole group and keeps the transcript, and a
command never passes through a shell."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from mistral_cli.generation.tool_exec import Limits, run_program
from tests.generation_helpers import chat_requests, saved
from tests.memory_helpers import LIMIT, MiB, run_measured
from tests.process_helpers import start_mcli
from tests.tool_helpers import (calls, exec_spec, final, process_gone, runs, script_model, tool_messages,
                                write_tools)


@pytest.fixture
def tools(tmp_path, monkeypatch):
    """The tool script and its marker file (every run logged there)."""
    marker = tmp_path / "marker.jsonl"
    monkeypatch.setenv("MARKER", str(marker))
    return write_tools(tmp_path), marker


def limits(tmp_path: Path, timeout: float = 20, cap: int = 64 * 1024) -> Limits:
    return Limits(timeout=timeout, cap=cap, cwd=tmp_path, environ=dict(os.environ))


def test_a_flood_of_a_gibibyte_keeps_the_mcli_process_small(api, tools, tmp_path):
    script, marker = tools
    script_model(api, calls(("a", "flood", {})), final("Too much."))
    proc, peak = run_measured(tmp_path, "chat", "--tool-exec", exec_spec(script, "flood"), "--yes", "go")
    assert proc.returncode == 0, proc.stderr
    assert peak < LIMIT, f"peak RSS {peak / MiB:.1f} MiB"
    content = tool_messages(chat_requests(api)[-1].json)[0]["content"]
    assert content.startswith("x" * 65536 + "\n[output cut at 65536 bytes")
    assert len(runs(marker)) == 1


def test_the_output_kept_never_exceeds_the_cap(tools, tmp_path):
    script, _marker = tools
    outcome = run_program([sys.executable, str(script), "flood"], b"{}", limits(tmp_path, cap=1000))
    assert outcome.cut and len(outcome.stdout) == 1000
    assert outcome.exit_status == -signal.SIGKILL


def test_a_command_is_never_given_to_a_shell(api, cli, tmp_path):
    script_model(api, calls(("a", "say", {})), final())
    command = "say=echo $HOME; touch pwned && echo `id`"
    result = cli("chat", "--tool-exec", command, "--yes", "--tool-cwd", tmp_path, "go")
    assert result.exit_code == 0, result
    assert tool_messages(chat_requests(api)[-1].json)[0]["content"] == "$HOME; touch pwned && echo `id`\n"
    assert not (tmp_path / "pwned").exists()


def test_a_program_that_cannot_start_is_an_error_result(api, cli, tmp_path):
    script_model(api, calls(("a", "nope", {})), final())
    result = cli("chat", "--tool-exec", f"nope={tmp_path}/missing-program", "--yes", "go")
    assert result.exit_code == 0, result
    assert tool_messages(chat_requests(api)[-1].json)[0]["content"].startswith("error: cannot start")


def test_ctrl_c_during_a_call_kills_its_group_and_keeps_the_transcript(api, tools, tmp_path):
    script, marker = tools
    script_model(api, calls(("a", "hang", {})))
    child_file = marker.with_name(marker.name + ".child")
    proc = start_mcli("chat", "--tool-exec", exec_spec(script, "hang"), "--yes", "go", cwd=tmp_path)
    deadline = time.monotonic() + 30
    while not child_file.exists() or not child_file.read_text():
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() is not None else ""
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert process_gone(int(child_file.read_text()))
    _conversation, records = saved("chat")
    assert [r.message["role"] for r in records] == ["user", "assistant"]
    assert records[1].message["tool_calls"][0]["id"] == "a"
    assert json.loads(runs(marker)[0]["stdin"]) == {}
