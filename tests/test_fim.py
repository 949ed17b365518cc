"""End-to-end tests of `mcli fim` against the fake API."""

from __future__ import annotations

import json

import pytest

from tests.fakeapi import json_response, sse_response
from tests.generation_helpers import chat_requests, completion, saved, text_chunks, write_config

FIM = "/v1/fim/completions"


def last_body(api) -> dict:
    return chat_requests(api, FIM)[-1].json


def test_prompt_and_suffix_stream_the_completion(api, cli):
    api.add("POST", FIM, sse_response(text_chunks("    return a", " + b")))
    result = cli("fim", "def add(a, b):\n", "--suffix", "\nprint(add(1, 2))")
    assert result.exit_code == 0, result
    assert result.stdout == "    return a + b\n"
    assert last_body(api) == {"prompt": "def add(a, b):\n", "suffix": "\nprint(add(1, 2))",
                              "model": "codestral-latest", "stream": True}


def test_prompt_is_taken_literally(api, cli):
    assert cli("fim", "@dataclass\nclass Point:").exit_code == 0
    assert last_body(api)["prompt"] == "@dataclass\nclass Point:"


def test_prompt_and_suffix_files(api, cli, tmp_path):
    head, tail = tmp_path / "head.py", tmp_path / "tail.py"
    head.write_text("import os\n")
    tail.write_text("main()\n")
    assert cli("fim", "--prompt-file", head, "--suffix-file", tail).exit_code == 0
    assert (last_body(api)["prompt"], last_body(api)["suffix"]) == ("import os\n", "main()\n")


def test_prompt_from_stdin_and_no_stdin(api, cli):
    assert cli("fim", input="def f():").exit_code == 0
    assert last_body(api)["prompt"] == "def f():"
    result = cli("fim", "--no-stdin", input="def f():")
    assert result.exit_code == 2 and "nothing to complete" in result.stderr


def test_every_field_and_the_profile_model(api, cli):
    write_config('[profiles.default.model]\nfim = "codestral-2405"\n')
    result = cli("fim", "x", "--temperature", "0.3", "--top-p", "0.8", "--max-tokens", "64",
                 "--min-tokens", "2", "--stop", "\n\n", "--seed", "1")
    assert result.exit_code == 0, result
    body = last_body(api)
    assert body == {"prompt": "x", "model": "codestral-2405", "stream": True, "temperature": 0.3,
                    "top_p": 0.8, "max_tokens": 64, "min_tokens": 2, "stop": ["\n\n"], "random_seed": 1}
    assert cli("fim", "x", "-m", "codestral-latest").exit_code == 0
    assert last_body(api)["model"] == "codestral-latest"


@pytest.mark.parametrize("args, message", [
    (["--min-tokens", "-1"], "--min-tokens must be at least 0"),
    (["--temperature", "2"], "--temperature must be between 0 and 1.5"),
    (["--suffix", "a", "--suffix-file", "b"], "--suffix and --suffix-file cannot be used together"),
    (["--cursor", "@@"], "--cursor MARKER and --file PATH go together"),
])
def test_bad_options_are_refused(api, cli, args, message):
    result = cli("fim", "x", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert api.requests == []


def test_cursor_splits_the_file_and_prints_only_the_completion(api, cli, tmp_path):
    source = tmp_path / "app.py"
    source.write_text("def area(r):\n    <|cursor|>\n\nprint(area(2))\n")
    api.add("POST", FIM, sse_response(text_chunks("return 3.14159 * r * r")))
    result = cli("fim", "--cursor", "<|cursor|>", "--file", source, tty=True)
    assert result.exit_code == 0, result
    assert result.stdout == "return 3.14159 * r * r"  # no newline added, even on a terminal
    assert last_body(api)["prompt"] == "def area(r):\n    "
    assert last_body(api)["suffix"] == "\n\nprint(area(2))\n"


@pytest.mark.parametrize("text, message", [("no marker here", "not found"), ("@@ and @@", "found 2 times")])
def test_cursor_marker_must_appear_exactly_once(api, cli, tmp_path, text, message):
    source = tmp_path / "f.py"
    source.write_text(text)
    result = cli("fim", "--cursor", "@@", "--file", source)
    assert result.exit_code == 2 and message in result.stderr
    assert api.requests == []


def test_cursor_conflicts_with_a_prompt(api, cli, tmp_path):
    source = tmp_path / "f.py"
    source.write_text("a @@ b")
    result = cli("fim", "x", "--cursor", "@@", "--file", source)
    assert result.exit_code == 2 and "drop PROMPT" in result.stderr


def test_no_stream_and_json_outputs(api, cli):
    body = completion("whole completion", model="codestral-latest")
    api.add("POST", FIM, json_response(body), times=2)
    result = cli("fim", "x", "--no-stream")
    assert result.stdout == "whole completion\n" and last_body(api)["stream"] is False
    assert json.loads(cli("fim", "x", "--no-stream", "-o", "json").stdout) == body
    streamed = cli("fim", "x", "-o", "json")
    assert json.loads(streamed.stdout)["choices"][0]["message"]["content"] == "Hello from the fake API!"


def test_jsonl_prints_each_chunk(api, cli):
    events = text_chunks("a", "b")
    api.add("POST", FIM, sse_response(events))
    result = cli("fim", "x", "-o", "jsonl")
    assert [json.loads(line) for line in result.stdout.splitlines()] == events


def test_body_is_the_base(api, cli, tmp_path):
    path = tmp_path / "body.json"
    path.write_text(json.dumps({"prompt": "from body", "suffix": "end", "max_tokens": 5}))
    assert cli("fim", "--body", path, "--max-tokens", "6").exit_code == 0
    assert last_body(api) == {"prompt": "from body", "suffix": "end", "max_tokens": 6,
                              "model": "codestral-latest", "stream": True}
    path.write_text(json.dumps({"prompt": "p", "messages": []}))
    result = cli("fim", "--body", path)
    assert result.exit_code == 2 and "messages not accepted by fim" in result.stderr



@pytest.mark.parametrize("fields, message", [
    ({"stop": 5}, "--body field stop must be a string or a list of strings"),
    ({"min_tokens": -1}, "--body field min_tokens"),
    ({"suffix": 3}, "--body field suffix must be a string"),
])
def test_body_fields_are_checked_before_sending(api, cli, tmp_path, fields, message):
    path = tmp_path / "body.json"
    path.write_text(json.dumps({"prompt": "p", **fields}))
    result = cli("fim", "--body", path)
    assert result.exit_code == 2 and message in result.stderr
    assert not api.requests

def test_exchange_is_saved_as_fim_unless_no_log(api, cli):
    assert cli("fim", "def f():", "--suffix", "f()").exit_code == 0
    conversation, records = saved("fim")
    assert conversation.kind == "fim" and conversation.model == "codestral-latest"
    assert [r.message for r in records] == [
        {"role": "user", "content": "def f():", "suffix": "f()"},
        {"role": "assistant", "content": "Hello from the fake API!"}]
    assert cli("fim", "again", "--no-log").exit_code == 0
    assert len(saved("fim")[1]) == 2


def test_cut_stream_keeps_the_partial_completion(api, cli):
    api.add("POST", FIM, sse_response(text_chunks("part", "ial", "never"), cut_after=2))
    result = cli("fim", "x")
    assert result.exit_code == 1 and result.stdout == "partial\n"
    assert saved("fim")[1][-1].incomplete
