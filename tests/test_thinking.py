"""A reasoning model's thinking chunks: shown apart from the words (stderr, by --thinking),
kept in the history and in -o json, left out of what is sent back; unknown chunk fields ignored."""

from __future__ import annotations

import json

import pytest

from mistral_cli.bodies.content import thinking, words
from tests.fakeapi import json_response, sse_response
from tests.generation_helpers import USAGE, chat_requests, chunk, completion, saved

CHAT = "/v1/chat/completions"
LISTED = {"type": "thinking", "thinking": [{"type": "text", "text": "Let me think. "},
                                           {"type": "text", "text": "Two."}]}
PLAIN = {"type": "thinking", "thinking": "Let me think. Two."}


def thinking_chunks(shape: dict) -> list[dict]:
    """A streamed answer: thinking as a list of chunks, then the words (a list, then strings)."""
    return [chunk([shape], role="assistant"), chunk([{"type": "text", "text": "1 + 1 "}]),
            chunk("= 2"), chunk("", finish="stop", usage=USAGE)]


@pytest.mark.parametrize("shape", [LISTED, PLAIN])
def test_both_shapes_of_a_thinking_chunk_are_read(shape):
    content = [shape, {"type": "text", "text": "2"}]
    assert thinking(content) == "Let me think. Two." and words(content) == "2"


@pytest.mark.parametrize("shape", [LISTED, PLAIN])
def test_streamed_thinking_shown_on_stderr_kept_in_history_and_not_sent_back(api, cli, shape):
    api.add("POST", CHAT, sse_response(thinking_chunks(shape)), times=1)
    result = cli("chat", "1+1?", "--thinking", "show")
    assert result.exit_code == 0, result
    assert result.stdout == "1 + 1 = 2\n"
    assert result.stderr == "Let me think. Two.\n"
    _conversation, records = saved("chat")
    assert records[-1].message["content"] == [
        {"type": "thinking", "thinking": [{"type": "text", "text": "Let me think. Two."}]},
        {"type": "text", "text": "1 + 1 = 2"}]
    api.add("POST", CHAT, json_response(completion("3")))
    assert cli("chat", "-c", "and 1+2?", "--no-stream").exit_code == 0
    assert chat_requests(api)[-1].json["messages"][1] == {"role": "assistant", "content": "1 + 1 = 2"}


def test_thinking_is_hidden_off_a_terminal_by_default_and_with_hide(api, cli):
    api.add("POST", CHAT, sse_response(thinking_chunks(LISTED)), times=2)
    for extra in ([], ["--thinking", "hide"]):
        result = cli("chat", "1+1?", *extra)
        assert result.exit_code == 0, result
        assert (result.stdout, result.stderr) == ("1 + 1 = 2\n", "")


def test_streamed_json_keeps_the_thinking(api, cli):
    api.add("POST", CHAT, sse_response(thinking_chunks(LISTED)))
    result = cli("chat", "1+1?", "-o", "json")
    assert result.exit_code == 0, result
    content = json.loads(result.stdout)["choices"][0]["message"]["content"]
    assert thinking(content) == "Let me think. Two." and words(content) == "1 + 1 = 2"


def test_a_whole_answer_shows_its_thinking_first(api, cli):
    body = completion("2")
    body["choices"][0]["message"]["content"] = [LISTED, {"type": "text", "text": "2"}]
    api.add("POST", CHAT, json_response(body))
    result = cli("chat", "1+1?", "--no-stream", "--thinking", "show")
    assert result.exit_code == 0, result
    assert (result.stdout, result.stderr) == ("2\n", "Let me think. Two.\n")
    assert saved("chat")[1][-1].message["content"] == [LISTED, {"type": "text", "text": "2"}]


def test_thinking_escape_sequences_never_reach_stderr(api, cli):
    hostile = {"type": "thinking", "thinking": [{"type": "text", "text": "a\x1b]52;c;eA==\x07b"}]}
    api.add("POST", CHAT, sse_response(thinking_chunks(hostile)))
    result = cli("chat", "x", "--thinking", "show")
    assert result.exit_code == 0, result
    assert result.stderr == "a]52;c;eA==b\n"


def test_stream_fields_the_spec_does_not_know_change_nothing(api, cli):
    events = thinking_chunks(LISTED)
    padded = [{**event, "p": "abcdefgh"} for event in events]
    padded[1]["choices"][0]["delta"] = {**padded[1]["choices"][0]["delta"], "p": "x"}
    api.add("POST", CHAT, sse_response(events), times=1)
    api.add("POST", CHAT, sse_response(padded), times=1)
    plain, extra = (cli("chat", "1+1?", "-o", "json") for _ in range(2))
    assert plain.exit_code == extra.exit_code == 0
    assert json.loads(plain.stdout) == json.loads(extra.stdout)


def test_on_a_terminal_thinking_is_dim_and_ends_its_line_before_the_words():
    import io

    from mistral_cli.env import Env
    from mistral_cli.generation.thinking import thinking_view

    stderr, words_out = io.StringIO(), []
    env = Env(io.StringIO(), io.StringIO(), stderr, stderr_isatty=True, environ={"TERM": "xterm"})
    view = thinking_view(env, "auto")
    view.think("hmm")
    view.before(words_out.append)("2")
    assert stderr.getvalue() == "\x1b[2mhmm\x1b[0m\n" and words_out == ["2"]
    assert thinking_view(env, "hide") is None
    assert thinking_view(Env(io.StringIO(), io.StringIO(), io.StringIO(), environ={}), "auto") is None
