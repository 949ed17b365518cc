"""The in-process sandbox: an httpx transport that hands each request to the sandbox server
object without a socket (`--server-url sandbox`, `MISTRAL_SERVER_URL=sandbox`).

The response objects of responses.py write HTTP to a request handler; here they write to a
Capture that stands in for one, and what they wrote becomes an httpx.Response. A response that
breaks its connection mid-body (a cut stream) raises httpx.RemoteProtocolError after the bytes
sent, as a real socket would.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx

from .server import FakeAPI, Headers, record_request

BASE_URL = "http://sandbox"


class _Connection:
    """The socket a response may shut down mid-body."""

    def __init__(self) -> None:
        self.cut = False

    def shutdown(self, _how: int) -> None:
        """Mark the connection broken."""
        self.cut = True


class Capture:
    """Stands in for BaseHTTPRequestHandler: records the status, headers and body written."""

    def __init__(self, method: str) -> None:
        self.command = method
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.wfile = io.BytesIO()
        self.connection = _Connection()
        self.close_connection = False

    def send_response(self, status: int, _message: str | None = None) -> None:
        """Record the status line."""
        self.status = status

    def send_header(self, name: str, value: str) -> None:
        """Record one header."""
        self.headers.append((name, value))

    def end_headers(self) -> None:
        """Nothing to do: the body follows in wfile."""

    def response(self, request: httpx.Request) -> httpx.Response:
        """What was written, as an httpx.Response (a dropped answer raises)."""
        if not self.status:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        raw = self.wfile.getvalue()
        chunked = any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in self.headers)
        body, complete = dechunk(raw) if chunked else (raw, True)
        headers = [(k, v) for k, v in self.headers if k.lower() != "transfer-encoding"]
        broken = self.connection.cut or not complete
        return httpx.Response(self.status, headers=headers, stream=_Body(body, broken, request), request=request)


class _Body(httpx.SyncByteStream):
    """A response body; a broken one raises after its bytes, as a closed socket would."""

    def __init__(self, data: bytes, broken: bool, request: httpx.Request) -> None:
        self._data, self._broken, self._request = data, broken, request

    def __iter__(self) -> Iterator[bytes]:
        if self._data:
            yield self._data
        if self._broken:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body",
                                            request=self._request)


def dechunk(raw: bytes) -> tuple[bytes, bool]:
    """The data of a chunked body RAW, and whether its last chunk came."""
    out, rest = bytearray(), raw
    while rest:
        line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            return bytes(out), False
        size = int(line.split(b";", 1)[0] or b"0", 16)
        if size == 0:
            return bytes(out), True
        out += rest[:size]
        rest = rest[size + 2:]
    return bytes(out), False


class SandboxTransport(httpx.BaseTransport):
    """Sends each request to API (a FakeAPI, usually the sandbox's) in this process."""

    def __init__(self, api: FakeAPI) -> None:
        self.api = api

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Record REQUEST as the server would, answer it, return the answer."""
        body = request.read()
        headers = Headers(request.headers.multi_items())
        if body and "content-length" not in request.headers:
            headers = Headers([*request.headers.multi_items(), ("Content-Length", str(len(body)))])
        target = request.url.raw_path.decode("ascii")
        recorded = record_request(self.api, request.method, target, headers, iter([body]))
        self.api._stage("received", recorded)
        capture = Capture(request.method)
        self.api._respond(recorded).write(capture)
        self.api._stage("answered", recorded)
        return capture.response(request)


def in_process(environ: Mapping[str, str], warn: Callable[[str], None]) -> SandboxTransport:
    """The transport of `--server-url sandbox`: the sandbox over the data folder's sandbox/,
    with the faults MCLI_SANDBOX_* ask for (WARN says once if requests go unchecked)."""
    from mistral_cli.config.paths import data_dir

    from .world import build

    return SandboxTransport(build(Path(data_dir(environ)) / "sandbox", environ, warn, listen=False))
