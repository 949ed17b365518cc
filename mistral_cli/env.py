"""The one object a command receives: streams, terminal flags, settings and a lazy client.

Commands never touch sys.stdout or build an httpx client themselves: they write to
`env.stdout` (raw text, fast for pipes) or `env.console` (Rich, for terminals), and call the
API through `env.client`, which is built on first use and closed by `app.main()`.
Tests build an Env over in-memory streams.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from mistral_cli.config.global_options import GlobalOptions
from mistral_cli.errors import MCLIError, OutputClosed, OutputFailed, UsageError, redact

SANDBOX_KEY = "sandbox-key"  # what `--server-url sandbox` sends: the local API takes any key

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from mistral_cli.config.credentials import Credential
    from mistral_cli.config.profiles import ConfigFile
    from mistral_cli.config.settings import Setting
    from mistral_cli.http.client import HTTPClient


@dataclass(eq=False)  # compared by identity; skipping the generated __eq__ keeps start-up short
class Env:
    """Streams, terminal flags, environment variables and settings for one invocation."""

    stdin: IO[str] = field(default_factory=lambda: sys.stdin)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    environ: Mapping[str, str] | None = None
    options: GlobalOptions = field(default_factory=GlobalOptions)
    transport: Any = None  # an httpx transport, for tests
    argv: list[str] | None = None  # the arguments mcli was started with (app.main sets them)
    command_tree: Any = None  # the root click command that runs them (app.main sets it)

    def __post_init__(self) -> None:
        if self.environ is None:
            self.environ = os.environ
        self._client: HTTPClient | None = None
        self._credential: Credential | None = None
        self.sent_secrets: set[str] = set()  # filled by the HTTP clients, read by scrub
        # Set by app.main: where each billed answer goes (the ledger, store/ledger.py).
        self.on_billed: Callable[["Env", str, Any, dict], None] | None = None
        self.services: dict[str, Any] = {}  # helpers upper layers keep per invocation (the ledger's writer)
        self.closing: list[Callable[[], None]] = []  # run by close(), last added first

    @classmethod
    def from_process(cls) -> "Env":
        """The Env of a real process: sys streams and their isatty flags."""
        return cls(
            stdin=_utf8(sys.stdin) if sys.stdin is not None else ClosedStdin(), stdout=PipeWriter(sys.stdout), stderr=PipeWriter(sys.stderr),
            stdin_isatty=_isatty(sys.stdin), stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
        )

    @property
    def stdin_closed(self) -> bool:
        """Whether the process started with no standard input at all (`<&-`): no input on stdin."""
        return self.stdin is None or isinstance(self.stdin, ClosedStdin)

    # -- colour and consoles ---------------------------------------------------------

    def _color_allowed(self) -> bool:
        if self.options.color == "never":
            return False
        if self.options.color == "always":
            return True
        return not self.environ.get("NO_COLOR") and self.environ.get("TERM") != "dumb"

    @property
    def stdout_styled(self) -> bool:
        """Whether stdout gets human formatting: a terminal, colours allowed."""
        return self.stdout_isatty and self._color_allowed() or self.options.color == "always"

    @property
    def stderr_styled(self) -> bool:
        """Whether stderr may show colour, spinners and progress bars."""
        return self.stderr_isatty and self._color_allowed() or self.options.color == "always"

    @cached_property
    def console(self) -> "Console":
        """A Rich console on stdout (terminal rendering only)."""
        return self._make_console(self.stdout, self.stdout_styled, self.stdout_isatty)

    @cached_property
    def err_console(self) -> "Console":
        """A Rich console on stderr for messages, progress and usage lines."""
        return self._make_console(self.stderr, self.stderr_styled, self.stderr_isatty)

    def _make_console(self, stream: IO[str], styled: bool, isatty: bool) -> "Console":
        from rich.console import Console

        return Console(
            file=stream, force_terminal=styled, no_color=not styled,
            highlight=False, soft_wrap=not isatty, emoji=False,
            color_system="auto" if styled else None,
        )

    # -- messages --------------------------------------------------------------------

    def info(self, message: str) -> None:
        """A plain line on stderr, through the same redaction step as errors (warnings quote
        keyring and OS errors)."""
        self.stderr.write(self.scrub(message) + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        """The one way to warn: `mcli: warning: MESSAGE` on stderr (redacted like info)."""
        self.info(f"mcli: warning: {message}")

    def report(self, exc: MCLIError) -> None:
        """Print an error, its details and its hint to stderr (the traceback too with --debug)."""
        if getattr(exc, "already_reported", False):
            return
        self._blame_env_key(exc)
        label = "\x1b[31merror:\x1b[0m" if self.stderr_styled else "error:"
        lines = [exc.message, *(f"  {line}" for line in exc.details)]
        if exc.hint:
            lines.append(f"hint: {exc.hint}")
        self.write_error(f"mcli: {label} " + self.scrub("\n".join(lines)))

    def _blame_env_key(self, exc: MCLIError) -> None:
        """A key the server refused that came from MISTRAL_API_KEY: say so in the hint, since
        `auth login` would store another key that this one still overrides."""
        if self._credential is None or self._credential.kind != "env":
            return
        from mistral_cli.http.errors import ENV_KEY_HINT, LOGIN_HINT

        if exc.hint == LOGIN_HINT:
            exc.hint = ENV_KEY_HINT

    def write_error(self, text: str) -> None:
        """Write TEXT (already scrubbed) to stderr, after the traceback with --debug."""
        try:
            if self.options.debug:
                import traceback

                self.stderr.write(self.scrub(traceback.format_exc()))
            self.stderr.write(text + "\n")
            self.stderr.flush()
        except (OutputClosed, BrokenPipeError):
            pass  # stderr was closed by its reader (`mcli ... 2>&1 | head`): nobody to tell

    def scrub(self, text: str) -> str:
        """TEXT through the one redaction step every error passes before the user sees it:
        the key in use, every secret a request carried (http/secrets.py), the raw values
        of MISTRAL_API_KEY, WANDB_API_KEY and GITHUB_TOKEN, any bearer token and any URL
        password are masked, control characters escaped (errors.redact)."""
        from mistral_cli.config.credentials import SECRET_ENV_VARS

        raw = [self.environ.get(name) for name in SECRET_ENV_VARS] if self.environ else []
        used = self._credential.key if self._credential else None
        stripped = [value.strip() for value in raw if value]
        return redact(text, (used, *raw, *stripped, *tuple(self.sent_secrets)))

    def verbose(self, message: str) -> None:
        """A line on stderr only with -v/--verbose."""
        if self.options.verbose or self.options.debug:
            self.info(message)

    # -- settings --------------------------------------------------------------------

    @cached_property
    def config(self) -> "ConfigFile":
        """The parsed config file."""
        from mistral_cli.config.profiles import ConfigFile

        return ConfigFile.load(self.environ)

    @property
    def profile_name(self) -> str:
        """--profile, else MCLI_PROFILE, else the config file's default profile."""
        return self.options.profile or self.environ.get("MCLI_PROFILE") or self.config.default_profile

    @cached_property
    def profile(self) -> dict[str, Any]:
        """The active profile's keys (flattened: `model.chat`, ...)."""
        return self.config.profile(self.known_profile())

    def known_profile(self) -> str:
        """The active profile's name; a UsageError naming the existing profiles when
        --profile or MCLI_PROFILE names one the config file does not define."""
        from mistral_cli.config.profiles import DEFAULT_PROFILE, valid_profile_name

        name = self.profile_name
        if name in (DEFAULT_PROFILE, self.config.default_profile) or self.config.has_profile(name):
            return name
        source = "--profile" if self.options.profile else "MCLI_PROFILE"
        known = sorted({DEFAULT_PROFILE, self.config.default_profile, *self.config.profile_names()})
        valid = valid_profile_name(name)
        hint = f"create it with `mcli config set KEY VALUE --profile {valid}`"
        if valid != name:  # the name as given would be refused: suggest one that is not
            hint = ("a profile name is letters, digits, '.', '_' and '-' (up to 64), starting with a letter "
                    f"or digit; {hint}")
        raise UsageError(f"{source}: no profile '{name}' (profiles: {', '.join(known)})", hint=hint)

    def model(self, setting: str, *given: str | None) -> str:
        """The one model reader: the first model GIVEN (-m, --body's, a conversation's), else
        SETTING's effective value (the profile's `model.chat`..., else its default in the one
        table, config/profiles.KEYS)."""
        return next((model for model in given if model), None) or str(self.effective(setting).value)

    def effective(self, key: str) -> "Setting":
        """KEY's effective value and source for the active profile (config/settings.py)."""
        from mistral_cli.config.settings import effective

        return effective(key, self.profile_name, self.config, self.options, self.environ)

    @property
    def server_url(self) -> str:
        """--server-url, MISTRAL_SERVER_URL, the profile, else the public API."""
        return str(self.effective("server_url").value)

    @property
    def timeout(self) -> float:
        """Read timeout in seconds."""
        return float(self.effective("timeout").value)

    @property
    def max_retries(self) -> int:
        """How many times a failed request is retried."""
        return int(self.effective("max_retries").value)

    @property
    def history_enabled(self) -> bool:
        """Whether conversations and usage are saved locally."""
        return bool(self.effective("history").value)

    def credential(self) -> "Credential":
        """The API key for the active profile, looked up once in the documented order (a
        warning about where it was found, such as an open key file, is shown then)."""
        if self._credential is None:
            from mistral_cli.config.credentials import Credential, resolve_key
            from mistral_cli.config.profiles import SANDBOX

            if self.server_url == SANDBOX:  # the local API takes no key
                self._credential = Credential(SANDBOX_KEY, "the sandbox", "sandbox")
                return self._credential
            self._credential = resolve_key(self.profile_name, self.environ)
            if self._credential.warning:
                self.warn(self._credential.warning)
        return self._credential

    # -- the HTTP client -------------------------------------------------------------

    @property
    def client(self) -> "HTTPClient":
        """The process's one HTTP client, built on first use."""
        if self._client is None:
            self.known_profile()
            self._client = self.new_client(lambda: self.credential().key)
        return self._client

    def new_client(self, key: "Callable[[], str]") -> "HTTPClient":
        """An HTTP client with this Env's server, timeout, retries and log, sending KEY."""
        from mistral_cli.config.profiles import SANDBOX
        from mistral_cli.config.settings import check_transport, is_remote_http
        from mistral_cli.http.client import HTTPClient

        url = self.server_url
        if url == SANDBOX:
            return self._sandbox_client()
        check_transport(url, bool(self.effective("allow_http").value))
        warning = f"warning: plain HTTP: the API key goes unencrypted to {url}" if is_remote_http(url) else None
        return HTTPClient(base_url=url, key=key, timeout=self.timeout, max_retries=self.max_retries,
                          log=self.verbose, transport=self.transport, warning=warning,
                          secrets=self.sent_secrets, on_billed=self.note_billed)

    def note_billed(self, operation: str, body: Any, facts: dict | None = None) -> None:
        """Hand a billed answer (the body of OPERATION's answer) to the ledger, if one is wired."""
        if self.on_billed is not None:
            self.on_billed(self, operation, body, facts or {})

    def _sandbox_client(self) -> "HTTPClient":
        """The client of `--server-url sandbox`: the local API in this process, no key, no socket
        (mistral_cli/sandbox/, loaded only here and by `mcli sandbox`)."""
        from mistral_cli.http.client import HTTPClient
        from mistral_cli.sandbox.transport import BASE_URL, in_process

        try:
            transport = self.transport or in_process(self.environ, self.warn)
        except ValueError as exc:  # a bad MCLI_SANDBOX_* value
            raise UsageError(str(exc)) from None
        return HTTPClient(base_url=BASE_URL, key=lambda: SANDBOX_KEY, timeout=self.timeout,
                          max_retries=self.max_retries, log=self.verbose, transport=transport,
                          secrets=self.sent_secrets)

    def close(self) -> None:
        """Close the HTTP client if one was built, and whatever asked to be closed with the Env."""
        if self._client is not None:
            self._client.close()
            self._client = None
        while self.closing:
            self.closing.pop()()


class PipeWriter:
    """A process's stdout or stderr (or its binary buffer) whose closed pipe raises
    OutputClosed (exit 0) instead of BrokenPipeError, which Typer would turn into exit 1.
    One try block per write."""

    __slots__ = ("_stream",)

    def __init__(self, stream: IO[str]):
        self._stream = stream

    def write(self, text: str) -> int:
        """Write TEXT to the wrapped stream."""
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise OutputClosed() from None
        except OSError as exc:
            raise _output_failed(exc) from None

    def writelines(self, lines: Any) -> None:
        """Write each of LINES."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise OutputClosed() from None
        except OSError as exc:
            raise _output_failed(exc) from None

    @property
    def buffer(self) -> "PipeWriter":
        """The wrapped stream's binary buffer, wrapped the same way (for downloads to `-`)."""
        return PipeWriter(self._stream.buffer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class ClosedStdin:
    """The stdin of a process started with file descriptor 0 closed (`<&-`), where Python has
    none: every read is a UsageError (exit 2), never an AttributeError on None. Commands ask
    inputs.need_stdin first, which names the option that wanted stdin."""

    def _closed(self, *_args: Any) -> Any:
        raise UsageError(CLOSED_STDIN)

    read = readline = readlines = __next__ = _closed

    def __iter__(self) -> "ClosedStdin":
        return self._closed()

    @property
    def buffer(self) -> Any:
        """No binary buffer either."""
        return self._closed()

    def isatty(self) -> bool:
        """Not a terminal."""
        return False

    def fileno(self) -> int:
        """No file descriptor: the OSError a closed descriptor gives."""
        raise OSError(9, "standard input is closed")

    def close(self) -> None:
        """Nothing to close."""


CLOSED_STDIN = "standard input is closed: there is no input on stdin"


def _output_failed(exc: OSError) -> OutputFailed:
    return OutputFailed(f"cannot write the output: {exc.strerror or exc}")


def _utf8(stream: Any) -> Any:
    """STREAM decoding UTF-8 strictly, so bytes that are not UTF-8 raise UnicodeDecodeError
    (app.main reports it as bad input) instead of turning into lone surrogates."""
    try:
        stream.reconfigure(encoding="utf-8", errors="strict")
    except (AttributeError, ValueError, OSError):
        pass
    return stream


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
