"""Tests of the test infrastructure itself: spec loader/validator, FakeAPI
server (stubs, defaults, SSE, cuts, downloads, streaming multipart) and the
keyring backends. Uses httpx directly, never the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc

import httpx
import pytest

from tests.fakeapi import (FakeAPI, bytes_response, empty_response, error_400,
                           error_401_detail, error_401_message, error_422, error_empty,
                           error_proxy_text, expected_bytes, json_response, sse_response,
                           text_response)
from tests.fakeapi import spec
from tests.fakeapi.defaults import FILE_ID, FT_MODEL, JOB_ID

AUTH = {"Authorization": "Bearer test-key-1234"}
JSON = "application/json"
MSGS = [{"role": "user", "content": "hi"}]


def body(obj) -> bytes:
    return json.dumps(obj).encode()


def check(method, path, payload=None, query=None, headers=AUTH):
    return spec.validate_request(method, path, query or {}, headers,
                                 None if payload is None else body(payload),
                                 JSON if payload is not None else "")


@pytest.fixture
def server():
    api = FakeAPI().start()
    yield api
    api.stop()


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as c:
        yield c


# ---------------------------------------------------------------- spec ----

def test_spec_has_30_operations_and_is_mended():
    assert len(spec.operations()) == 30
    data = spec.load_spec()

    def walk(node):
        if isinstance(node, dict):
            assert not ("type" in node and node["type"] is None), node
            if isinstance(node.get("required"), list):
                assert len(node["required"]) == len(set(node["required"]))
            for key in ("minimum", "maximum"):
                assert not isinstance(node.get(key), str), node
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    lr = data["components"]["schemas"]["CompletionTrainingParametersIn"]
    assert lr["properties"]["learning_rate"]["minimum"] == 1e-08
    assert data["components"]["schemas"]["ClassificationRequest"]["required"] == [
        "input", "model"]


def test_mended_spec_passes_openapi_spec_validator():
    from jsonschema_path import SchemaPath
    from openapi_spec_validator import OpenAPIV30SpecValidator

    errors = list(OpenAPIV30SpecValidator(SchemaPath.from_dict(spec.load_spec())).iter_errors())
    assert errors == []


def test_operation_for():
    assert spec.operation_for("GET", "/v1/models") == "list_models_v1_models_get"
    assert spec.operation_for("get", f"/v1/files/{FILE_ID}/content?x=1") == \
        "files_api_routes_download_file"
    assert spec.operation_for("PUT", "/v1/models") is None
    assert spec.operation_for("GET", "/v2/nothing") is None


def test_valid_chat_request_passes():
    assert check("POST", "/v1/chat/completions", {"model": "m", "messages": MSGS}) == []
    full = {"model": "m", "temperature": 0.7, "top_p": 1, "max_tokens": 10, "stream": True,
            "random_seed": 1, "stop": ["\n"], "safe_prompt": False,
            "response_format": {"type": "json_object", "json_schema": None},
            "messages": [{"role": "system", "content": "be nice"},
                         {"role": "user", "content": [{"type": "text", "text": "x"}]},
                         {"role": "assistant", "content": None, "tool_calls": [
                             {"id": "c1", "type": "function",
                              "function": {"name": "f", "arguments": "{}"}}]},
                         {"role": "tool", "content": "42", "tool_call_id": "c1"}]}
    assert check("POST", "/v1/chat/completions", full) == []


def test_null_content_allowed_but_wrong_type_rejected():
    ok = {"model": "m", "messages": [{"role": "user", "content": None}]}
    assert check("POST", "/v1/chat/completions", ok) == []
    bad = {"model": "m", "messages": [{"role": "user", "content": 5}]}
    assert any("messages/0/content" in v for v in check("POST", "/v1/chat/completions", bad))


def test_json_schema_is_any_type():
    payload = {"model": "m", "messages": MSGS,
               "response_format": {"type": "json_schema",
                                   "json_schema": {"name": "x", "schema": {}}}}
    assert check("POST", "/v1/chat/completions", payload) == []


def test_chat_temperature_hot_is_flagged():
    v = check("POST", "/v1/chat/completions",
              {"model": "m", "messages": MSGS, "temperature": "hot"})
    assert len(v) == 1 and "temperature" in v[0] and "number" in v[0]
    v = check("POST", "/v1/chat/completions",
              {"model": "m", "messages": MSGS, "temperature": 2})
    assert "maximum of 1.5" in v[0]


def test_chat_request_forbids_unknown_fields():
    assert spec.load_spec()["components"]["schemas"]["ChatCompletionRequest"][
        "additionalProperties"] is False
    v = check("POST", "/v1/chat/completions", {"model": "m", "messages": MSGS, "agent_id": "a"})
    assert "'agent_id' was unexpected" in v[0]


def test_agents_request_with_model_is_flagged():
    schema = spec.load_spec()["components"]["schemas"]["AgentsCompletionRequest"]
    assert schema["additionalProperties"] is False and "model" not in schema["properties"]
    assert check("POST", "/v1/agents/completions", {"agent_id": "ag", "messages": MSGS}) == []
    v = check("POST", "/v1/agents/completions",
              {"agent_id": "ag", "messages": MSGS, "model": "mistral-large-latest"})
    assert len(v) == 1 and "'model' was unexpected" in v[0]


def test_missing_required_field_is_flagged():
    v = check("POST", "/v1/chat/completions", {"messages": MSGS})
    assert "'model' is a required property" in v[0]


def test_non_uuid_file_id_is_flagged():
    v = check("GET", "/v1/files/not-a-uuid")
    assert len(v) == 1 and "file_id" in v[0] and "uuid" in v[0]
    assert check("GET", f"/v1/files/{FILE_ID}") == []
    assert check("DELETE", "/v1/files/123")


def test_query_params_validated():
    assert check("GET", "/v1/files", query={"page": ["1"], "purpose": ["fine-tune"],
                                            "sample_type": ["instruct", "pretrain"]}) == []
    assert check("GET", "/v1/files", query={"page": ["x"]})
    assert check("GET", "/v1/files", query={"sample_type": ["bogus"]})
    v = check("GET", "/v1/files", query={"limit": ["5"]})
    assert "unknown query parameter 'limit'" in v[0]


def test_unknown_operation_missing_auth_and_bad_json_are_flagged():
    assert "no such operation" in check("GET", "/v1/nope")[0]
    assert "Security" in check("GET", "/v1/models", headers={})[0]
    v = spec.validate_request("POST", "/v1/chat/completions", {}, AUTH, b"{nope", JSON)
    assert v and "deserialize" in v[0]
    v = spec.validate_request("POST", "/v1/chat/completions", {}, AUTH, None, "")
    assert "Missing required request body" in v[0]


def test_multipart_fields_validation():
    assert spec.validate_multipart_fields(
        [{"name": "file", "filename": "a.jsonl"}, {"name": "purpose", "value": "batch"}]) == []
    assert spec.validate_multipart_fields([{"name": "file", "filename": "a.jsonl"}]) == []
    assert "purpose" in spec.validate_multipart_fields(
        [{"name": "file", "filename": "a"}, {"name": "purpose", "value": "finetune"}])[0]
    assert "missing" in spec.validate_multipart_fields([{"name": "purpose", "value": "batch"}])[0]
    assert "filename" in spec.validate_multipart_fields([{"name": "file", "filename": None}])[0]
    assert "unexpected" in spec.validate_multipart_fields(
        [{"name": "file", "filename": "a"}, {"name": "extra", "value": "1"}])[0]


# ------------------------------------------------- defaults for 30 ops ----

def _sub(path):
    return (path.replace("{file_id}", FILE_ID).replace("{job_id}", JOB_ID)
            .replace("{model_id}", FT_MODEL))


MINIMAL = {
    "agents_completion_v1_agents_completions_post": {"agent_id": "ag-1", "messages": MSGS},
    "chat_completion_v1_chat_completions_post": {"model": "m", "messages": MSGS},
    "fim_completion_v1_fim_completions_post": {"model": "codestral-latest", "prompt": "def"},
    "jobs_api_routes_batch_create_batch_job": {"input_files": [FILE_ID], "model": "m",
                                               "endpoint": "/v1/chat/completions"},
    "chat_classifications_v1_chat_classifications_post":
        {"model": "m", "input": {"messages": MSGS}},
    "chat_moderations_v1_chat_moderations_post": {"model": "m", "input": MSGS},
    "classifications_v1_classifications_post": {"model": "m", "input": "text"},
    "moderations_v1_moderations_post": {"model": "m", "input": ["a", "b"]},
    "embeddings_v1_embeddings_post": {"model": "mistral-embed", "input": ["a", "b"]},
    "jobs_api_routes_fine_tuning_create_fine_tuning_job":
        {"model": "open-mistral-7b", "training_files": [{"file_id": FILE_ID}],
         "hyperparameters": {"learning_rate": 0.0001, "training_steps": 10}},
    "jobs_api_routes_fine_tuning_update_fine_tuned_model": {"name": "renamed"},
    "ocr_v1_ocr_post": {"model": "mistral-ocr-latest",
                        "document": {"type": "document_url",
                                     "document_url": "https://example.com/a.pdf"}},
}


def test_the_server_sends_each_answer_without_waiting_for_an_ack(server):
    # An answer goes out in two writes (headers, then body): with Nagle's algorithm on, the
    # second waited for the client's delayed ACK, about 40 ms an answer on a kept-alive connection.
    assert server._server.RequestHandlerClass.disable_nagle_algorithm is True


@pytest.mark.parametrize("op", spec.operations(), ids=lambda o: o.operation_id)
def test_default_response_for_every_operation(server, client, op):
    path = _sub(op.path)
    if op.operation_id == "files_api_routes_upload_file":
        r = client.post(path, files={"file": ("t.jsonl", b'{"a":1}\n')},
                        data={"purpose": "fine-tune"})
    else:
        payload = MINIMAL.get(op.operation_id)
        r = client.request(op.method, path, json=payload)
    assert server.violations() == []
    assert r.status_code < 500 and r.status_code == 200, r.text
    ctype = r.headers["content-type"]
    if ctype.startswith("application/json"):
        resp_errors = spec.validate_response(op.method, path, r.status_code, r.headers,
                                             r.content, ctype)
        assert resp_errors == []
    rec = server.requests[-1]
    assert rec.operation_id == op.operation_id and rec.violations == []


def test_default_models_list_has_base_and_finetuned(client):
    data = client.get("/v1/models").json()["data"]
    assert [m["type"] for m in data] == ["base", "fine-tuned"]
    assert all("capabilities" in m for m in data)


def test_upload_then_list_sees_file(client):
    up = client.post("/v1/files", files={"file": ("x.jsonl", b"abc")},
                     data={"purpose": "batch"}).json()
    assert (up["filename"], up["purpose"], up["bytes"]) == ("x.jsonl", "batch", 3)
    ids = [f["id"] for f in client.get("/v1/files").json()["data"]]
    assert up["id"] in ids


def test_unknown_path_is_404_and_a_violation(server, client):
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    assert "no such operation" in server.violations()[0]


def test_a_stub_lets_only_the_extra_fields_it_names_through(server, client):
    server.add("POST", "/v1/chat/completions", json_response({}), times=2,
               extra_fields={"reasoning_effort"})
    client.post("/v1/chat/completions", json={"model": "m", "messages": MSGS, "reasoning_effort": "high"})
    assert server.violations() == []
    client.post("/v1/chat/completions", json={"model": "m", "messages": MSGS, "reasoning_effort": "high",
                                              "zz": 1, "temperature": "hot"})
    found = server.last().violations
    assert len(found) == 2 and any("'zz'" in v for v in found)
    server.ignore_violations()


def test_invalid_request_is_recorded(server, client):
    client.post("/v1/chat/completions", json={"model": "m", "messages": MSGS,
                                              "temperature": "hot"})
    rec = server.last()
    assert rec.json["temperature"] == "hot"
    assert rec.violations and "temperature" in rec.violations[0]
    assert server.problems()
    server.ignore_violations()
    server.verify()


# ------------------------------------------------------------- stubs ----

def test_one_shot_stub_then_fallback(server, client):
    server.add("GET", "/v1/models", json_response({"message": "rate"}, 429,
                                                  {"Retry-After": "0"}), times=1)
    server.add("GET", "/v1/models", json_response({"object": "list", "data": []}))
    r1, r2, r3 = (client.get("/v1/models") for _ in range(3))
    assert (r1.status_code, r1.headers["retry-after"]) == (429, "0")
    assert r2.json() == r3.json() == {"object": "list", "data": []}
    server.verify()


def test_one_shot_stub_falls_through_to_default(server, client):
    server.add("POST", "/v1/chat/completions", error_empty(503), times=1)
    payload = {"model": "m", "messages": MSGS}
    assert client.post("/v1/chat/completions", json=payload).status_code == 503
    assert client.post("/v1/chat/completions", json=payload).json()["object"] == \
        "chat.completion"


def test_unused_stub_detection(server, client):
    server.add("GET", "/v1/models", json_response({}))
    server.add("DELETE", "/v1/files/{file_id}", empty_response(200), optional=True)
    server.add("GET", "/v1/files", json_response({}))
    client.get("/v1/files")
    unused = server.unused_stubs()
    assert [s.path for s in unused] == ["/v1/models"]
    with pytest.raises(AssertionError, match="stub never used: GET /v1/models"):
        server.verify()


def test_placeholder_stub_and_callable_response(server, client):
    seen = []

    def respond(req):
        seen.append(req)
        return json_response({"id": req.path_params["file_id"], "object": "file",
                              "deleted": True})

    server.add("DELETE", "/v1/files/{file_id}", respond)
    assert client.delete(f"/v1/files/{FILE_ID}").json()["id"] == FILE_ID
    assert seen[0].headers["authorization"] == AUTH["Authorization"]
    assert seen[0].headers["AUTHORIZATION"] == AUTH["Authorization"]
    server.verify()


def test_query_matching_stub(server, client):
    server.add("GET", "/v1/files", json_response({"object": "list", "data": [], "total": 0}),
               query={"page": "1"})
    assert client.get("/v1/files", params={"page": 0}).json()["total"] == 1
    assert client.get("/v1/files", params={"page": 1}).json()["total"] == 0
    assert server.requests[-1].query == {"page": ["1"]}


def test_error_helpers_shapes(server, client):
    cases = [(error_400("bad model"), 400,
              {"object": "error", "message": "bad model", "type": "invalid_request_error",
               "param": None, "code": None}),
             (error_401_detail(), 401, {"detail": "Unauthorized"}),
             (error_401_message(), 401, {"message": "Unauthorized", "request_id": "req-123"}),
             (error_422(), 422, {"detail": [{"loc": ["body", "temperature"],
                                             "msg": "Input should be less than or equal to 1.5",
                                             "type": "less_than_equal"}]})]
    for resp, status, expected in cases:
        server.add("GET", "/v1/models", resp, times=1)
        r = client.get("/v1/models")
        assert (r.status_code, r.json()) == (status, expected)
    server.add("GET", "/v1/models", error_proxy_text(), times=1)
    r = client.get("/v1/models")
    assert (r.status_code, r.text) == (502, "Bad Gateway")
    assert r.headers["content-type"].startswith("text/plain")
    server.add("GET", "/v1/models", error_empty(500), times=1)
    r = client.get("/v1/models")
    assert (r.status_code, r.content, r.headers["content-length"]) == (500, b"", "0")
    server.add("GET", "/v1/models", text_response("hi", 200, {"X-A": "b"}), times=1)
    assert client.get("/v1/models").headers["x-a"] == "b"


def test_keep_alive_reuses_connection(server, client):
    for _ in range(5):
        client.get("/v1/models")
    client.post("/v1/chat/completions", json={"model": "m", "messages": MSGS, "stream": True})
    client.get("/v1/models")
    assert len({r.client_port for r in server.requests}) == 1


# ------------------------------------------------------ SSE / streams ----

def _sse_data(lines):
    return [line[len("data: "):] for line in lines if line.startswith("data: ")]


def test_sse_stream_parsing(server, client):
    server.add("POST", "/v1/chat/completions",
               sse_response([{"n": 1}, {"n": 2}, ": comment\n\n"], delay=0.01))
    with client.stream("POST", "/v1/chat/completions",
                       json={"model": "m", "messages": MSGS, "stream": True}) as r:
        assert r.headers["content-type"] == "text/event-stream"
        assert r.headers["transfer-encoding"] == "chunked"
        data = _sse_data(list(r.iter_lines()))
    assert data == ['{"n": 1}', '{"n": 2}', "[DONE]"]


def test_default_stream_is_chat_completion_chunks(client):
    with client.stream("POST", "/v1/chat/completions",
                       json={"model": "m", "messages": MSGS, "stream": True}) as r:
        data = _sse_data(list(r.iter_lines()))
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == \
        "Hello from the fake API!"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and "usage" in chunks[-1]


def test_sse_without_done(server, client):
    server.add("POST", "/v1/fim/completions", sse_response([{"a": 1}], done=False))
    r = client.post("/v1/fim/completions", json={"model": "c", "prompt": "x", "stream": True})
    assert _sse_data(r.text.splitlines()) == ['{"a": 1}']


def test_sse_cut_connection(server, client):
    server.add("POST", "/v1/chat/completions",
               sse_response([{"n": i} for i in range(5)], cut_after=2))
    got = []
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("POST", "/v1/chat/completions",
                           json={"model": "m", "messages": MSGS, "stream": True}) as r:
            for line in r.iter_lines():
                got.append(line)
    assert _sse_data(got) == ['{"n": 0}', '{"n": 1}']
    # the client recovers on a fresh connection
    assert client.get("/v1/models").status_code == 200


def test_bytes_response_download(server, client):
    server.add("GET", "/v1/files/{file_id}/content", bytes_response(3 * 1024 * 1024 + 7,
                                                                    chunk=100_000))
    r = client.get(f"/v1/files/{FILE_ID}/content")
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.content == expected_bytes(3 * 1024 * 1024 + 7)


def test_bytes_response_content_length_and_cut(server, client):
    server.add("GET", "/v1/files/{file_id}/content",
               bytes_response(5000, content_length=True), times=1)
    server.add("GET", "/v1/files/{file_id}/content",
               bytes_response(5_000_000, cut_after_bytes=1_500_000), times=1)
    r = client.get(f"/v1/files/{FILE_ID}/content")
    assert r.headers["content-length"] == "5000" and r.content == expected_bytes(5000)
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("GET", f"/v1/files/{FILE_ID}/content") as r:
            for chunk in r.iter_bytes():
                received += chunk
    assert bytes(received) == expected_bytes(1_500_000)


def test_handler_exception_is_500_and_reported(server, client):
    server.add("GET", "/v1/models", lambda req: 1 / 0)
    assert client.get("/v1/models").status_code == 500
    assert "ZeroDivisionError" in server.problems()[0]


# ------------------------------------------------------------ uploads ----

def test_multipart_small_upload_recorded(server, client):
    r = client.post("/v1/files", files={"file": ("data.jsonl", b'{"x": 1}\n', "application/jsonl")},
                    data={"purpose": "fine-tune"})
    assert r.status_code == 200
    rec = server.last("POST", "/v1/files")
    assert rec.body is None and rec.form == {"purpose": "fine-tune"}
    f = rec.file("file")
    assert (f.filename, f.size, f.content, f.content_type) == (
        "data.jsonl", 9, b'{"x": 1}\n', "application/jsonl")
    assert [p.name for p in rec.parts] == ["purpose", "file"]
    assert rec.violations == []


def test_multipart_bad_purpose_and_missing_file_flagged(server, client):
    client.post("/v1/files", files={"file": ("a.jsonl", b"x")}, data={"purpose": "training"})
    client.post("/v1/files", files={"document": ("a.jsonl", b"x")})
    v = server.violations()
    assert any("purpose 'training'" in x for x in v)
    assert any("'file' is missing" in x for x in v)


def test_multipart_chunked_upload(server, client):
    boundary = "XyZbound"
    payload = b"A" * 1_000_003

    def gen():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
               f"batch\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"b.jsonl\"\r\n\r\n").encode()
        for i in range(0, len(payload), 65536):
            yield payload[i:i + 65536]
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post("/v1/files", content=gen(),
                    headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 200 and r.json()["bytes"] == len(payload)
    rec = server.last()
    assert rec.headers["transfer-encoding"] == "chunked"
    assert rec.form == {"purpose": "batch"} and rec.file().size == len(payload)
    assert rec.violations == []


def test_200mib_multipart_upload_memory_flat(server, client, tmp_path):
    size = 200 * 1024 * 1024
    big = tmp_path / "big.jsonl"
    with open(big, "wb") as fh:
        fh.truncate(size)  # sparse
    tracemalloc.start()
    try:
        with open(big, "rb") as fh:
            r = client.post("/v1/files", files={"file": ("big.jsonl", fh)},
                            data={"purpose": "fine-tune"}, timeout=120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 200, r.text
    assert r.json()["bytes"] == size
    f = server.last().file()
    assert f.size == size and f.content is None
    import hashlib
    h = hashlib.sha256()
    chunk = bytes(1024 * 1024)
    for _ in range(200):
        h.update(chunk)
    assert f.sha256 == h.hexdigest()
    assert peak < 32 * 1024 * 1024, f"peak traced memory {peak / 2**20:.1f} MiB"
    assert server.violations() == []


# ------------------------------------------------------------ keyring ----

def test_file_keyring_is_default_and_crosses_processes(tmp_path):
    import keyring

    from tests.fakeapi.keyring_backend import FileKeyring

    assert os.environ["PYTHON_KEYRING_BACKEND"].endswith("FileKeyring")
    assert isinstance(keyring.get_keyring(), FileKeyring)
    keyring.set_password("mcli", "default", "sk-parent")
    code = ("import keyring; print(keyring.get_password('mcli','default')); "
            "keyring.set_password('mcli','other','sk-child')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ), cwd=tmp_path, timeout=60)
    assert out.stdout.strip() == "sk-parent", out.stderr
    assert keyring.get_password("mcli", "other") == "sk-child"
    assert FileKeyring.read_all() == {"mcli\0default": "sk-parent", "mcli\0other": "sk-child"}


def test_keyring_backend_fixture(keyring_backend):
    import keyring
    from keyring.errors import KeyringLocked, NoKeyringError, PasswordDeleteError

    keyring_backend("NoKeyring")
    with pytest.raises(NoKeyringError):
        keyring.get_password("s", "u")
    with pytest.raises(NoKeyringError):
        keyring.set_password("s", "u", "p")
    keyring_backend("LockedKeyring")
    with pytest.raises(KeyringLocked):
        keyring.get_password("s", "u")
    keyring_backend("MemoryKeyring")
    keyring.set_password("s", "u", "p")
    assert keyring.get_password("s", "u") == "p"
    keyring.delete_password("s", "u")
    with pytest.raises(PasswordDeleteError):
        keyring.delete_password("s", "u")
    keyring_backend("HangingKeyring", hang_seconds=0.05)
    assert keyring.get_password("s", "u") is None
    assert os.environ["PYTHON_KEYRING_BACKEND"].endswith("HangingKeyring")


def test_isolate_environment(tmp_path):
    assert os.environ["MCLI_CONFIG_DIR"].startswith(str(tmp_path))
    assert os.path.isdir(os.environ["MCLI_DATA_DIR"])
    for name in ("MISTRAL_API_KEY", "MISTRAL_SERVER_URL", "MCLI_PROFILE", "NO_COLOR"):
        assert name not in os.environ
    from tests.conftest import REPO_ROOT
    assert str(REPO_ROOT) in os.environ["PYTHONPATH"].split(os.pathsep)


def test_api_fixture_sets_env(api):
    assert os.environ["MISTRAL_SERVER_URL"] == api.url
    assert os.environ["MISTRAL_API_KEY"] == "test-key-1234"
    r = httpx.get(api.url + "/v1/models",
                  headers={"Authorization": f"Bearer {os.environ['MISTRAL_API_KEY']}"})
    assert r.status_code == 200
    assert api.last().headers["authorization"] == "Bearer test-key-1234"
