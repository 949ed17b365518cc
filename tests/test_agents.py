"""End-to-end tests of `mcli agents AGENT_ID [PROMPT]` (the code it shares with chat is
tested in test_chat.py; here: the agent-specific request and conversations)."""

from __future__ import annotations

import json

import pytest

from tests.fakeapi import json_response, sse_response
from tests.generation_helpers import (chat_requests, completion, saved, text_chunks, tool_call,
                                      tool_call_chunks)

AGENTS = "/v1/agents/completions"
AGENT = "ag:3996db2b:20240805:support:a1b2c3d4"


def last_body(api) -> dict:
    return chat_requests(api, AGENTS)[-1].json


def test_agent_answer_streams_and_the_request_has_no_model(api, cli):
    api.add("POST", AGENTS, sse_response(text_chunks("Agent ", "here.")))
    result = cli("agents", AGENT, "Hello")
    assert result.exit_code == 0, result
    assert result.stdout == "Agent here.\n"
    assert last_body(api) == {"agent_id": AGENT, "stream": True,
                              "messages": [{"role": "user", "content": "Hello"}]}


def test_agent_fields_reach_the_request(api, cli, tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text('{"type": "object"}')
    result = cli("agents", AGENT, "x", "--max-tokens", "10", "--stop", "END", "--seed", "3",
                 "--presence-penalty", "1", "--frequency-penalty", "1", "--prediction", "p",
                 "--schema", schema, "--no-parallel-tool-calls", "-n", "1")
    assert result.exit_code == 0, result
    body = last_body(api)
    assert body["max_tokens"] == 10 and body["stop"] == ["END"] and body["random_seed"] == 3
    assert body["presence_penalty"] == 1 and body["frequency_penalty"] == 1 and body["n"] == 1
    assert body["prediction"] == {"type": "content", "content": "p"}
    assert body["response_format"]["type"] == "json_schema"
    assert body["parallel_tool_calls"] is False
    assert not {"model", "temperature", "top_p", "safe_prompt"} & set(body)


@pytest.mark.parametrize("option", [["--temperature", "0.5"], ["--top-p", "0.5"], ["-m", "x"], ["--safe-prompt"]])
def test_model_settings_are_not_options_of_agents(api, cli, option):
    result = cli("agents", AGENT, "x", *option)
    assert result.exit_code == 2
    assert api.requests == []


def test_model_in_body_is_refused(api, cli, tmp_path):
    path = tmp_path / "body.json"
    path.write_text('{"model": "mistral-large-latest"}')
    result = cli("agents", AGENT, "x", "--body", path)
    assert result.exit_code == 2 and "model not accepted by agents" in result.stderr


def test_agent_id_is_required(api, cli):
    result = cli("agents")
    assert result.exit_code == 2
    assert api.requests == []


def test_agent_conversations_continue_separately_from_chat(api, cli):
    assert cli("agents", AGENT, "agent question").exit_code == 0
    assert cli("chat", "chat question").exit_code == 0
    assert cli("agents", AGENT, "-c", "follow-up").exit_code == 0
    assert [m["content"] for m in last_body(api)["messages"]] == [
        "agent question", "Hello from the fake API!", "follow-up"]
    conversation, records = saved("agents")
    assert conversation.agent_id == AGENT and len(records) == 4


def test_agent_tool_loop(api, cli, tmp_path):
    call = tool_call("t1", "lookup_order", {"order": 42})
    api.add("POST", AGENTS, sse_response(tool_call_chunks(call)), times=1)
    first = cli("agents", AGENT, "Where is order 42?")
    assert json.loads(first.stdout) == {"id": "t1", "name": "lookup_order", "arguments": {"order": 42}}
    second = cli("agents", AGENT, "-c", "--tool-result", "t1=shipped")
    assert second.exit_code == 0, second
    assert last_body(api)["messages"][-1] == {"role": "tool", "tool_call_id": "t1",
                                              "name": "lookup_order", "content": "shipped"}


def test_output_json_and_no_stream(api, cli):
    body = completion("whole")
    api.add("POST", AGENTS, json_response(body))
    result = cli("agents", AGENT, "x", "--no-stream", "-o", "json")
    assert json.loads(result.stdout) == body
    assert last_body(api)["stream"] is False


def test_cut_stream_exits_1_with_the_partial_answer(api, cli):
    api.add("POST", AGENTS, sse_response(text_chunks("one ", "two ", "three"), cut_after=2))
    result = cli("agents", AGENT, "x")
    assert result.exit_code == 1 and result.stdout == "one two \n"
    assert saved("agents")[1][-1].incomplete


def test_tool_choice_may_name_one_of_the_agents_own_tools(api, cli):
    assert cli("agents", AGENT, "x", "--tool-choice", "web_search_helper").exit_code == 0
    assert last_body(api)["tool_choice"] == {"type": "function", "function": {"name": "web_search_helper"}}
