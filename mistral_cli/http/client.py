"""The thin HTTP core over httpx: auth, timeouts, retries, error mapping and SSE streams.

One HTTPClient per process. Requests are retried with exponential backoff and jitter,
honouring Retry-After (plain seconds or an HTTP date, never below the normal backoff; a wait
over MAX_RETRY_AFTER seconds is reported, not slept), but only where a retry cannot duplicate work. What a request does to
the server is its Effect:

    REPEATABLE GET, DELETE, PATCH...: retried on 429, 5xx, timeouts and dropped connections
    COMPUTE    a POST that creates nothing lasting (chat, fim, agents, embeddings, classifiers,
               ocr): retried on 429, 5xx and failures before the request was fully sent; never
               once it was sent and no answer came (read timeout, dropped connection)
    CREATE     an upload or a job create: retried only on 429 and when the connection failed
               before anything was sent

Streams are never retried once their first event has been handed to the caller.

Keep-alive connections: a connection the server closed while it sat idle fails the next
request with a disconnect that looks exactly like "sent, then no answer" (httpx raises
RemoteProtocolError), which a COMPUTE or CREATE request must not retry. So the pool drops a
connection idle for KEEPALIVE_EXPIRY seconds, below the idle timeout of common servers and
proxies (60 s and more), and a CREATE request (rare, and the costliest to get wrong) always
goes out on a fresh connection, where that failure can only mean the server got it. COMPUTE
requests keep the pool: batched embeddings reuse their connections. When mcli gives up on a
COMPUTE or CREATE request after sending it, the message says the server may have acted on
it (and the caller's hint says how to check).

Redirects are followed within the server's origin. To another origin only a GET or HEAD
goes on, without the key (httpx drops `Authorization` there); any other request is not
sent there (its body may hold secrets such as a W&B key): the redirect is an APIError
naming the Location. Every secret a request carries is recorded in `secrets` (see
http/secrets.py) for the one redaction step of everything mcli prints.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from mistral_cli import __version__
from mistral_cli.errors import APIError, MCLIError, NetworkError, StreamError, UsageError
from mistral_cli.http import body as bounded
from mistral_cli.http.body import ACCEPT_ENCODING, MAX_ERROR_BODY, decoded_text, read_body
from mistral_cli.http.effect import Effect
from mistral_cli.http.errors import error_from_response
from mistral_cli.http.secrets import secrets_in_body, secrets_in_url

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECT_TIMEOUT = 10.0
MAX_RETRY_AFTER = 60.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
USER_AGENT = f"mcli/{__version__}"
# Failures that prove the request never reached the server: any request may be retried.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures while the request was still being written: the server cannot have acted on it.
NOT_FULLY_SENT = (httpx.WriteError, httpx.WriteTimeout)
# Failures after the request was sent: the server may have acted on it.
NO_ANSWER = (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout)
MAY_HAVE_ACTED = "the server may have acted on the request"
CHECK_BEFORE_RESENDING = "check whether it was created (list what exists) before sending it again"
KEEPALIVE_EXPIRY = 5.0  # seconds an idle pooled connection is kept
MIB = 1024 * 1024


class HTTPClient:
    """Sends requests to the API and turns failures into mcli errors."""

    def __init__(self, base_url: str, key: Callable[[], str], timeout: float, max_retries: int,
                 log: Callable[[str], None] = lambda _m: None, transport: Any = None,
                 warning: str | None = None, secrets: set[str] | None = None,
                 on_billed: Callable[[str, Any, dict | None], None] | None = None):
        self.base_url = base_url
        # Where the api/ layer hands each billed answer (operation name, decoded body, facts):
        # the ledger, wired by Env; nothing when unset.
        self.on_billed = on_billed
        self.secrets = set() if secrets is None else secrets  # every secret sent, for redaction
        self.secrets.update(secrets_in_url(base_url))
        self._key = key
        self.timeout = timeout
        self.max_retries = max_retries
        self._log = log
        self._warning = warning  # logged before each request (plain HTTP to another host)
        self._transport = transport
        self._tls: Any = None  # one SSL context for both pools: loading the CA store costs ~17 ms
        self._http = self._new_http(httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY))
        self._fresh: httpx.Client | None = None
        self._fresh_lock = threading.Lock()

    def _new_http(self, limits: httpx.Limits) -> httpx.Client:
        if self._tls is None and self._transport is None:
            self._tls = httpx.create_ssl_context()
        return httpx.Client(
            base_url=self.base_url, transport=self._transport, follow_redirects=True, verify=self._tls or True,
            timeout=httpx.Timeout(self.timeout, connect=CONNECT_TIMEOUT), limits=limits,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
            event_hooks={"response": [self._check_redirect]},
        )

    def _http_for(self, effect: Effect) -> httpx.Client:
        """The pooled client, or for CREATE one that opens a new connection per request (a
        stale keep-alive connection would fail it with no way to retry)."""
        if effect is not Effect.CREATE:
            return self._http
        with self._fresh_lock:  # commands may send from several threads
            if self._fresh is None:
                self._fresh = self._new_http(httpx.Limits(max_keepalive_connections=0))
        return self._fresh

    def close(self) -> None:
        """Close the connection pools."""
        self._http.close()
        if self._fresh is not None:
            self._fresh.close()

    # -- public calls ------------------------------------------------------------------

    def call(self, method: str, path: str, **kw: Any) -> Any:
        """Send a request and return its decoded JSON body (None when empty); a body that
        is not JSON, or over body.MAX_BODY bytes once decompressed, is an APIError."""
        with self.stream(method, path, **kw) as response:
            body = read_body(response, what=f"the answer to {method} {path}")
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError:
            text = body[:200].decode("utf-8", "replace")
            error = APIError(f"the server answered HTTP {response.status_code} with a body that is "
                             f"not JSON: {text!r}", status=response.status_code)
            raise _unsure(error, kw.get("effect") or Effect.of_method(method), kw.get("unsure_hint"),
                          answered=True) from None

    @contextmanager
    def stream(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
               files: Callable[[], dict] | None = None, data: dict | None = None,
               headers: dict | None = None, effect: Effect | None = None,
               unsure_hint: str | None = None) -> Iterator[httpx.Response]:
        """Send a request (with retries as its EFFECT allows; by default the method's) and
        yield the response before its body is read. UNSURE_HINT says how to check whether a
        COMPUTE or CREATE request that got no complete answer was acted on."""
        effect = effect or Effect.of_method(method)
        try:
            response = self._send_with_retries(method, path, params=params, json_body=json_body,
                                               files=files, data=data, headers=headers,
                                               effect=effect)
        except (NetworkError, APIError) as exc:
            raise _unsure(exc, effect, unsure_hint) from None
        try:
            yield response
        except httpx.ReadTimeout:
            error = NetworkError(f"the stream stalled: no data for {self.timeout:g} s")
            raise _unsure(error, effect, unsure_hint, answered=True) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            error = NetworkError(f"the connection broke before the response was complete ({exc})")
            raise _unsure(error, effect, unsure_hint, answered=True) from None
        finally:
            response.close()

    def events(self, method: str, path: str, **kw: Any) -> Iterator[dict]:
        """POST for a server-sent event stream and yield each decoded `data:` event."""
        with self.stream(method, path, headers={"Accept": "text/event-stream"}, **kw) as response:
            yield from response_events(response)

    # -- the retry loop ------------------------------------------------------------------

    def _send_with_retries(self, method: str, path: str, *, effect: Effect, **kw: Any) -> httpx.Response:
        attempt, unanswered = 0, False
        while True:
            started = time.perf_counter()
            try:
                response = self._send_once(method, path, effect=effect, **kw)
            except httpx.TransportError as exc:
                if not self._may_retry_transport(exc, effect, attempt):
                    error = _network_error(exc, self.base_url, self.timeout)
                    error.maybe_acted = isinstance(exc, NO_ANSWER)
                    raise error from None
                self._wait(attempt, None, f"{type(exc).__name__}")
                attempt, unanswered = attempt + 1, unanswered or isinstance(exc, NO_ANSWER)
                continue
            self._log_response(method, response, started, attempt)
            if response.status_code < 400:
                return response
            if self._may_retry_status(response.status_code, effect, attempt):
                delay = retry_after(response.headers.get("retry-after"))
                response.close()
                self._wait(attempt, delay, f"HTTP {response.status_code}", response.status_code)
                attempt += 1
                continue
            error = error_from_response(response.status_code, response.reason_phrase,
                                        _error_body(response), response.headers)
            if unanswered and method.upper() == "DELETE" and response.status_code == 404:
                error.message += " (an earlier attempt got no answer: it may have deleted it)"
            raise error

    def _send_once(self, method: str, path: str, *, effect: Effect, params: Any, json_body: Any,
                   files: Callable[[], dict] | None, data: dict | None,
                   headers: dict | None) -> httpx.Response:
        key = self._key()
        self.secrets.add(key)
        if json_body is not None:
            self.secrets.update(secrets_in_body(json_body))
        try:
            request = self._http.build_request(
                method, path, params=params, json=json_body, data=data,
                files=files() if files else None,
                headers={**(headers or {}), "Authorization": f"Bearer {key}"},
            )
        except ValueError as exc:  # NaN or infinity in the body: JSON cannot carry them
            raise UsageError(f"the request cannot be sent as JSON: {exc}",
                             hint="numbers must be finite (no nan or infinity)") from None
        if self._warning:
            self._log(self._warning)
        self._log(f"> {method} {request.url}")
        return self._http_for(effect).send(request, stream=True)

    def _check_redirect(self, response: httpx.Response) -> None:
        """Let a redirect go on within the origin, or as a GET or HEAD (without the key) to
        another; any other request is not sent to another origin: an APIError naming where."""
        if not response.has_redirect_location:
            return
        request = response.request
        location = response.headers["location"]
        try:
            target = request.url.join(location)
        except httpx.InvalidURL:
            return  # httpx refuses it itself
        self._log(f"  redirected ({response.status_code}) to {_shown(str(target))}")
        if _same_origin(request.url, target) or request.method in ("GET", "HEAD"):
            return
        raise APIError(f"the server redirected {request.method} {request.url.path} to another origin "
                       f"({_shown(str(target))}); mcli does not send a request there",
                       status=response.status_code,
                       hint="check the server URL (--server-url, MISTRAL_SERVER_URL or the profile)")

    def _may_retry_status(self, status: int, effect: Effect, attempt: int) -> bool:
        if attempt >= self.max_retries or status not in RETRY_STATUSES:
            return False
        return status == 429 or effect is not Effect.CREATE

    def _may_retry_transport(self, exc: Exception, effect: Effect, attempt: int) -> bool:
        if attempt >= self.max_retries:
            return False
        if isinstance(exc, NOT_SENT):
            return True
        if isinstance(exc, NOT_FULLY_SENT):
            return effect is not Effect.CREATE
        return effect is Effect.REPEATABLE and isinstance(exc, NO_ANSWER)

    def _wait(self, attempt: int, delay: float | None, why: str, status: int = 429) -> None:
        """Sleep before retry ATTEMPT+1: the normal backoff, or the server's Retry-After DELAY
        when longer (a shorter one, 0 or a past date, never makes the retries come faster)."""
        if delay is not None and delay > MAX_RETRY_AFTER:
            raise APIError(f"{why}: the server asks to retry after {delay:.0f} s; try again later",
                           status=status)
        backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt) * random.uniform(0.5, 1.0)
        delay = backoff if delay is None else max(delay, backoff)
        self._log(f"  {why}; retry {attempt + 1}/{self.max_retries} in {delay:.2f} s")
        time.sleep(delay)

    def _log_response(self, method: str, response: httpx.Response, started: float,
                      attempt: int) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        retries = f", after {attempt} retries" if attempt else ""
        self._log(f"< {response.status_code} {response.reason_phrase} ({elapsed:.0f} ms{retries})")


_EOL = re.compile(r"\r\n|\r|\n")


def response_events(response: httpx.Response) -> Iterator[dict]:
    """The decoded `data:` events of an event-stream RESPONSE, read as it arrives."""
    return iter_sse(sse_lines(decoded_text(response)))


def response_lines(response: httpx.Response) -> Iterator[str]:
    """The lines of RESPONSE's text body (JSONL, say) as it arrives, each within the decode cap."""
    return sse_lines(decoded_text(response))


def sse_lines(chunks: Iterable[str]) -> Iterator[str]:
    """The lines of an event stream whatever its chunking: split only at CRLF, LF or CR, as
    the SSE format says (httpx's iter_lines also splits at U+2028, U+0085 and others, which
    a server may send raw inside a JSON string). A line is at most body.MAX_BODY characters."""
    pending = ""
    for chunk in chunks:
        text = pending + chunk if pending else chunk
        if "\r" in text:
            hold = "\r" if text.endswith("\r") else ""  # may be the first half of a CRLF
            lines = _EOL.split(text[:len(text) - len(hold)])
            pending = lines.pop() + hold
        else:  # the common case, LF only: a plain split is the fastest
            lines = text.split("\n")
            pending = lines.pop()
        if len(pending) > bounded.MAX_BODY:
            raise NetworkError(f"the server sent a stream line longer than {bounded.MAX_BODY // MIB} MiB; "
                               "mcli stopped reading it")
        yield from lines
    lines = _EOL.split(pending)
    if lines[-1] == "":
        lines.pop()
    yield from lines


def iter_sse(lines: Iterator[str]) -> Iterator[dict]:
    """Decode `data:` lines of an SSE stream; stop at `[DONE]`; raise on an error event.
    An event spread over several lines holds at most body.MAX_BODY characters."""
    pending: list[str] = []
    held = 0  # characters in pending
    for line in lines:
        if not line.startswith("data:"):
            if not line and pending:
                yield _sse_object("\n".join(pending))
                pending.clear()
                held = 0
            continue
        data = line[6:] if line.startswith("data: ") else line[5:]
        if data == "[DONE]":
            return
        if not pending:
            try:
                event = json.loads(data)
            except ValueError:
                pass
            else:
                yield _checked_event(event, data)
                continue
        pending.append(data)
        held += len(data)
        if held > bounded.MAX_BODY:
            raise NetworkError(f"the server sent an event longer than {bounded.MAX_BODY // MIB} MiB; "
                               "mcli stopped reading it")


def _sse_object(text: str) -> dict:
    try:
        event = json.loads(text)
    except ValueError:
        raise NetworkError(f"the server sent an event that is not JSON: {text[:200]!r}") from None
    return _checked_event(event, text)


def _checked_event(event: Any, text: str) -> dict:
    """EVENT if it is a JSON object; an error event raises StreamError, anything else NetworkError."""
    if not isinstance(event, dict):
        raise NetworkError(f"the server sent an event that is not a JSON object: {text[:200]!r}")
    if "error" in event or event.get("object") == "error":
        raise _stream_error(event)
    return event


def _error_body(response: httpx.Response) -> bytes:
    """The first MAX_ERROR_BODY bytes of an error response's decoded body, or b"" when the
    connection breaks or the body does not decode."""
    try:
        return bytes(read_body(response, MAX_ERROR_BODY, cut=True))
    except (httpx.TransportError, MCLIError):
        return b""
    finally:
        response.close()


def _stream_error(event: dict) -> MCLIError:
    """The StreamError for an error EVENT received mid-stream."""
    error = event.get("error", event)
    message = error.get("message") if isinstance(error, dict) else str(error)
    return StreamError(f"the server reported an error mid-stream: {message}")


RETRY_AFTER_SECONDS = re.compile(r"[0-9]+")  # delay-seconds: 1*DIGIT (RFC 9110), ASCII only


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: plain non-negative digits or an HTTP date
    (0 when it is past); None for anything else (`-5`, `nan`, `1.5`, `1_0`): the caller then
    keeps its normal backoff."""
    if not value:
        return None
    value = value.strip()
    if RETRY_AFTER_SECONDS.fullmatch(value):
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
        return max(0.0, moment.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def _same_origin(url: httpx.URL, other: httpx.URL) -> bool:
    """Whether URL and OTHER share scheme, host and port."""
    defaults = {"http": 80, "https": 443}
    return (url.scheme == other.scheme and url.host == other.host
            and (url.port or defaults.get(url.scheme)) == (other.port or defaults.get(other.scheme)))


def _shown(text: str, limit: int = 300) -> str:
    """TEXT from the server cut to LIMIT characters for a message."""
    return text if len(text) <= limit else text[:limit] + "…"


def _unsure(error: MCLIError, effect: Effect, hint: str | None, answered: bool = False) -> MCLIError:
    """ERROR, saying that the server may have acted on a COMPUTE or CREATE request that
    failed after it was sent (no answer, a cut answer, or a 5xx), and how to check (HINT)."""
    if effect is Effect.REPEATABLE or not (answered or error.maybe_acted):
        return error
    error.message += f"; {MAY_HAVE_ACTED}"
    error.hint = hint or (CHECK_BEFORE_RESENDING if effect is Effect.CREATE else error.hint)
    return error


def _network_error(exc: Exception, base_url: str, timeout: float) -> NetworkError:
    if isinstance(exc, httpx.ConnectTimeout):
        return NetworkError(f"cannot connect to {base_url}: timed out after {CONNECT_TIMEOUT:g} s")
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(f"cannot connect to {base_url}: {exc}",
                            hint="check the network, or the server URL (--server-url)")
    if isinstance(exc, httpx.ReadTimeout):
        return NetworkError(f"no answer from {base_url} within {timeout:g} s",
                            hint="raise the limit with --timeout SECONDS")
    return NetworkError(f"the connection to {base_url} failed: {exc or type(exc).__name__}")
