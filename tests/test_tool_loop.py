"""The tool loop: allowed local programs run without a shell, their results go back under the
right call id, limits hold, and the history keeps the whole transcript."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat

import pytest

from tests.fakeapi import json_response, sse_response
from tests.generation_helpers import chat_requests, completion, saved, tool_call, write_config
from tests.tool_helpers import (CHAT, calls, exec_spec, final, on_terminal, process_gone, runs, script_model,
                                tool_messages, write_tools)


@pytest.fixture
def tools(tmp_path, monkeypatch):
    """The tool script and its marker file (every run logged there)."""
    marker = tmp_path / "marker.jsonl"
    monkeypatch.setenv("MARKER", str(marker))
    return write_tools(tmp_path), marker


# -- the done-when -------------------------------------------------------------------------------

@pytest.fixture
def date_shim(tmp_path, monkeypatch):
    """A `date` first on PATH that logs each run, then runs the real one."""
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "date-runs"
    shim = folder / "date"
    real = shutil.which("date")
    shim.write_text(f"#!/bin/sh\necho run >> '{log}'\nexec '{real}' \"$@\"\n")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return log


def test_today_runs_date_once_sends_its_output_and_prints_the_answer(api, cli, date_shim):
    script_model(api, calls(("c1", "today", {})), final("It is Sunday."))
    result = cli("chat", "--tool-exec", "today=date", "--yes", "what day is it?")
    assert result.exit_code == 0, result
    assert result.stdout == "It is Sunday.\n"
    assert date_shim.read_text() == "run\n"
    first, second = (r.json for r in chat_requests(api))
    assert first["tools"][0]["function"]["name"] == "today"
    [sent] = tool_messages(second)
    assert sent["tool_call_id"] == "c1" and sent["name"] == "today"
    assert re.search(r"\b\d{4}\b", sent["content"]) and sent["content"].endswith("\n")  # date's output
    assert "mcli_run" not in sent


def test_off_a_terminal_without_yes_nothing_is_sent_or_run(api, cli, date_shim):
    result = cli("chat", "--tool-exec", "today=date", "what day is it?")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert api.requests == [] and not date_shim.exists()


def test_the_repl_off_a_terminal_needs_yes_too(api, cli, date_shim):
    result = cli("chat", "-i", "--tool-exec", "today=date", input="what day is it?\n")
    assert result.exit_code == 2 and api.requests == [] and not date_shim.exists()


# -- the allow-list ---------------------------------------------------------------------------------

HOSTILE = "$(touch pwned1) `touch pwned2`; touch pwned3 | rm -rf x && echo"


def test_only_allowed_calls_run_each_result_under_its_call_id(api, cli, tools, tmp_path):
    script, marker = tools
    big = "y" * 1_000_000
    script_model(api, calls(("a", "echo", {"text": HOSTILE}),
                            ("b", "x; touch pwned4", {}),
                            ("c", "echo", [1, 2]),
                            ("d", "not_allowed", {"q": 1}),
                            ("e", "echo", {"big": big})),
                 final())
    result = cli("chat", "--tool-exec", exec_spec(script, "echo"), "--yes", "--tool-cwd", tmp_path, "go")
    assert result.exit_code == 0, result
    logged = runs(marker)
    assert [json.loads(r["stdin"]) for r in logged] == [{"text": HOSTILE}, {"big": big}]
    assert all(r["argv"] == [] for r in logged)  # the arguments went to stdin only
    assert not any((tmp_path / f"pwned{i}").exists() for i in range(1, 5))
    results = tool_messages(chat_requests(api)[-1].json)
    assert [m["tool_call_id"] for m in results] == ["a", "b", "c", "d", "e"]
    assert json.loads(results[0]["content"]) == {"text": HOSTILE}
    assert "is not allowed here" in results[1]["content"] and "is not allowed here" in results[3]["content"]
    assert "not a JSON object" in results[2]["content"]
    assert results[4]["content"].startswith('{"big": "yyy') and "output cut at 65536 bytes" in results[4]["content"]
    assert result.stderr.count("was not run") == 3


def test_the_history_holds_the_whole_transcript_and_show_prints_the_runs(api, cli, tools):
    script, _marker = tools
    script_model(api, calls(("a", "fail", {})), final("It failed."))
    result = cli("chat", "--tool-exec", exec_spec(script, "fail"), "--yes", "--cid", "t1", "try it")
    assert result.exit_code == 0, result
    _conversation, records = saved("chat")
    messages = [r.message for r in records]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    run = messages[2]["mcli_run"]
    assert run["exit_status"] == 3 and run["seconds"] >= 0 and "bad thing" in run["stderr_tail"]
    assert "[exit status 3]" in messages[2]["content"] and "bad thing happened" in messages[2]["content"]
    assert "exit status 3" in result.stderr  # said to the user too
    shown = cli("history", "show", "t1")
    assert "tool call:" in shown.stdout
    assert f"run: exit status 3 · {run['seconds']} s" in shown.stdout
    script_model(api, final("You're welcome."))
    again = cli("chat", "--cid", "t1", "thanks")
    assert again.exit_code == 0, again
    sent = chat_requests(api)[-1].json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "assistant", "user"]
    assert not any("mcli_run" in m for m in sent)


def test_json_output_prints_the_whole_exchange(api, cli, tools):
    script, _marker = tools
    script_model(api, calls(("a", "echo", {"n": 1})), final("Done."))
    result = cli("chat", "--tool-exec", exec_spec(script, "echo"), "--yes", "-o", "json", "go")
    assert result.exit_code == 0, result
    whole = json.loads(result.stdout)
    assert [m["role"] for m in whole["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert whole["messages"][2]["mcli_run"]["exit_status"] == 0
    assert [c["choices"][0]["finish_reason"] for c in whole["completions"]] == ["tool_calls", "stop"]
    assert whole["conversation_id"] == saved("chat")[0].id


def test_verbose_prints_each_call_on_stderr(api, cli, tools):
    script, _marker = tools
    script_model(api, calls(("a", "echo", {"city": "Oslo"})), final())
    result = cli("-v", "chat", "--tool-exec", exec_spec(script, "echo"), "--yes", "go")
    assert result.exit_code == 0, result
    assert 'tool echo: {"city": "Oslo"}' in result.stderr and "exit status 0" in result.stderr


def test_a_model_that_calls_tools_forever_stops_at_max_steps(api, cli, tools):
    script, marker = tools
    api.add("POST", CHAT, lambda _request: sse_response(calls(("a", "echo", {}))))
    result = cli("chat", "--tool-exec", exec_spec(script, "echo"), "--yes", "--max-steps", "3", "go")
    assert result.exit_code == 1
    assert "--max-steps" in result.stderr
    assert len(chat_requests(api)) == 3 and len(runs(marker)) == 2


# -- limits -------------------------------------------------------------------------------------------

def test_a_hanging_tool_and_its_child_are_killed_at_the_timeout(api, cli, tools):
    script, marker = tools
    script_model(api, calls(("a", "hang", {})), final())
    result = cli("chat", "--tool-exec", exec_spec(script, "hang"), "--yes", "--tool-timeout", "0.5", "go")
    assert result.exit_code == 0, result
    assert "timed out after 0.5 s" in tool_messages(chat_requests(api)[-1].json)[0]["content"]
    assert process_gone(int(marker.with_name(marker.name + ".child").read_text()))


def test_a_tool_that_forks_and_exits_leaves_no_child_behind(api, cli, tools):
    script, marker = tools
    script_model(api, calls(("a", "forker", {})), final())
    result = cli("chat", "--tool-exec", exec_spec(script, "forker"), "--yes", "--tool-timeout", "20", "go")
    assert result.exit_code == 0, result
    content = tool_messages(chat_requests(api)[-1].json)[0]["content"]
    assert content == "parent done\n"
    assert process_gone(int(marker.with_name(marker.name + ".child").read_text()))


def test_secrets_are_not_in_the_tool_environment(api, cli, tools, monkeypatch):
    script, _marker = tools
    monkeypatch.setenv("WANDB_API_KEY", "wandb-secret-1")
    monkeypatch.setenv("SOME_COPY", "prefix-test-key-1234")  # holds the API key in use
    script_model(api, calls(("a", "environ", {})), final())
    result = cli("chat", "--tool-exec", exec_spec(script, "environ"), "--yes", "go")
    assert result.exit_code == 0, result
    seen = json.loads(tool_messages(chat_requests(api)[-1].json)[0]["content"])
    assert "MARKER" in seen
    assert not {"MISTRAL_API_KEY", "WANDB_API_KEY", "SOME_COPY"} & set(seen)


# -- approval on a terminal ----------------------------------------------------------------------------

def test_approval_yes_no_always_on_a_terminal(api, tools):
    script, marker = tools
    script_model(api, calls(("a", "echo", {"n": 1}), ("b", "echo", {"n": 2}), ("c", "echo", {"n": 3})),
                 calls(("d", "echo", {"n": 4})), final())
    result = on_terminal("chat", "--tool-exec", exec_spec(script, "echo"), "go", replies="maybe\nn\na\n")
    assert result.exit_code == 0, result
    assert [json.loads(r["stdin"]) for r in runs(marker)] == [{"n": 2}, {"n": 3}, {"n": 4}]
    assert result.stderr.count("[a]lways for echo") == 3  # asked again after an unknown reply
    first_results = tool_messages(chat_requests(api)[1].json)
    assert "declined" in first_results[0]["content"]


def test_quit_at_the_approval_stops_with_nothing_more_run_or_sent(api, tools):
    script, marker = tools
    script_model(api, calls(("a", "echo", {"n": 1}), ("b", "echo", {"n": 2})))
    result = on_terminal("chat", "--tool-exec", exec_spec(script, "echo"), "go", replies="y\nq\n")
    assert result.exit_code == 2
    assert len(runs(marker)) == 1 and len(chat_requests(api)) == 1
    _conversation, records = saved("chat")
    assert [r.message["role"] for r in records] == ["user", "assistant", "tool"]


def test_the_arguments_shown_pass_the_terminal_gate(api, tools):
    script, _marker = tools
    script_model(api, calls(("a", "echo", {"t": "\x1b]52;c;bad\x07"})), final())
    result = on_terminal("chat", "--tool-exec", exec_spec(script, "echo"), "go", replies="n\n")
    assert result.exit_code == 0, result
    assert "\x1b]" not in result.stderr and "\x07" not in result.stderr
    assert '"t": "\\u001b]52;c;bad\\u0007"' in result.stderr


# -- options and profiles -------------------------------------------------------------------------------

def test_a_profile_tool_is_enough_by_name(api, cli, tools):
    script, marker = tools
    command = exec_spec(script, "echo").partition("=")[2]
    write_config(f"[profiles.default.tools]\nshout = {json.dumps(command)}\n")
    script_model(api, calls(("a", "shout", {"x": 1})), final())
    result = cli("chat", "--tool-exec", "shout", "--yes", "go")
    assert result.exit_code == 0, result
    assert len(runs(marker)) == 1


@pytest.mark.parametrize("args, message", [
    (["--tool-exec", "a b=date", "--yes"], "not a tool name"),
    (["--tool-exec", "x", "--yes"], "no command for x"),
    (["--tool-exec", "x=", "--yes"], "the command is empty"),
    (["--tool-exec", "x='unclosed", "--yes"], "cannot split"),
    (["--tool-exec", "x=date", "--tool-exec", "x=ls", "--yes"], "given twice"),
    (["--yes"], "only apply to tools run with --tool-exec"),
    (["--max-steps", "0", "--tool-exec", "x=date", "--yes"], "--max-steps"),
    (["--tool-timeout", "0", "--tool-exec", "x=date", "--yes"], "--tool-timeout"),
    (["--tool-exec", "x=date", "--yes", "-n", "2"], "-n above 1"),
])
def test_bad_tool_options_are_refused_before_sending(api, cli, args, message):
    result = cli("chat", "go", *args)
    assert result.exit_code == 2, result
    assert message in result.stderr
    assert api.requests == []


def test_the_repl_runs_tools_with_yes(api, cli, tools):
    script, marker = tools
    script_model(api, calls(("a", "echo", {"k": "v"})), final("Got it."))
    result = cli("chat", "-i", "--tool-exec", exec_spec(script, "echo"), "--yes", input="do it\n")
    assert result.exit_code == 0, result
    assert "Got it." in result.stdout and len(runs(marker)) == 1


def test_continuing_after_max_steps_runs_the_calls_left_and_goes_on(api, cli, tools):
    script, marker = tools
    spec = exec_spec(script, "echo")
    script_model(api, calls(("a", "echo", {"n": 1})), calls(("b", "echo", {"n": 2})))
    stopped = cli("chat", "--tool-exec", spec, "--yes", "--max-steps", "2", "--cid", "m1", "go")
    assert stopped.exit_code == 1 and "-c (or --cid) with the same --tool-exec" in stopped.stderr
    assert len(runs(marker)) == 1
    script_model(api, final("Finished."))
    resumed = cli("chat", "--tool-exec", spec, "--yes", "--cid", "m1")
    assert resumed.exit_code == 0, resumed
    assert resumed.stdout == "Finished.\n"
    assert [json.loads(r["stdin"]) for r in runs(marker)] == [{"n": 1}, {"n": 2}]
    assert len(chat_requests(api)) == 3
    assert [m["tool_call_id"] for m in tool_messages(chat_requests(api)[-1].json)] == ["a", "b"]
    _conversation, records = saved("chat")
    assert [r.message["role"] for r in records] == ["user", "assistant", "tool", "assistant", "tool", "assistant"]


def test_jsonl_prints_each_chunk_and_each_result_line(api, cli, tools):
    script, _marker = tools
    script_model(api, calls(("a", "echo", {"n": 1})), final("Done."))
    result = cli("chat", "--tool-exec", exec_spec(script, "echo"), "--yes", "-o", "jsonl", "go")
    assert result.exit_code == 0, result
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    [run] = [line for line in lines if line.get("object") == "mcli.tool_result"]
    assert run["tool_call_id"] == "a" and run["content"] == '{"n": 1}'
    assert lines.index(run) == 3  # after the first answer's three chunks


def test_whole_answers_loop_too(api, cli, tools):
    script, marker = tools
    api.add("POST", CHAT, json_response(completion("", tool_calls=[tool_call("w1", "echo", {"k": 1})])), times=1)
    api.add("POST", CHAT, json_response(completion("Whole.")), times=1)
    result = cli("chat", "--tool-exec", exec_spec(script, "echo"), "--yes", "--no-stream", "-o", "json", "go")
    assert result.exit_code == 0, result
    whole = json.loads(result.stdout)
    assert [c["id"] for c in whole["completions"]] == ["cmpl-w", "cmpl-w"]
    assert whole["messages"][-1]["content"] == "Whole." and len(runs(marker)) == 1


def test_agents_run_tools_too(api, cli, tools):
    script, marker = tools
    path = "/v1/agents/completions"
    api.add("POST", path, sse_response(calls(("a", "echo", {"q": "x"}))), times=1)
    api.add("POST", path, sse_response(final("Agent done.")), times=1)
    result = cli("agents", "ag:3996db2b:20240805:support:a1b2c3d4", "--tool-exec", exec_spec(script, "echo"),
                 "--yes", "go")
    assert result.exit_code == 0, result
    assert result.stdout == "Agent done.\n" and len(runs(marker)) == 1
    assert tool_messages(chat_requests(api, path)[-1].json)[0]["tool_call_id"] == "a"


def test_ctrl_c_in_the_repl_closes_the_stopped_calls_and_the_loop_goes_on(api, cli, tools, monkeypatch):
    from mistral_cli.generation import tool_loop

    script, _marker = tools
    real = tool_loop.run_program

    def interrupted(*args, **kwargs):
        monkeypatch.setattr(tool_loop, "run_program", real)
        raise KeyboardInterrupt

    monkeypatch.setattr(tool_loop, "run_program", interrupted)
    script_model(api, calls(("a", "echo", {})), final("Fine."))
    result = cli("chat", "-i", "--tool-exec", exec_spec(script, "echo"), "--yes", input="one\ntwo\n")
    assert result.exit_code == 0, result
    assert "(stopped)" in result.stderr and "Fine." in result.stdout
    [closed] = tool_messages(chat_requests(api)[-1].json)
    assert closed["tool_call_id"] == "a" and "Ctrl-C" in closed["content"]
