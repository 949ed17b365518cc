"""FakeAPI: a real HTTP/1.1 server on 127.0.0.1 that records and validates
every request against the Mistral OpenAPI spec, answers registered stubs
(httpmock style) or schema-plausible defaults.

    api = FakeAPI().start()
    api.add("POST", "/v1/chat/completions", error_429(), times=1)
    api.add("GET", "/v1/files/{file_id}", json_response({...}))
    ... point a client at api.url ...
    api.verify()     # raises AssertionError: violations / unused stubs
    api.stop()

``api.delay = 0.4`` makes every answer wait that long after its request was read (a slow
server). ``api.hooks`` are called as ``hook(stage, request)`` on the handler's thread with
stage "received" (the request was read in full, nothing answered yet) and "answered" (the
response was written): kill tests use them to act while a request is in flight.

The sandbox runs the same server: ``listen=False`` builds it without a socket (the in-process
transport, transport.py, hands it requests), ``fallback(request)`` answers what no stub does
(the sandbox's world.py instead of DEFAULTS), ``reject_invalid`` answers a request the spec
refuses with the API's 422 shape, and ``faults`` (faults.py) fails or slows chosen answers.
"""
from __future__ import annotations

import json
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import parse_qs, unquote, urlsplit

from . import spec as specmod
from .defaults import DEFAULTS
from .multipart import KEEP_BYTES, Part, boundary_of, iter_body, parse_multipart
from .responses import invalid_request, json_response, text_response

_EXTRA = re.compile(r"at <root>: Additional properties are not allowed \((.*) (?:was|were) unexpected\)$")


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only header mapping (first value wins;
    ``get_all`` returns every value)."""

    def __init__(self, items):
        self._items = [(str(k), str(v)) for k, v in items]
        self._map: dict[str, str] = {}
        for k, v in self._items:
            self._map.setdefault(k.lower(), v)

    def __getitem__(self, key: str) -> str:
        return self._map[key.lower()]

    def __iter__(self) -> Iterator[str]:
        seen = set()
        for k, _ in self._items:
            if k.lower() not in seen:
                seen.add(k.lower())
                yield k

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._map

    def get_all(self, key: str) -> list[str]:
        return [v for k, v in self._items if k.lower() == key.lower()]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes | None = None           # None for multipart (see form/files)
    json: Any = None
    violations: list[str] = field(default_factory=list)
    operation_id: str | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None  # multipart text fields
    files: list[Part] | None = None     # multipart file parts (metadata)
    parts: list[Part] | None = None     # every multipart part, in order
    body_size: int = 0                  # bytes of body received on the wire
    client_port: int = 0                # same port == same keep-alive connection

    def file(self, name: str = "file") -> Part | None:
        """The multipart file part called ``name`` (or None)."""
        return next((p for p in self.files or [] if p.name == name), None)

    @property
    def target(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Stub:
    """A registered response for (method, path template)."""

    method: str
    path: str
    response: Any
    times: int | None = None
    optional: bool = False
    query: dict[str, list[str] | str] | None = None
    extra_fields: frozenset[str] = frozenset()
    calls: int = 0

    def __post_init__(self):
        self.method = self.method.upper()
        pat = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        self._regex = re.compile(pat)

    def match(self, method: str, path: str, query: dict[str, list[str]]) -> dict | None:
        if method != self.method or self.exhausted:
            return None
        m = self._regex.fullmatch(path)
        if m is None:
            return None
        for k, v in (self.query or {}).items():
            if query.get(k) != ([v] if isinstance(v, str) else list(v)):
                return None
        return {k: unquote(v) for k, v in m.groupdict().items()}

    def allow_extra(self, violations: list[str]) -> list[str]:
        """VIOLATIONS without those that only name top-level fields of ``extra_fields`` (the
        fields the API takes beyond the spec); every other violation stays."""
        return [v for v in violations if not self._only_extra(v)]

    def _only_extra(self, violation: str) -> bool:
        found = _EXTRA.search(violation)
        return bool(found and self.extra_fields
                    and set(re.findall(r"'([^']+)'", found.group(1))) <= self.extra_fields)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.calls >= self.times

    def describe(self) -> str:
        t = "" if self.times is None else f" times={self.times}"
        return f"{self.method} {self.path}{t} (used {self.calls})"


class _QuietServer(ThreadingHTTPServer):
    """A server whose handler errors (a client that hung up) are not printed.

    socketserver prints them to sys.stderr, which the in-process `cli` fixture redirects
    into the CLI's captured stderr; they belong to the server, not to mcli. Its listen backlog
    takes many clients connecting at once (socketserver's 5 resets some of them).
    """

    request_queue_size = 64

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001 - socketserver's API
        """Drop the error: a client that hung up is a test's own doing."""


class FakeAPI:
    """The fake Mistral API server. See module docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, validate: bool = True, *,
                 listen: bool = True, fallback: Any = None, reject_invalid: bool = False,
                 faults: Any = None, keep: int = KEEP_BYTES):
        self.requests: list[RecordedRequest] = []
        self.stubs: list[Stub] = []
        self.files: dict[str, dict] = {}      # uploads seen by the default handlers
        self.server_errors: list[str] = []
        self.validate = validate
        self.delay = 0.0                      # seconds before each answer
        self.hooks: list = []                 # hook(stage, request): "received" / "answered"
        self.fallback = fallback              # fallback(request) answers what no stub does
        self.reject_invalid = reject_invalid  # a request the spec refuses gets a 422
        self.faults = faults                  # faults.Faults: chosen answers fail or slow
        self.keep = keep                      # bytes kept of each uploaded part
        self.recording = True                 # keep every request in `requests` (a test's record)
        self.received = 0                     # requests answered or not, recorded or not
        self._ignore_violations = False
        self._lock = threading.Lock()
        self._server = _QuietServer((host, port), _make_handler(self)) if listen else None
        if self._server:
            self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        if validate:
            specmod._openapi()  # load + compile the spec before the first request

    # ---- lifecycle -------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            return "http://sandbox"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeAPI":
        if self._server is None:
            return self
        # shutdown() waits for the loop's next poll: at 0.05 s that was about 30 s of the
        # suite's teardowns; 0.01 s costs a hundred idle wake-ups a second while a server runs.
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.01},
                                        name="FakeAPI", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(5)

    def __enter__(self) -> "FakeAPI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- stubs -----------------------------------------------------------
    def add(self, method: str, path: str, response: Any, *, times: int | None = None,
            optional: bool = False, query: dict | None = None,
            extra_fields: Iterable[str] = ()) -> Stub:
        """Register ``response`` (a response object or ``callable(request)``)
        for ``method path``; ``path`` may contain ``{name}`` placeholders.
        Stubs match in registration order; ``times=N`` makes one usable N
        times (then later stubs / defaults answer). A stub never used fails
        ``verify()`` unless ``optional=True``. ``extra_fields`` names the
        top-level body fields the real API takes beyond the spec: a request this
        stub answers may carry them (every other violation still counts)."""
        stub = Stub(method, path, response, times, optional, query, frozenset(extra_fields))
        with self._lock:
            self.stubs.append(stub)
        return stub

    def unused_stubs(self) -> list[Stub]:
        return [s for s in self.stubs if not s.optional and s.calls == 0]

    # ---- inspection ------------------------------------------------------
    def violations(self) -> list[str]:
        """All spec violations across all requests (plus server-side errors)."""
        with self._lock:
            out = [v for r in self.requests for v in r.violations]
        return out + list(self.server_errors)

    def ignore_violations(self) -> None:
        """Let ``verify()`` pass despite spec violations (for tests that send
        deliberately invalid requests)."""
        self._ignore_violations = True

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Recorded requests matching a method and exact path or template."""
        probe = Stub(method, path, None)
        return [r for r in self.requests if probe.match(r.method, r.path, {}) is not None]

    def last(self, method: str | None = None, path: str | None = None) -> RecordedRequest:
        reqs = self.requests if method is None else self.requests_to(method, path or "")
        assert reqs, f"no request {method or ''} {path or ''} was made"
        return reqs[-1]

    def problems(self) -> list[str]:
        """What ``verify()`` would complain about."""
        out = [] if self._ignore_violations else [f"spec violation: {v}" for v in
                                                  self.violations()]
        if self._ignore_violations:
            out += [f"server error: {e}" for e in self.server_errors]
        out += [f"stub never used: {s.describe()}" for s in self.unused_stubs()]
        return out

    def verify(self) -> None:
        """Raise AssertionError listing spec violations and unused stubs."""
        problems = self.problems()
        if problems:
            raise AssertionError("FakeAPI problems:\n  " + "\n  ".join(problems))

    # ---- dispatch (called from handler threads) --------------------------
    def _stage(self, stage: str, req: RecordedRequest) -> None:
        for hook in list(self.hooks):
            hook(stage, req)

    def _respond(self, req: RecordedRequest):
        with self._lock:
            self.received += 1
        if self.faults is not None:
            failure = self.faults.failure(req)
            if failure is not None:
                return failure
        if self.reject_invalid and req.violations:
            return invalid_request(req.violations)
        resp = self._dispatch(req)
        return self.faults.shape(resp) if self.faults is not None else resp

    def _dispatch(self, req: RecordedRequest):
        with self._lock:
            if self.recording:
                self.requests.append(req)
            for stub in self.stubs:
                params = stub.match(req.method, req.path, req.query)
                if params is not None:
                    stub.calls += 1
                    break
            else:
                stub = None
        if stub is not None:
            req.violations = stub.allow_extra(req.violations)
            if params:
                req.path_params = {**req.path_params, **params}
            resp = stub.response
            return resp(req) if callable(resp) and not hasattr(resp, "write") else resp
        if self.fallback is not None:
            return self.fallback(req)
        handler = DEFAULTS.get(req.operation_id or "")
        if handler is None:
            return json_response({"detail": "Not Found"}, 404)
        return handler(self, req)


def _make_handler(api: FakeAPI):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are written apart: no 40 ms wait for an ACK
        server_version = "FakeMistral/1.0"
        timeout = 60  # idle keep-alive connections eventually go away

        def log_message(self, fmt, *args):  # keep test output quiet
            pass

        def _handle(self):
            try:
                req = self._record()
            except ConnectionError:
                self.close_connection = True
                return
            except Exception:  # malformed framing etc.: report, drop the connection
                api.server_errors.append(f"{self.command} {self.path}: could not read "
                                         f"request\n{traceback.format_exc()}")
                self.close_connection = True
                return
            api._stage("received", req)
            if api.delay:
                time.sleep(api.delay)
            try:
                resp = api._respond(req)
            except Exception:
                tb = traceback.format_exc()
                api.server_errors.append(f"{req.target}: handler raised\n{tb}")
                resp = text_response("fake server error\n" + tb, 500)
            try:
                resp.write(self)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            api._stage("answered", req)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        def _record(self) -> RecordedRequest:
            return record_request(api, self.command, self.path, Headers(self.headers.items()),
                                  iter_body(self.rfile, self.headers), self.client_address[1])

    return Handler


def record_request(api: FakeAPI, method: str, target: str, headers: Headers, chunks: Iterator[bytes],
                   client_port: int = 0) -> RecordedRequest:
    """The RecordedRequest for METHOD TARGET with HEADERS and the body CHUNKS, checked against
    the spec when API validates (the HTTP handler and the in-process transport both use it)."""
    split = urlsplit(target)
    path = split.path
    query = parse_qs(split.query, keep_blank_values=True)
    ctype = headers.get("Content-Type", "")
    found = specmod.find_operation(method, path)
    req = RecordedRequest(method, path, query, headers,
                          operation_id=found[0].operation_id if found else None,
                          path_params={k: unquote(v) for k, v in (found[1] if found else {}).items()},
                          client_port=client_port)
    if ctype.lower().startswith("multipart/form-data"):
        _record_multipart(api, req, chunks, ctype)
        return req
    has_body = "Content-Length" in headers or "Transfer-Encoding" in headers
    body = b"".join(chunks) if has_body else None
    req.body = body
    req.body_size = len(body or b"")
    if body and "json" in ctype.lower():
        try:
            req.json = json.loads(body)
        except ValueError:
            pass
    if api.validate:
        req.violations += specmod.validate_request(method, path, query, headers, body or None, ctype)
    return req


def _record_multipart(api: FakeAPI, req: RecordedRequest, chunks: Iterator[bytes], ctype: str) -> None:
    """Read REQ's multipart body from CHUNKS into its parts, files and form."""
    boundary = boundary_of(ctype)
    parts, size, error = parse_multipart(chunks, boundary or "\x00no-boundary", api.keep)
    req.parts, req.body_size = parts, size
    req.files = [p for p in parts if p.filename is not None]
    req.form = {p.name: p.value for p in parts if p.filename is None and p.value is not None}
    if error or not boundary:
        req.violations.append(f"{req.target}: malformed multipart body: {error or 'no boundary'}")
    if api.validate:
        req.violations += specmod.validate_request(req.method, req.path, req.query, req.headers, None,
                                                   ctype, multipart_parts=[p.as_field() for p in parts])
