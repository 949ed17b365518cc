"""Malformed server bodies: a body without the shape mcli needs is one line, `unexpected
response from METHOD PATH: where: what`, exit 1 -- never an internal error; absurd times
render; NaN never reaches JSON."""

from __future__ import annotations

import json

import pytest

from tests.fakeapi import json_response
from tests.fakeapi.defaults import completion_job

JOB_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
OCR = "/v1/ocr"
EMBED = "/v1/embeddings"


def one_error_line(result, start: str) -> None:
    assert result.exit_code == 1, result
    assert "internal error" not in result.stderr
    assert result.stderr.startswith(f"mcli: error: {start}"), result.stderr


def ocr_answer(pages) -> dict:
    return {"pages": pages, "model": "mistral-ocr-latest", "usage_info": {"pages_processed": 1}}


@pytest.mark.parametrize(("body", "where"), [
    ([1, 2], "body: a list, not an object"),
    ({"pages": 5, "model": "m"}, "pages: a number, not a list"),
    (ocr_answer([{"index": 0, "markdown": "x", "images": 3}]), "pages[0].images: a number, not a list"),
    (ocr_answer(["page"]), "pages[0]: a string, not an object"),
])
def test_ocr_bodies_without_the_needed_shape(api, cli, tmp_path, body, where):
    api.add("POST", OCR, json_response(body))
    result = cli("ocr", "https://example.com/a.pdf", "--output-dir", tmp_path / "out")
    one_error_line(result, f"unexpected response from POST /v1/ocr: {where}")


@pytest.mark.parametrize(("data", "where"), [
    ([{"index": "zero", "embedding": [1.0]}], "data[0].index: a string, not an integer"),
    (["not an object"], "data[0]: a string, not an object"),
    ([{"index": 0, "embedding": "x"}], "data[0].embedding: a string, not a list"),
    ([{"index": 0, "embedding": [1.0, "x"]}], "data[0].embedding[1]: a string, not a number"),
    ([{"index": 3, "embedding": [1.0]}], "data: the indexes are not 0 to 0, each once"),
])
def test_embeddings_bodies_without_the_needed_shape(api, cli, data, where):
    api.add("POST", EMBED, json_response({"id": "e", "object": "list", "model": "m", "data": data}))
    result = cli("embeddings", "t0")
    one_error_line(result, f"unexpected response from POST /v1/embeddings: {where}")


@pytest.mark.parametrize(("field", "value", "where"), [
    ("events", 7, "events"),
    ("checkpoints", "many", "checkpoints"),
    ("events", [{"name": "x", "created_at": "soon"}], "events.0.created_at"),
])
def test_fine_tuning_get_with_wrong_types(api, cli, field, value, where):
    body = {**completion_job(JOB_ID, "RUNNING", detailed=True), field: value}
    api.add("GET", f"/v1/fine_tuning/jobs/{JOB_ID}", json_response(body))
    result = cli("fine-tuning", "get", JOB_ID)
    one_error_line(result, f"unexpected response from GET /v1/fine_tuning/jobs/{JOB_ID}: {where}")


MODEL_ID = "ft:open-mistral-7b:587a6b29:20240514:7e773925"


@pytest.mark.parametrize(("args", "request_"), [
    (("files", "get", JOB_ID), f"GET /v1/files/{JOB_ID}"),
    (("files", "delete", JOB_ID, "--yes"), f"DELETE /v1/files/{JOB_ID}"),
    (("files", "url", JOB_ID, "--expiry", "2"), f"GET /v1/files/{JOB_ID}/url"),
    (("models", "get", MODEL_ID), f"GET /v1/models/{MODEL_ID}"),
    (("models", "delete", MODEL_ID, "--yes"), f"DELETE /v1/models/{MODEL_ID}"),
    (("models", "update", MODEL_ID, "--name", "n"), f"PATCH /v1/fine_tuning/models/{MODEL_ID}"),
    (("models", "archive", MODEL_ID), f"POST /v1/fine_tuning/models/{MODEL_ID}/archive"),
    (("models", "unarchive", MODEL_ID), f"DELETE /v1/fine_tuning/models/{MODEL_ID}/archive"),
    (("fine-tuning", "cancel", JOB_ID, "--yes"), f"POST /v1/fine_tuning/jobs/{JOB_ID}/cancel"),
    (("fine-tuning", "start", JOB_ID), f"POST /v1/fine_tuning/jobs/{JOB_ID}/start"),
    (("batch", "get", JOB_ID), f"GET /v1/batch/jobs/{JOB_ID}"),
])
def test_a_command_showing_one_object_names_its_request_when_the_body_is_not_one(api, cli, args, request_):
    method, path = request_.split(" ")
    api.add(method, path, json_response([1]))
    result = cli(*args)
    one_error_line(result, f"unexpected response from {request_}: body: a list, not an object")


@pytest.mark.parametrize("tty", [False, True])
def test_absurd_times_render_without_crashing(api, cli, tty):
    body = {**completion_job(JOB_ID, "RUNNING", detailed=True), "created_at": 10**20, "modified_at": -10**20}
    api.add("GET", f"/v1/fine_tuning/jobs/{JOB_ID}", json_response(body))
    result = cli("fine-tuning", "get", JOB_ID, tty=tty)
    assert result.exit_code == 0, result


def test_nan_and_infinity_never_reach_json_output(api, cli):
    raw = ('{"id": "e", "object": "list", "model": "m", "data": [{"object": "embedding", "index": 0,'
           ' "embedding": [NaN, Infinity, -Infinity, 1.5]}]}')
    api.add("POST", EMBED, lambda _req: _raw(raw), times=2)
    for output in ("json", "jsonl"):
        result = cli("embeddings", "t0", "-o", output)
        assert result.exit_code == 0, result
        assert "NaN" not in result.stdout and "Infinity" not in result.stdout
        json.loads(result.stdout.splitlines()[0] if output == "jsonl" else result.stdout,
                   parse_constant=_refuse)


def _raw(text: str):
    from tests.fakeapi.responses import Response

    return Response(200, text.encode(), {}, "application/json")


def _refuse(name: str):
    raise AssertionError(f"{name} in JSON output")
