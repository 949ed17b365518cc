"""Property test (Hypothesis) over server bodies: for each command that reads a body, bodies
built from the spec's response schema, then mutated (wrong types, nulls, huge numbers, NaN,
hostile strings with ESC/OSC/markup, `../` names). Run in-process on a forced terminal and off
it, no answer ever gives an internal error, an escape sequence on the terminal, or a file
outside the chosen folder."""

from __future__ import annotations

import json
import math
import os
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fakeapi.responses import Response
from tests.fakeapi.spec import load_spec, resolve

FILE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
MODEL_ID = "ft:open-mistral-7b:587a6b29:20240514:7e773925"
# few examples per command (about 35 commands): each runs the CLI twice per example
SETTINGS = settings(max_examples=4, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
TERMINAL_CONTROL = re.compile("[\x1b\x80-\x9f]")
HOSTILE = st.sampled_from(["\x1b]52;c;ZWNobyBwd25lZA==\x07", "\x1b[2J", "\x9b31m", "[bold red]x[/]",
                           "../../escaped", "/etc/passwd", "a\x00b", "\u202eevil", "x" * 300, "", "NaN"])
NUMBERS = st.sampled_from([10**20, -10**20, 1e308, -1, 0, 2**63, math.nan, math.inf, -math.inf, 1e-300])

# command, then (method, spec path, concrete path) of the body it reads: every command that
# reads a JSON body (streams are tested in test_hostile_http.py). {upload} and {messages} are
# local files outside the folder the test watches for stray files.
COMMANDS = [
    (("ocr", "https://example.com/a.pdf", "--output-dir", "out"), ("POST", "/v1/ocr", "/v1/ocr")),
    (("embeddings", "t0", "t1"), ("POST", "/v1/embeddings", "/v1/embeddings")),
    (("classifiers", "moderate", "t0", "t1"), ("POST", "/v1/moderations", "/v1/moderations")),
    (("classifiers", "classify", "-m", "ft:classifier:m:1", "t0", "t1"),
     ("POST", "/v1/classifications", "/v1/classifications")),
    (("classifiers", "moderate-chat", "--messages", "{messages}"),
     ("POST", "/v1/chat/moderations", "/v1/chat/moderations")),
    (("classifiers", "classify-chat", "-m", "ft:classifier:m:1", "--messages", "{messages}"),
     ("POST", "/v1/chat/classifications", "/v1/chat/classifications")),
    (("chat", "--no-stream", "hi"), ("POST", "/v1/chat/completions", "/v1/chat/completions")),
    (("fim", "--no-stream", "def f("), ("POST", "/v1/fim/completions", "/v1/fim/completions")),
    (("agents", "--no-stream", "ag:3996db2b:20240805:my-agent:a1b2c3d4", "hi"),
     ("POST", "/v1/agents/completions", "/v1/agents/completions")),
    # --new: each example is a run of its own (a resumed run would look on the server first)
    (("fine-tuning", "create", "--new", "-m", "open-mistral-7b", "--training-file", FILE_ID),
     ("POST", "/v1/fine_tuning/jobs", "/v1/fine_tuning/jobs")),
    (("fine-tuning", "get", FILE_ID), ("GET", "/v1/fine_tuning/jobs/{job_id}", f"/v1/fine_tuning/jobs/{FILE_ID}")),
    (("fine-tuning", "list"), ("GET", "/v1/fine_tuning/jobs", "/v1/fine_tuning/jobs")),
    (("fine-tuning", "cancel", FILE_ID, "--yes"),
     ("POST", "/v1/fine_tuning/jobs/{job_id}/cancel", f"/v1/fine_tuning/jobs/{FILE_ID}/cancel")),
    (("fine-tuning", "start", FILE_ID),
     ("POST", "/v1/fine_tuning/jobs/{job_id}/start", f"/v1/fine_tuning/jobs/{FILE_ID}/start")),
    (("files", "upload", "{upload}", "--purpose", "ocr"), ("POST", "/v1/files", "/v1/files")),
    (("files", "list"), ("GET", "/v1/files", "/v1/files")),
    (("files", "get", FILE_ID), ("GET", "/v1/files/{file_id}", f"/v1/files/{FILE_ID}")),
    (("files", "url", FILE_ID), ("GET", "/v1/files/{file_id}/url", f"/v1/files/{FILE_ID}/url")),
    (("files", "delete", FILE_ID, "--yes"), ("DELETE", "/v1/files/{file_id}", f"/v1/files/{FILE_ID}")),
    (("models", "list"), ("GET", "/v1/models", "/v1/models")),
    (("models", "get", MODEL_ID), ("GET", "/v1/models/{model_id}", "/v1/models/{model_id}")),
    (("models", "delete", MODEL_ID, "--yes"), ("DELETE", "/v1/models/{model_id}", "/v1/models/{model_id}")),
    (("models", "update", MODEL_ID, "--name", "n"),
     ("PATCH", "/v1/fine_tuning/models/{model_id}", "/v1/fine_tuning/models/{model_id}")),
    (("models", "archive", MODEL_ID),
     ("POST", "/v1/fine_tuning/models/{model_id}/archive", "/v1/fine_tuning/models/{model_id}/archive")),
    (("models", "unarchive", MODEL_ID),
     ("DELETE", "/v1/fine_tuning/models/{model_id}/archive", "/v1/fine_tuning/models/{model_id}/archive")),
    (("batch", "create", "--new", "-i", FILE_ID, "--endpoint", "/v1/chat/completions", "-m", "m"),
     ("POST", "/v1/batch/jobs", "/v1/batch/jobs")),
    (("batch", "list"), ("GET", "/v1/batch/jobs", "/v1/batch/jobs")),
    (("batch", "get", FILE_ID), ("GET", "/v1/batch/jobs/{job_id}", f"/v1/batch/jobs/{FILE_ID}")),
    (("batch", "cancel", FILE_ID, "--yes"),
     ("POST", "/v1/batch/jobs/{job_id}/cancel", f"/v1/batch/jobs/{FILE_ID}/cancel")),
]


def response_schema(method: str, path: str) -> dict:
    """The 200 JSON schema of METHOD PATH in the spec."""
    responses = load_spec()["paths"][path][method.lower()]["responses"]
    return responses["200"]["content"]["application/json"]["schema"]


def from_schema(schema, depth: int = 0) -> st.SearchStrategy:
    """Values shaped by SCHEMA (depth-limited), any node possibly replaced by a hostile one."""
    return st.one_of(_shaped(resolve(schema), depth), _hostile(depth)) if depth else _shaped(resolve(schema), depth)


def _hostile(depth: int) -> st.SearchStrategy:
    """A wrong type, a null, an absurd number or a hostile string."""
    return st.one_of(st.none(), NUMBERS, HOSTILE, st.booleans(), st.just([]), st.just({}),
                     st.just([None, "\x1b[31m"]))


def _shaped(schema, depth: int) -> st.SearchStrategy:
    """Values that follow SCHEMA's type."""
    if not isinstance(schema, dict) or depth > 5:
        return _hostile(depth)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return st.one_of([from_schema(part, depth + 1) for part in schema[key][:4]])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return st.fixed_dictionaries({}, optional={name: from_schema(sub, depth + 1)
                                                   for name, sub in list(props.items())[:25]})
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=3)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "string":
        return st.one_of(st.text(max_size=10), HOSTILE)
    if kind == "integer":
        return st.one_of(st.integers(-5, 5), NUMBERS)
    if kind == "number":
        return st.one_of(st.floats(allow_nan=True, allow_infinity=True), NUMBERS)
    if kind == "boolean":
        return st.booleans()
    return _hostile(depth)


def raw_json(body) -> Response:
    """BODY as the server would send it, NaN and infinities written as Python's json does."""
    return Response(200, json.dumps(body).encode(), {}, "application/json")


def files_under(folder) -> set[str]:
    return {os.path.relpath(os.path.join(root, name), folder)
            for root, _dirs, names in os.walk(folder) for name in names}


@pytest.mark.parametrize(("args", "endpoint"), COMMANDS, ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_no_body_gives_an_internal_error_an_escape_or_a_stray_file(api, cli, tmp_path, monkeypatch, args, endpoint):
    api.ignore_violations()
    method, spec_path, path = endpoint
    current: list = [None]
    api.add(method, path, lambda _req: raw_json(current[0]))  # not optional: the command must reach it
    local = {"upload": tmp_path / "scan.pdf", "messages": tmp_path / "messages.json"}
    local["upload"].write_bytes(b"%PDF-1.4\n%%EOF\n")
    local["messages"].write_text('[{"role": "user", "content": "hi"}]', encoding="utf-8")
    args = tuple(arg.format(**local) if arg.startswith("{") else arg for arg in args)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    @SETTINGS
    @example(body=[], tty=False, as_json=False)  # the wrong shapes every command meets first
    @example(body=None, tty=True, as_json=True)
    @given(body=st.one_of(from_schema(response_schema(method, spec_path)), _hostile(0)), tty=st.booleans(),
           as_json=st.booleans())
    def check(body, tty, as_json):
        current[0] = body
        before = files_under(work)
        result = cli(*(("--color", "never") if tty else ()), *args, "--max-retries", "0",
                     *(("-o", "json") if as_json else ()), tty=tty)
        assert "internal error" not in result.stderr, (body, result.stderr)
        if tty:
            assert not TERMINAL_CONTROL.search(result.stdout + result.stderr), (body, result)
        stray = {name for name in files_under(work) - before if not name.startswith("out" + os.sep)}
        assert not stray, (body, stray)
        for name in files_under(work):
            os.remove(work / name)

    check()


@pytest.mark.parametrize(("body", "code", "said"), [
    ({"choices": [5]}, 1, "unexpected response from POST /v1/chat/completions: choices[0]: a number, not an object"),
    ({"choices": 5}, 1, "unexpected response from POST /v1/chat/completions: choices: a number, not a list"),
    ({"choices": [{"message": {"role": "assistant", "content": "ok"}}], "usage": 10**20}, 0, ""),
])
def test_a_whole_answer_of_the_wrong_shape_is_named_and_a_wrong_usage_ignored(api, cli, body, code, said):
    api.add("POST", "/v1/chat/completions", raw_json(body))
    result = cli("-v", "chat", "--no-stream", "hi")
    assert result.exit_code == code, result
    assert said in result.stderr and "internal error" not in result.stderr
