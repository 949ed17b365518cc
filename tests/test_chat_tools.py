"""Tool definitions, tool calls and whole tool loops run from the shell with `mcli chat`."""

from __future__ import annotations

import json

import pytest

from tests.fakeapi import json_response, sse_response
from tests.generation_helpers import (chat_requests, chunk, completion, saved, text_chunks,
                                      tool_call, tool_call_chunks)

CHAT = "/v1/chat/completions"
WEATHER = {"name": "get_weather", "description": "Weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


def last_body(api) -> dict:
    return chat_requests(api)[-1].json


@pytest.fixture
def tool_files(tmp_path):
    weather = tmp_path / "weather.json"
    weather.write_text(json.dumps(WEATHER))
    clock = tmp_path / "time.json"
    clock.write_text(json.dumps(TIME))
    both = tmp_path / "tools.json"
    both.write_text(json.dumps([WEATHER, TIME]))
    return weather, clock, both


# -- definitions ---------------------------------------------------------------------------------

def test_tool_files_accept_functions_and_tool_objects(api, cli, tool_files):
    weather, clock, _both = tool_files
    assert cli("chat", "hi", "--tool", weather, "--tool", clock).exit_code == 0
    assert last_body(api)["tools"] == [{"type": "function", "function": WEATHER}, TIME]


def test_tools_array_and_tool_choice_by_name(api, cli, tool_files):
    _weather, _clock, both = tool_files
    assert cli("chat", "hi", "--tools", both, "--tool-choice", "get_time").exit_code == 0
    body = last_body(api)
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "get_time"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_time"}}


@pytest.mark.parametrize("mode", ["auto", "none", "any", "required"])
def test_tool_choice_modes(api, cli, tool_files, mode):
    assert cli("chat", "hi", "--tool", tool_files[0], "--tool-choice", mode).exit_code == 0
    assert last_body(api)["tool_choice"] == mode


def test_function_without_parameters_gets_an_empty_schema(api, cli, tmp_path):
    path = tmp_path / "ping.json"
    path.write_text('{"name": "ping"}')
    assert cli("chat", "hi", "--tool", path).exit_code == 0
    assert last_body(api)["tools"][0]["function"] == {"name": "ping",
                                                      "parameters": {"type": "object", "properties": {}}}


@pytest.mark.parametrize("definition, message", [
    ({"description": "no name"}, "needs a name"),
    ({"name": "f", "params": {}}, "unknown key(s) params"),
    ({"type": "retrieval", "function": {"name": "f"}}, "a Tool object has only type"),
    (["not", "an", "object"], "must be a JSON object"),
])
def test_bad_tool_definitions_are_refused(api, cli, tmp_path, definition, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(definition))
    result = cli("chat", "hi", "--tool", path)
    assert result.exit_code == 2
    assert "--tool" in result.stderr and message in result.stderr
    assert api.requests == []


def test_unknown_tool_choice_name_is_refused(api, cli, tool_files):
    result = cli("chat", "hi", "--tool", tool_files[0], "--tool-choice", "get_stock")
    assert result.exit_code == 2
    assert "--tool-choice" in result.stderr and "get_weather" in result.stderr
    assert api.requests == []


def test_duplicate_tool_names_are_refused(api, cli, tool_files):
    result = cli("chat", "hi", "--tool", tool_files[0], "--tools", tool_files[2])
    assert result.exit_code == 2 and "defined twice" in result.stderr


# -- tool calls in the output -------------------------------------------------------------------

def test_streamed_tool_call_is_printed_as_a_json_line(api, cli, tool_files):
    api.add("POST", CHAT, sse_response(tool_call_chunks(tool_call("call1", "get_weather", {"city": "Paris"}))))
    result = cli("chat", "weather?", "--tool", tool_files[0])
    assert result.exit_code == 0, result
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"id": "call1", "name": "get_weather", "arguments": {"city": "Paris"}}]


def test_text_then_parallel_tool_calls_each_on_its_own_line(api, cli, tool_files):
    events = [chunk("Let me check.", role="assistant"),
              chunk(tool_calls=[tool_call("a", "get_weather", {"city": "Oslo"}, 0)]),
              chunk(tool_calls=[tool_call("b", "get_time", {}, 1)]),
              chunk("", finish="tool_calls")]
    api.add("POST", CHAT, sse_response(events))
    result = cli("chat", "x", "--tools", tool_files[2])
    lines = result.stdout.splitlines()
    assert lines[0] == "Let me check."
    assert [json.loads(line)["id"] for line in lines[1:]] == ["a", "b"]


def test_tool_call_arguments_streamed_in_pieces_are_joined(api, cli, tool_files):
    first = tool_call("c1", "get_weather", '{"city": ')
    rest = {"index": 0, "function": {"arguments": '"Rome"}'}}
    api.add("POST", CHAT, sse_response([chunk(tool_calls=[first]), chunk(tool_calls=[rest], finish="tool_calls")]))
    result = cli("chat", "x", "--tool", tool_files[0], "-o", "json")
    call = json.loads(result.stdout)["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Rome"}'}


def test_tool_calls_are_in_the_json_body(api, cli, tool_files):
    call = tool_call("call9", "get_weather", {"city": "Lima"})
    api.add("POST", CHAT, sse_response(tool_call_chunks(call)))
    result = cli("chat", "x", "--tool", tool_files[0], "-o", "json")
    body = json.loads(result.stdout)
    assert body["choices"][0]["message"]["tool_calls"] == [call]
    assert body["choices"][0]["finish_reason"] == "tool_calls"


def test_whole_answer_tool_calls_are_printed(api, cli, tool_files):
    api.add("POST", CHAT, json_response(completion("", tool_calls=[tool_call("w1", "get_time", {})])))
    result = cli("chat", "x", "--tools", tool_files[2], "--no-stream")
    assert json.loads(result.stdout) == {"id": "w1", "name": "get_time", "arguments": {}}


# -- tool loops ------------------------------------------------------------------------------------

def test_a_whole_tool_loop_from_the_shell(api, cli, tool_files):
    call = tool_call("call1", "get_weather", {"city": "Paris"})
    api.add("POST", CHAT, sse_response(tool_call_chunks(call)), times=1)
    api.add("POST", CHAT, sse_response(text_chunks("It is sunny in Paris.")), times=1)
    first = cli("chat", "Weather in Paris?", "--tool", tool_files[0])
    assert json.loads(first.stdout)["id"] == "call1"
    second = cli("chat", "-c", "--tool-result", "call1=22 degrees, sunny")
    assert second.exit_code == 0, second
    assert second.stdout == "It is sunny in Paris.\n"
    body = last_body(api)
    assert body["tools"] == [{"type": "function", "function": WEATHER}]  # remembered
    assert body["messages"][1:] == [
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call1", "name": "get_weather", "content": "22 degrees, sunny"}]
    _conversation, records = saved("chat")
    assert [r.message["role"] for r in records] == ["user", "assistant", "tool", "assistant"]


def test_tool_result_file_and_two_parallel_calls(api, cli, tool_files, tmp_path):
    calls = [tool_call("a", "get_weather", {"city": "Oslo"}, 0), tool_call("b", "get_time", {}, 1)]
    api.add("POST", CHAT, sse_response(tool_call_chunks(*calls)), times=1)
    assert cli("chat", "x", "--tools", tool_files[2], "--cid", "loop").exit_code == 0
    result_file = tmp_path / "weather.txt"
    result_file.write_text("-3 degrees")
    second = cli("chat", "--cid", "loop", "--tool-result", "b=12:00", "--tool-result-file", f"a={result_file}")
    assert second.exit_code == 0, second
    tools_sent = [m for m in last_body(api)["messages"] if m["role"] == "tool"]
    assert tools_sent == [
        {"role": "tool", "tool_call_id": "a", "name": "get_weather", "content": "-3 degrees"},
        {"role": "tool", "tool_call_id": "b", "name": "get_time", "content": "12:00"}]


def test_tool_results_are_refused_without_history(api, cli):
    result = cli("chat", "-c", "--tool-result", "x=1", "--no-log")
    assert result.exit_code == 2
    assert "--tool-result needs a saved conversation" in result.stderr
    assert api.requests == []


def test_tool_results_need_a_conversation_to_continue(api, cli):
    result = cli("chat", "--tool-result", "x=1")
    assert result.exit_code == 2 and "add -c" in result.stderr


def test_unknown_or_missing_call_ids_are_refused(api, cli, tool_files):
    calls = [tool_call("a", "get_weather", {"city": "Oslo"}, 0), tool_call("b", "get_time", {}, 1)]
    api.add("POST", CHAT, sse_response(tool_call_chunks(*calls)), times=1)
    assert cli("chat", "x", "--tools", tool_files[2]).exit_code == 0
    unknown = cli("chat", "-c", "--tool-result", "zzz=1")
    assert unknown.exit_code == 2 and "no pending tool call zzz" in unknown.stderr
    missing = cli("chat", "-c", "--tool-result", "a=1")
    assert missing.exit_code == 2 and "also called b" in missing.stderr
    malformed = cli("chat", "-c", "--tool-result", "no-equals-sign")
    assert malformed.exit_code == 2 and "CALL_ID=TEXT" in malformed.stderr
    assert len(chat_requests(api)) == 1


def test_tool_result_when_nothing_is_pending(api, cli):
    assert cli("chat", "plain question").exit_code == 0
    result = cli("chat", "-c", "--tool-result", "a=1")
    assert result.exit_code == 2 and "no pending tool call" in result.stderr
