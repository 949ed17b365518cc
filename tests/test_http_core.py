"""The HTTP core: server URL precedence, auth and User-Agent headers, retries, Retry-After,
unsafe (billable) requests, error-body mapping and SSE decoding.

Retries are exercised against the real fake server; sleeping is replaced by a recorder
(`sleeps`), so no test waits for a backoff.
"""

from __future__ import annotations

import email.utils
import socket
import time
import types

import pytest

from mistral_cli import __version__
from mistral_cli.env import Env, GlobalOptions
from mistral_cli.errors import (APIError, AuthError, NetworkError, NotFoundError, StreamError, UsageError,
                                ValidationError)
from mistral_cli.http import client as client_mod
from mistral_cli.http.client import HTTPClient, iter_sse, retry_after
from mistral_cli.http.effect import Effect
from mistral_cli.http.errors import error_from_response
from tests.conftest import TEST_API_KEY
from tests.fakeapi import (error_400, error_401_detail, error_429, error_empty,
                           error_proxy_text, json_response)
from tests.fakeapi.defaults import BATCH_BODY, base_model
from tests.fakeapi.responses import Drop

MODELS = {"object": "list", "data": [base_model()]}


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Record the client's sleeps instead of sleeping; backoff base 0."""
    recorded: list[float] = []
    fake_time = types.SimpleNamespace(sleep=recorded.append, time=time.time,
                                      perf_counter=time.perf_counter)
    monkeypatch.setattr(client_mod, "time", fake_time)
    monkeypatch.setattr(client_mod, "BACKOFF_BASE", 0)
    return recorded


def make_client(url: str, max_retries: int = 3, log: list | None = None) -> HTTPClient:
    sink = log if log is not None else []
    return HTTPClient(base_url=url, key=lambda: TEST_API_KEY, timeout=10,
                      max_retries=max_retries, log=sink.append)


def http_date(offset_seconds: float) -> str:
    return email.utils.formatdate(time.time() + offset_seconds, usegmt=True)


def free_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- server URL precedence -------------------------------------------------------------


def write_profile(tmp_path, server_url: str) -> None:
    (tmp_path / "mcli-config" / "config.toml").write_text(
        f'[profiles.default]\nserver_url = "{server_url}"\n', encoding="utf-8")


def env_with(environ: dict, server_url_option: str | None = None) -> Env:
    return Env(environ=environ, options=GlobalOptions(server_url=server_url_option))


def test_server_url_defaults_to_public_api(tmp_path):
    environ = {"MCLI_CONFIG_DIR": str(tmp_path / "mcli-config")}
    assert env_with(environ).server_url == "https://api.mistral.ai"


def test_server_url_profile_beats_default(tmp_path):
    write_profile(tmp_path, "https://profile.example")
    environ = {"MCLI_CONFIG_DIR": str(tmp_path / "mcli-config")}
    assert env_with(environ).server_url == "https://profile.example"


def test_server_url_env_beats_profile(tmp_path):
    write_profile(tmp_path, "https://profile.example")
    environ = {"MCLI_CONFIG_DIR": str(tmp_path / "mcli-config"),
               "MISTRAL_SERVER_URL": "https://env.example/"}
    assert env_with(environ).server_url == "https://env.example"


def test_server_url_option_beats_env(tmp_path):
    write_profile(tmp_path, "https://profile.example")
    environ = {"MCLI_CONFIG_DIR": str(tmp_path / "mcli-config"),
               "MISTRAL_SERVER_URL": "https://env.example"}
    assert env_with(environ, "https://option.example").server_url == "https://option.example"


@pytest.mark.parametrize("url", ["api.mistral.ai", "ftp://example.com", "http://",
                                 "http://exa mple.com", "http://example.com\n"])
def test_bad_server_url_is_a_usage_error(tmp_path, url):
    environ = {"MCLI_CONFIG_DIR": str(tmp_path / "mcli-config")}
    with pytest.raises(UsageError, match="--server-url"):
        env_with(environ, url).server_url
    with pytest.raises(UsageError, match="MISTRAL_SERVER_URL"):
        env_with({**environ, "MISTRAL_SERVER_URL": url}).server_url


def test_bad_profile_server_url_is_exit_2(api, cli, tmp_path, monkeypatch):
    write_profile(tmp_path, "localhost:8080")
    monkeypatch.delenv("MISTRAL_SERVER_URL")
    result = cli("models", "list")
    assert result.exit_code == 2
    assert "server_url" in result.stderr
    assert "profile 'default'" in result.stderr
    assert api.requests == []


def test_server_url_may_carry_a_path(api, cli, monkeypatch):
    api.add("GET", "/proxy/v1/models", json_response(MODELS), optional=True)
    monkeypatch.setenv("MISTRAL_SERVER_URL", api.url + "/proxy/")
    api.ignore_violations()  # the spec knows no /proxy prefix
    assert cli("models", "list", "-o", "json").exit_code == 0
    assert api.last().path == "/proxy/v1/models"


def test_request_goes_to_server_url_option_over_env(api, cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", free_port_url())
    result = cli("--server-url", api.url, "models", "list", "-o", "json", "--max-retries", "0")
    assert result.exit_code == 0, result
    assert api.last().path == "/v1/models"


def test_request_goes_to_env_url_over_profile(api, cli, tmp_path):
    write_profile(tmp_path, free_port_url())
    result = cli("models", "list", "-o", "json", "--max-retries", "0")
    assert result.exit_code == 0, result
    assert len(api.requests) == 1


def test_request_goes_to_profile_url(api, cli, tmp_path, monkeypatch):
    write_profile(tmp_path, api.url)
    monkeypatch.delenv("MISTRAL_SERVER_URL")
    result = cli("models", "list", "-o", "json")
    assert result.exit_code == 0, result
    assert len(api.requests) == 1


# -- headers ------------------------------------------------------------------------------


def test_bearer_auth_and_user_agent(api, cli):
    assert cli("models", "list").exit_code == 0
    headers = api.last().headers
    assert headers["Authorization"] == f"Bearer {TEST_API_KEY}"
    assert headers["User-Agent"] == f"mcli/{__version__}"


# -- retries ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_status_is_retried(api, cli, sleeps, status):
    first = error_429() if status == 429 else error_empty(status)
    api.add("GET", "/v1/models", first, times=1)
    api.add("GET", "/v1/models", json_response(MODELS))
    result = cli("models", "list", "-o", "json")
    assert result.exit_code == 0, result
    assert len(api.requests) == 2
    assert len(sleeps) == 1


def test_dropped_connection_is_retried(api, sleeps):
    api.add("GET", "/v1/models", Drop(), times=1)
    api.add("GET", "/v1/models", json_response(MODELS))
    client = make_client(api.url)
    try:
        assert client.call("GET", "/v1/models") == MODELS
    finally:
        client.close()
    assert len(api.requests) == 2


def test_refused_connection_is_retried_then_reported(sleeps):
    log: list[str] = []
    client = make_client(free_port_url(), max_retries=2, log=log)
    with pytest.raises(NetworkError, match="cannot connect"):
        client.call("GET", "/v1/models")
    client.close()
    assert sum(line.startswith("> GET") for line in log) == 3
    assert len(sleeps) == 2


def test_retries_stop_after_max_retries(api, cli, sleeps):
    api.add("GET", "/v1/models", error_empty(503))
    result = cli("models", "list", "--max-retries", "2")
    assert result.exit_code == 1
    assert len(api.requests) == 3


def test_max_retries_zero_means_one_attempt(api, cli, sleeps):
    api.add("GET", "/v1/models", error_empty(503))
    result = cli("--max-retries", "0", "models", "list")
    assert result.exit_code == 1
    assert len(api.requests) == 1
    assert sleeps == []


def test_max_retries_from_profile(api, cli, sleeps, tmp_path):
    (tmp_path / "mcli-config" / "config.toml").write_text(
        "[profiles.default]\nmax_retries = 1\n", encoding="utf-8")
    api.add("GET", "/v1/models", error_empty(503))
    assert cli("models", "list").exit_code == 1
    assert len(api.requests) == 2


def test_bad_request_is_not_retried(api, cli, sleeps):
    api.add("GET", "/v1/models", error_400())
    result = cli("models", "list")
    assert result.exit_code == 1
    assert len(api.requests) == 1
    assert sleeps == []


def test_unauthorized_is_not_retried(api, cli, sleeps):
    api.add("GET", "/v1/models", error_401_detail())
    assert cli("models", "list").exit_code == 3
    assert len(api.requests) == 1


def test_retry_after_seconds_is_honoured(api, cli, sleeps):
    api.add("GET", "/v1/models", error_429(retry_after="7"), times=1)
    api.add("GET", "/v1/models", json_response(MODELS))
    assert cli("models", "list").exit_code == 0
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured(api, cli, sleeps):
    api.add("GET", "/v1/models", error_empty(503, headers={"Retry-After": http_date(30)}),
            times=1)
    api.add("GET", "/v1/models", json_response(MODELS))
    assert cli("models", "list").exit_code == 0
    assert len(sleeps) == 1
    assert 25 <= sleeps[0] <= 30


@pytest.mark.parametrize("value", ["120", "date"])
def test_long_retry_after_is_reported_not_slept(api, cli, sleeps, value):
    header = http_date(300) if value == "date" else value
    api.add("GET", "/v1/models", error_429(retry_after=header))
    result = cli("models", "list")
    assert result.exit_code == 1
    assert "retry after" in result.stderr
    assert "try again later" in result.stderr
    assert sleeps == []
    assert len(api.requests) == 1
    assert "Traceback" not in result.stderr


def test_backoff_is_exponential_with_jitter_and_capped(api, monkeypatch):
    recorded: list[float] = []
    monkeypatch.setattr(client_mod, "time", types.SimpleNamespace(
        sleep=recorded.append, time=time.time, perf_counter=time.perf_counter))
    monkeypatch.setattr(client_mod, "BACKOFF_BASE", 1.0)
    monkeypatch.setattr(client_mod, "BACKOFF_CAP", 4.0)
    api.add("GET", "/v1/models", error_empty(500))
    client = make_client(api.url, max_retries=4)
    with pytest.raises(APIError):
        client.call("GET", "/v1/models")
    client.close()
    bounds = [(0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (2.0, 4.0)]
    assert len(recorded) == 4
    for delay, (low, high) in zip(recorded, bounds):
        assert low <= delay <= high


# -- unsafe (billable) requests ----------------------------------------------------------


def call_unsafe(api) -> object:
    client = make_client(api.url)
    try:
        return client.call("POST", "/v1/batch/jobs", json_body=BATCH_BODY, effect=Effect.CREATE)
    finally:
        client.close()


def test_unsafe_request_is_retried_on_429(api, sleeps):
    api.add("POST", "/v1/batch/jobs", error_429(), times=1)
    assert call_unsafe(api)["object"] == "batch"
    assert len(api.requests) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_unsafe_request_is_not_retried_on_5xx(api, sleeps, status):
    api.add("POST", "/v1/batch/jobs", error_empty(status), times=1)
    with pytest.raises(APIError) as caught:
        call_unsafe(api)
    assert caught.value.status == status
    assert len(api.requests) == 1


def test_unsafe_request_is_not_retried_after_dropped_connection(api, sleeps):
    api.add("POST", "/v1/batch/jobs", Drop(), times=1)
    with pytest.raises(NetworkError):
        call_unsafe(api)
    assert len(api.requests) == 1


def test_unsafe_request_is_retried_when_connection_refused(sleeps):
    log: list[str] = []
    client = make_client(free_port_url(), max_retries=1, log=log)
    with pytest.raises(NetworkError):
        client.call("POST", "/v1/batch/jobs", json_body=BATCH_BODY, effect=Effect.CREATE)
    client.close()
    assert sum(line.startswith("> POST") for line in log) == 2


def test_a_post_creates_by_default_and_is_not_retried_on_5xx(api, sleeps):
    api.add("POST", "/v1/batch/jobs", error_empty(502), times=1)
    client = make_client(api.url)
    try:
        with pytest.raises(APIError):
            client.call("POST", "/v1/batch/jobs", json_body=BATCH_BODY)
    finally:
        client.close()
    assert len(api.requests) == 1


def test_compute_post_is_retried_on_5xx(api, sleeps):
    body = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "hi"}]}
    api.add("POST", "/v1/chat/completions", error_empty(502), times=1)
    client = make_client(api.url)
    try:
        answer = client.call("POST", "/v1/chat/completions", json_body=body, effect=Effect.COMPUTE)
    finally:
        client.close()
    assert answer["object"] == "chat.completion"
    assert len(api.requests) == 2


# -- call() body decoding ---------------------------------------------------------------


def test_call_returns_none_for_empty_body(api):
    from tests.fakeapi import empty_response

    api.add("GET", "/v1/models", empty_response(200))
    client = make_client(api.url)
    try:
        assert client.call("GET", "/v1/models") is None
    finally:
        client.close()


def test_proxy_text_after_retries_is_an_api_error(api, sleeps):
    api.add("GET", "/v1/models", error_proxy_text(502, "upstream connect error"))
    client = make_client(api.url, max_retries=1)
    with pytest.raises(APIError) as caught:
        client.call("GET", "/v1/models")
    client.close()
    assert "upstream connect error" in caught.value.message
    assert len(api.requests) == 2


# -- Retry-After parsing ----------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    (None, None), ("", None), ("3", 3.0), (" 3 ", 3.0), ("0", 0.0), ("1.5", None), ("-4", None),
    ("nan", None), ("1_0", None), ("+3", None), ("\u0661\u0662", None), ("soon", None),
])
def test_retry_after_values(value, expected):
    assert retry_after(value) == expected


@pytest.mark.parametrize("value", ["-5", "nan", "1_0", "0", "past date"])
def test_an_odd_or_short_retry_after_keeps_the_normal_backoff(api, monkeypatch, sleeps, value):
    monkeypatch.setattr(client_mod, "BACKOFF_BASE", 1.0)
    header = http_date(-3600) if value == "past date" else value
    api.add("GET", "/v1/models", error_429(retry_after=header))
    client = make_client(api.url, max_retries=2)
    with pytest.raises(APIError):
        client.call("GET", "/v1/models")
    client.close()
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0, sleeps


def test_retry_after_past_date_is_zero():
    assert retry_after(http_date(-3600)) == 0.0


def test_retry_after_future_date():
    assert 95 <= retry_after(http_date(100)) <= 100


# -- error bodies -------------------------------------------------------------------------


def test_error_401_detail_shape():
    error = error_from_response(401, "Unauthorized", b'{"detail": "Unauthorized"}', {})
    assert isinstance(error, AuthError)
    assert "Unauthorized" in error.message
    assert "mcli auth login" in error.hint


def test_error_request_id_from_body_and_header():
    body = b'{"message": "Unauthorized", "request_id": "req-9"}'
    assert "req-9" in error_from_response(401, "Unauthorized", body, {}).message
    from_header = error_from_response(500, "Internal Server Error", b"",
                                      {"x-request-id": "hdr-7"})
    assert "hdr-7" in from_header.message
    assert from_header.request_id == "hdr-7"


def test_error_404_and_422_shapes():
    assert isinstance(error_from_response(404, "Not Found", b"", {}), NotFoundError)
    body = (b'{"detail": [{"loc": ["body", "messages", 0, "content"], "msg": "Field required",'
            b' "type": "missing"}]}')
    error = error_from_response(422, "Unprocessable Entity", body, {})
    assert isinstance(error, ValidationError)
    assert error.exit_code == 2
    assert error.details == ["messages.0.content: Field required"]


def test_error_nested_error_object_and_plain_text():
    nested = error_from_response(400, "Bad Request", b'{"error": {"message": "bad thing"}}', {})
    assert "bad thing" in nested.message
    text = error_from_response(502, "Bad Gateway", b"<html>gateway down</html>", {})
    assert "gateway down" in text.message
    empty = error_from_response(500, "Internal Server Error", b"", {})
    assert empty.message == "HTTP 500: Internal Server Error"


# -- SSE ----------------------------------------------------------------------------------


def test_iter_sse_decodes_and_stops_at_done():
    lines = ['data: {"a": 1}', "", ": comment", 'data:{"b": 2}', "", "data: [DONE]", "",
             'data: {"c": 3}']
    assert list(iter_sse(iter(lines))) == [{"a": 1}, {"b": 2}]


def test_iter_sse_joins_multiline_data():
    lines = ['data: {"a":', "data: 1}", "", "data: [DONE]"]
    assert list(iter_sse(iter(lines))) == [{"a": 1}]


def test_iter_sse_error_event_raises():
    lines = ['data: {"a": 1}', "", 'data: {"object": "error", "message": "overloaded"}', ""]
    events = iter_sse(iter(lines))
    assert next(events) == {"a": 1}
    with pytest.raises(StreamError, match="overloaded"):
        next(events)


def test_iter_sse_refuses_an_event_that_is_not_an_object():
    for data in ('"terror"', "[1, 2]", "3"):
        with pytest.raises(NetworkError, match="not a JSON object"):
            list(iter_sse(iter([f"data: {data}", ""])))


# -- transport-level edge cases (httpx.MockTransport) -----------------------------------------


def mock_client(handler) -> HTTPClient:
    import httpx

    return HTTPClient(base_url="http://mock", key=lambda: TEST_API_KEY, timeout=5,
                      max_retries=0, transport=httpx.MockTransport(handler))


def test_compressed_download_is_complete_when_the_wire_bytes_match():
    import gzip
    import io

    import httpx

    from mistral_cli.http.transfer import stream_to

    payload = b"0123456789" * 10_000
    wire = gzip.compress(payload)

    class Wire(httpx.SyncByteStream):  # streamed like a real socket, not preloaded
        def __iter__(self):
            yield wire[:100]
            yield wire[100:]

    def handler(request):
        return httpx.Response(200, stream=Wire(), headers={"Content-Encoding": "gzip",
                                                           "Content-Length": str(len(wire))})

    progress: list[tuple[int, int | None]] = []
    sink = io.BytesIO()
    written = stream_to(mock_client(handler), "/v1/files/x/content", sink,
                        lambda done, total: progress.append((done, total)))
    assert written == len(payload) and sink.getvalue() == payload
    assert progress[-1] == (len(wire), len(wire))


def test_error_body_cut_mid_read_is_still_an_api_error():
    import httpx

    class Cut(httpx.SyncByteStream):
        def __iter__(self):
            yield b'{"message": "bo'
            raise httpx.ReadError("connection reset")

    def handler(request):
        return httpx.Response(400, stream=Cut())

    with pytest.raises(APIError, match="HTTP 400"):
        mock_client(handler).call("GET", "/v1/models")
