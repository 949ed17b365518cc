"""API keys: where they are looked up, stored and removed.

Lookup order (`resolve_key`): MISTRAL_API_KEY, then the OS keyring entry of the active
profile (service `mcli`, username = profile name), then the 0600 file that exists only when
the user chose `mcli auth login --insecure-storage`. A key file that others can read or
write is used with a warning that names the `chmod` (as ssh does for an open private key).

keyring is imported only when the environment has no key (importing it costs ~65 ms), and
every keyring call runs in a daemon thread cut off after KEYRING_TIMEOUT seconds, because a
locked or absent Secret Service can hang forever and keyring has no timeout of its own.
A daemon thread left stuck in the backend never keeps the process from exiting.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from mistral_cli.config.paths import credentials_file, private_dir
from mistral_cli.errors import AuthError, ConfigError

SERVICE = "mcli"
KEYRING_TIMEOUT = 3.0
ENV_KEY = "MISTRAL_API_KEY"
# Environment variables whose values mcli sends as credentials: masked in all it prints.
SECRET_ENV_VARS = (ENV_KEY, "WANDB_API_KEY", "GITHUB_TOKEN")
NO_BACKEND = "no usable OS keyring backend"


class KeyringUnavailable(Exception):
    """No usable keyring backend, or it did not answer in time."""


class Credential(NamedTuple):
    """A key, a human description of where it came from, that place's kind, and a warning
    about that place to show when the key is used."""

    key: str
    source: str
    kind: str = "env"  # env | keyring | file
    warning: str | None = None


class KeyLookup(NamedTuple):
    """The outcome of a lookup: the credential found (or None) and any keyring problem met."""

    credential: Credential | None
    keyring_problem: str | None = None


def mask(key: str) -> str:
    """Show only the last 4 characters of KEY."""
    return "****" + key[-4:] if len(key) > 8 else "****"


def clean_key(text: str, source: str) -> str:
    """TEXT without surrounding whitespace; "" when nothing is left. A key that still holds
    anything but printable ASCII (a space, a control or non-ASCII character) is refused with
    an AuthError naming SOURCE and showing none of the key."""
    key = text.strip()
    bad = next((char for char in key if not 33 <= ord(char) <= 126), None)
    if bad is not None:
        what = ("a non-ASCII character" if ord(bad) > 126 else
                "a space" if bad == " " else "a control character")
        raise AuthError(f"the API key from {source} holds {what} (length {len(key)}); it was not used",
                        hint="an API key is one word of ASCII letters and digits: copy it again, "
                             "on one line")
    return key


def _call_with_timeout(func: Callable[[], Any], what: str) -> Any:
    """Run FUNC in a daemon thread; give up after KEYRING_TIMEOUT seconds."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"keyring-{what}", daemon=True)
    worker.start()
    worker.join(KEYRING_TIMEOUT)
    if worker.is_alive():
        raise KeyringUnavailable(f"the OS keyring did not answer within {KEYRING_TIMEOUT:g} s ({what})")
    if "error" in box:
        raise _as_unavailable(box["error"])
    return box.get("value")


def _as_unavailable(exc: BaseException) -> BaseException:
    import keyring.errors

    if isinstance(exc, (keyring.errors.NoKeyringError, keyring.errors.InitError)):
        return KeyringUnavailable(NO_BACKEND)
    if isinstance(exc, keyring.errors.KeyringLocked):
        return KeyringUnavailable("the OS keyring is locked")
    if isinstance(exc, keyring.errors.KeyringError):
        return KeyringUnavailable(f"the OS keyring failed: {type(exc).__name__}: {exc}")
    return exc


def _usable_keyring() -> Any:
    import keyring
    import keyring.backends.fail

    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        raise KeyringUnavailable(NO_BACKEND)
    return backend


def keyring_get(profile: str) -> str | None:
    """The keyring's key for PROFILE, or None; KeyringUnavailable when there is no keyring."""
    return _call_with_timeout(lambda: _usable_keyring().get_password(SERVICE, profile), "get")


def keyring_set(profile: str, key: str) -> None:
    """Store KEY for PROFILE in the OS keyring."""
    _call_with_timeout(lambda: _usable_keyring().set_password(SERVICE, profile, key), "set")


def keyring_delete(profile: str) -> bool:
    """Remove PROFILE's key from the keyring; return whether one was there."""

    def delete() -> bool:
        import keyring.errors

        backend = _usable_keyring()
        try:
            backend.delete_password(SERVICE, profile)
        except keyring.errors.PasswordDeleteError:
            return False
        return True

    return _call_with_timeout(delete, "delete")


CREDENTIALS_HINT = "remove it and log in again with `mcli auth login`"


def _read_file_keys(environ: Mapping[str, str]) -> dict[str, str]:
    import tomllib

    from mistral_cli.config.toml_file import Unparsable, parse, read_small

    path = credentials_file(environ)
    try:
        raw = read_small(path)
        keys = {} if raw is None else parse(raw)
    except OSError as exc:
        raise ConfigError(f"cannot read credentials file {path}: {exc.strerror}") from None
    except Unparsable as exc:  # says why, never quoting the file
        raise ConfigError(f"credentials file {path} does not parse: {exc}", hint=CREDENTIALS_HINT) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        # The message of a TOML error can quote the file's text, which holds keys: not shown.
        raise ConfigError(f"credentials file {path} does not parse", hint=CREDENTIALS_HINT) from None
    return {name: value for name, value in keys.items() if isinstance(value, str)}


def _write_file_keys(path: Path, keys: dict[str, str]) -> None:
    """Write KEYS to PATH atomically, mode 0600 from the start."""
    import tomli_w

    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(tomli_w.dumps(keys))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def open_file_warning(path: Path) -> str | None:
    """A warning naming `chmod 600 PATH` when the key file PATH is readable or writable by
    its group or others; None when it is private (or on Windows, whose modes say nothing)."""
    if os.name == "nt":
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (f"the key file {path} is open to other users (mode {mode:04o}): anyone who "
            f"can read it can use the API key; make it private with `chmod 600 {path}`")


def file_get(profile: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """The key stored with --insecure-storage for PROFILE, or None."""
    value = _read_file_keys(environ).get(profile)
    return str(value) if value else None


def file_set(profile: str, key: str, environ: Mapping[str, str] = os.environ) -> str:
    """Store KEY for PROFILE in the 0600 credentials file; return its path."""
    path = credentials_file(environ)
    keys = _read_file_keys(environ)
    keys[profile] = key
    _write_file_keys(path, keys)
    return str(path)


def file_delete(profile: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Remove PROFILE's key from the credentials file; return whether one was there."""
    keys = _read_file_keys(environ)
    if profile not in keys:
        return False
    del keys[profile]
    path = credentials_file(environ)
    if keys:
        _write_file_keys(path, keys)
    else:
        path.unlink(missing_ok=True)
    return True


def find_key(profile: str, environ: Mapping[str, str] = os.environ) -> KeyLookup:
    """Look for the key in the documented order; say what was found and any keyring problem."""
    source = f"environment variable {ENV_KEY}"
    value = clean_key(environ.get(ENV_KEY) or "", source)
    if value:
        return KeyLookup(Credential(value, source, "env"))
    keyring_problem = None
    try:
        source = f"OS keyring (service '{SERVICE}', profile '{profile}')"
        value = clean_key(keyring_get(profile) or "", source)
        if value:
            return KeyLookup(Credential(value, source, "keyring"))
    except KeyringUnavailable as exc:
        keyring_problem = str(exc)
    path = credentials_file(environ)
    source = f"file {path}"
    value = clean_key(file_get(profile, environ) or "", source)
    if value:
        return KeyLookup(Credential(value, source, "file", open_file_warning(path)), keyring_problem)
    return KeyLookup(None, keyring_problem)


def resolve_key(profile: str, environ: Mapping[str, str] = os.environ) -> Credential:
    """Find the key: MISTRAL_API_KEY, then the keyring, then the insecure file."""
    found = find_key(profile, environ)
    if found.credential is None:
        raise missing_key_error(profile, found.keyring_problem)
    return found.credential


def missing_key_error(profile: str, keyring_problem: str | None) -> AuthError:
    """The error for a profile without a key, with what to do about it."""
    details = [f"{keyring_problem}."] if keyring_problem else []
    hint = (f"run `mcli auth login` (profile '{profile}'), or set {ENV_KEY}"
            + (", or use `mcli auth login --insecure-storage` to keep it in a 0600 file"
               if keyring_problem else ""))
    return AuthError(f"no API key for profile '{profile}'", hint=hint, details=details)
