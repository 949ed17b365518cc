"""Reading a key for `mcli auth login` (hidden prompt or stdin) and checking it with the server."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mistral_cli.config.credentials import clean_key
from mistral_cli.errors import AuthError, MCLIError, UsageError, redact

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

PROMPT = "Paste your Mistral API key (input is hidden): "
PIPE_EXAMPLE = 'printf %s "$KEY" | mcli auth login --with-key-stdin'


def read_key(env: "Env", with_key_stdin: bool) -> str:
    """The key from stdin (--with-key-stdin, off a terminal) or a hidden prompt (on a terminal)."""
    if with_key_stdin:
        if env.stdin_isatty:
            raise UsageError("--with-key-stdin reads the key from a pipe or a file, but stdin is a terminal "
                             "(the key would show on screen)",
                             hint=f"drop --with-key-stdin to be prompted with hidden input, or: {PIPE_EXAMPLE}")
        from mistral_cli.inputs import need_stdin

        text = need_stdin(env, "--with-key-stdin").read()
    elif env.stdin_isatty:
        text = prompt_hidden(env, PROMPT)
    else:
        raise UsageError("stdin is not a terminal, so mcli cannot prompt for the key",
                         hint=f"pass it on stdin with --with-key-stdin: {PIPE_EXAMPLE}")
    return check_key_text(text)


def check_key_text(text: str) -> str:
    """The key in TEXT without surrounding whitespace; refuse an empty or malformed one."""
    key = clean_key(text, "the input")
    if not key:
        raise UsageError("no key given: the input was empty")
    return key


def prompt_hidden(env: "Env", prompt: str) -> str:
    """Read a line from env.stdin with echo off when it is a real terminal (as getpass does)."""
    fd = _fileno(env.stdin)
    try:
        import termios
    except ImportError:  # pragma: no cover - Windows
        import getpass

        return getpass.getpass(prompt, stream=env.stderr)
    if fd is None or not os.isatty(fd):
        return _prompt_plain(env, prompt)
    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[3] &= ~termios.ECHO
    try:
        termios.tcsetattr(fd, termios.TCSAFLUSH, new)
        return _prompt_plain(env, prompt)
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, old)
        env.stderr.write("\n")
        env.stderr.flush()


def _prompt_plain(env: "Env", prompt: str) -> str:
    env.stderr.write(prompt)
    env.stderr.flush()
    line = env.stdin.readline()
    if not line:
        raise UsageError("no key given: end of input")
    return line


def _fileno(stream: object) -> int | None:
    try:
        return stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None


def verify_key(env: "Env", key: str, refused: str = "the server refused this key; nothing was stored",
               other_hint: str | None = "or add --no-verify to store the key without checking it") -> int:
    """GET /v1/models with KEY on a throwaway client; return the model count, or raise."""
    from mistral_cli.api.operations import call

    client = env.new_client(lambda: key)
    try:
        body = call(client, "models.list")
    except AuthError as exc:
        raise AuthError(f"{refused} ({redact(exc.message, (key,))})",
                        hint="check the key at https://console.mistral.ai/api-keys, or the server URL") from None
    except MCLIError as exc:
        exc.message = redact(exc.message, (key,))
        if other_hint:
            exc.message += "; nothing was stored"
            exc.hint = f"{exc.hint}; {other_hint}" if exc.hint else other_hint
        raise
    finally:
        client.close()
    return len(body.get("data") or []) if isinstance(body, dict) else 0
