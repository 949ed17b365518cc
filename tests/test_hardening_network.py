"""Fault matrix, network half: billable work is sent once, and a failure after sending says
the server may have acted on it, plus the other network faults.

Every case runs against the real local fake server. A "slow" server sleeps longer than
--timeout before answering, so the client gives up first whatever the machine's load.
"""

from __future__ import annotations

import socket
import time

import pytest

from mistral_cli.errors import NetworkError
from mistral_cli.http.client import MAY_HAVE_ACTED, HTTPClient
from mistral_cli.http.effect import Effect
from tests.conftest import TEST_API_KEY
from tests.fakeapi import error_429, error_empty, json_response, text_response
from tests.fakeapi.responses import Drop, SSEResponse
from tests.fakeapi.defaults import STREAM_PIECES, file_obj

CHAT = "/v1/chat/completions"
SERVER_DELAY = 1.5
TIMEOUT = "0.3"


def slow(response):
    """A stub that answers RESPONSE only after the client's --timeout has passed."""

    def answer(_request):
        time.sleep(SERVER_DELAY)
        return response

    return answer


def chunk(text: str) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


@pytest.fixture
def jsonl(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"messages": []}\n', encoding="utf-8")
    return path


@pytest.fixture
def no_sleep(monkeypatch):
    """Backoff sleeps return at once (the retry decisions are what is tested)."""
    import types

    from mistral_cli.http import client

    monkeypatch.setattr(client, "time", types.SimpleNamespace(
        sleep=lambda _s: None, time=time.time, perf_counter=time.perf_counter))


# -- slower than --timeout: sent exactly once ----------------------------------------------


def test_upload_to_a_slow_server_is_sent_once_and_says_how_to_check(api, cli, jsonl):
    api.add("POST", "/v1/files", slow(json_response(file_obj())), optional=True)
    result = cli("--timeout", TIMEOUT, "files", "upload", str(jsonl))
    assert result.exit_code == 1
    assert len(api.requests_to("POST", "/v1/files")) == 1
    assert MAY_HAVE_ACTED in result.stderr
    assert "mcli files list --search train.jsonl" in result.stderr


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "no-stream"])
def test_chat_to_a_slow_server_is_sent_once(api, cli, stream):
    api.add("POST", CHAT, slow(SSEResponse([chunk("late")])), optional=True)
    result = cli("--timeout", TIMEOUT, "chat", *([] if stream else ["--no-stream"]), "hi")
    assert result.exit_code == 1
    assert len(api.requests_to("POST", CHAT)) == 1
    assert MAY_HAVE_ACTED in result.stderr


def test_a_stream_that_stalls_is_not_sent_again(api, cli):
    # The first event must come within --timeout even on a loaded machine: a wide margin.
    api.add("POST", CHAT, SSEResponse([chunk("Hel"), chunk("lo")], delay=10))
    result = cli("--timeout", "2", "chat", "hi")
    assert result.exit_code == 1
    assert result.stdout.startswith("Hel")
    assert "stalled" in result.stderr
    assert len(api.requests_to("POST", CHAT)) == 1


def test_a_slow_get_is_retried(api, cli, no_sleep):
    api.add("GET", "/v1/models", slow(json_response({"object": "list", "data": []})), times=2)
    result = cli("--timeout", TIMEOUT, "--max-retries", "1", "models", "list")
    assert result.exit_code == 1
    assert len(api.requests_to("GET", "/v1/models")) == 2
    assert MAY_HAVE_ACTED not in result.stderr


def test_a_real_subprocess_sends_a_slow_upload_once(api, run_mcli, jsonl):
    api.add("POST", "/v1/files", slow(json_response(file_obj())), optional=True)
    result = run_mcli("--timeout", TIMEOUT, "files", "upload", str(jsonl))
    assert result.exit_code == 1
    assert len(api.requests_to("POST", "/v1/files")) == 1
    assert "files list --search" in result.stderr


# -- dropped connections and 5xx -------------------------------------------------------------


def test_dropped_chat_is_not_sent_again(api, cli, no_sleep):
    api.add("POST", CHAT, Drop(), times=1)
    result = cli("chat", "--no-stream", "hi")
    assert result.exit_code == 1
    assert len(api.requests_to("POST", CHAT)) == 1
    assert MAY_HAVE_ACTED in result.stderr


def test_upload_is_not_retried_on_5xx_and_says_so(api, cli, jsonl, no_sleep):
    api.add("POST", "/v1/files", error_empty(503), times=1)
    result = cli("files", "upload", str(jsonl))
    assert result.exit_code == 1
    assert len(api.requests_to("POST", "/v1/files")) == 1
    assert MAY_HAVE_ACTED in result.stderr and "--search train.jsonl" in result.stderr


def test_upload_is_retried_on_429(api, cli, jsonl, no_sleep):
    api.add("POST", "/v1/files", error_429("1"), times=1)
    result = cli("files", "upload", str(jsonl), "-o", "text")
    assert result.exit_code == 0, result
    assert len(api.requests_to("POST", "/v1/files")) == 2


def test_chat_5xx_then_success(api, cli, no_sleep):
    api.add("POST", CHAT, error_empty(502), times=1)
    result = cli("chat", "hi")
    assert result.exit_code == 0, result
    assert result.stdout.strip() == "".join(STREAM_PIECES)
    assert len(api.requests_to("POST", CHAT)) == 2


def test_a_persistent_503_gives_up_after_the_retries(api, cli, no_sleep):
    api.add("GET", "/v1/models", error_empty(503), times=3)
    result = cli("--max-retries", "2", "models", "list")
    assert result.exit_code == 1
    assert "HTTP 503" in result.stderr
    assert len(api.requests_to("GET", "/v1/models")) == 3


def test_connection_refused_is_one_line(cli, monkeypatch, no_sleep):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MISTRAL_API_KEY", TEST_API_KEY)
    result = cli("--server-url", f"http://127.0.0.1:{port}", "--max-retries", "1", "models", "list")
    assert result.exit_code == 1
    assert "cannot connect" in result.stderr and "internal error" not in result.stderr


# -- odd bodies -------------------------------------------------------------------------------


def test_a_2xx_body_that_is_not_json_is_an_error_not_a_crash(api, cli):
    api.add("GET", "/v1/models", text_response("<html>maintenance</html>", 200))
    result = cli("models", "list")
    assert result.exit_code == 1
    assert "not JSON" in result.stderr and "internal error" not in result.stderr


def test_a_chunk_that_is_not_json_is_reported(api, cli):
    api.add("POST", CHAT, SSEResponse([chunk("Hi"), "data: {not json\n\n"]))
    result = cli("chat", "hi")
    assert result.exit_code == 1
    assert "not JSON" in result.stderr and "internal error" not in result.stderr


def test_an_error_event_mid_stream_is_reported(api, cli):
    api.add("POST", CHAT, SSEResponse([chunk("Hi"), {"object": "error", "message": "overloaded"}]))
    result = cli("chat", "hi")
    assert result.exit_code == 1
    assert result.stdout.startswith("Hi")
    assert "overloaded" in result.stderr


@pytest.mark.parametrize("body, text", [({"detail": "bad model"}, "bad model"),
                                        ({"message": "too long"}, "too long"),
                                        ({"error": {"message": "nested"}}, "nested")])
def test_a_422_shows_the_server_message_whatever_the_shape(api, cli, body, text):
    api.add("GET", "/v1/models", json_response(body, 422))
    result = cli("models", "list")
    assert result.exit_code == 2
    assert text in result.stderr


# -- fresh connections for work that must not be repeated ----------------------------------------


def test_create_requests_never_reuse_a_keep_alive_connection(api, tmp_path):
    from mistral_cli.api.files import upload_file

    path = tmp_path / "train.jsonl"
    path.write_text('{"messages": []}\n', encoding="utf-8")
    client = HTTPClient(api.url, key=lambda: TEST_API_KEY, timeout=10, max_retries=0)
    body = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "hi"}]}
    try:
        for _ in range(2):
            client.call("GET", "/v1/models")
            client.call("POST", CHAT, json_body=body, effect=Effect.COMPUTE)
        for _ in range(2):
            upload_file(client, path)
    finally:
        client.close()
    pooled = {r.client_port for r in api.requests if r.method == "GET" or r.path == CHAT}
    uploads = [r.client_port for r in api.requests_to("POST", "/v1/files")]
    assert len(pooled) == 1  # reads and compute share a pooled connection
    assert len(set(uploads)) == 2 and not set(uploads) & pooled


def test_network_error_of_a_read_does_not_claim_the_server_acted(api):
    api.add("GET", "/v1/models", Drop(), times=1)
    client = HTTPClient(api.url, key=lambda: TEST_API_KEY, timeout=10, max_retries=0)
    try:
        with pytest.raises(NetworkError) as caught:
            client.call("GET", "/v1/models")
    finally:
        client.close()
    assert MAY_HAVE_ACTED not in caught.value.message


def test_a_line_separator_sent_raw_inside_an_event_does_not_break_the_stream(api, cli):
    import json

    raw = [f"data: {json.dumps(chunk(text), ensure_ascii=False)}\n\n" for text in ("a\u2028b", "c\x85d")]
    api.add("POST", CHAT, SSEResponse(raw))
    result = cli("chat", "--no-log", "hi")
    assert result.exit_code == 0, result
    assert result.stdout.startswith("a\u2028bc\x85d")


def test_a_delete_retried_after_no_answer_explains_a_404(api, no_sleep):
    from mistral_cli.errors import NotFoundError
    from tests.fakeapi.defaults import FILE_ID

    api.add("DELETE", f"/v1/files/{FILE_ID}", Drop(), times=1)
    api.add("DELETE", f"/v1/files/{FILE_ID}", json_response({"detail": "File not found"}, 404))
    client = HTTPClient(api.url, key=lambda: TEST_API_KEY, timeout=10, max_retries=2)
    try:
        with pytest.raises(NotFoundError) as caught:
            client.call("DELETE", f"/v1/files/{FILE_ID}")
    finally:
        client.close()
    assert "may have deleted it" in caught.value.message
    assert len(api.requests) == 2


def test_a_job_create_with_no_answer_says_to_check_before_resending(api):
    from mistral_cli.http.client import CHECK_BEFORE_RESENDING
    from tests.fakeapi.defaults import BATCH_BODY

    api.add("POST", "/v1/batch/jobs", Drop(), times=1)
    client = HTTPClient(api.url, key=lambda: TEST_API_KEY, timeout=10, max_retries=3)
    try:
        with pytest.raises(NetworkError) as caught:
            client.call("POST", "/v1/batch/jobs", json_body=BATCH_BODY, effect=Effect.CREATE)
    finally:
        client.close()
    assert MAY_HAVE_ACTED in caught.value.message and caught.value.hint == CHECK_BEFORE_RESENDING
    assert len(api.requests) == 1
