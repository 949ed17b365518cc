"""API keys: where they are looked up, stored and removed.

Lookup order (`resolve_key`): MISTRAL_API_KEY, then the OS keyring entry of the active
profile (service `mcli`, username = profile name), then the 0600 file that exists only when
the user chose `mcli auth login --insecure-storage`.

keyring is imported only when the environment has no key (importing it costs ~65 ms), and
every keyring call runs in a daemon thread cut off after KEYRING_TIMEOUT seconds, because a
locked or absent Secret Service can hang forever and keyring has no timeout of its own.
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mistral_cli.config.paths import credentials_file
from mistral_cli.errors import AuthError, ConfigError

SERVICE = "mcli"
KEYRING_TIMEOUT = 3.0
ENV_KEY = "MISTRAL_API_KEY"


class KeyringUnavailable(Exception):
    """No usable keyring backend, or it did not answer in time."""


@dataclass(frozen=True)
class Credential:
    """A key and a human description of where it came from."""

    key: str
    source: str


def mask(key: str) -> str:
    """Show only the last 4 characters of KEY."""
    return "****" + key[-4:] if len(key) > 4 else "****"


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
        return KeyringUnavailable("no usable OS keyring backend")
    if isinstance(exc, keyring.errors.KeyringError):
        return KeyringUnavailable(f"the OS keyring failed: {exc}")
    return exc


def _backend_usable() -> bool:
    import keyring
    import keyring.backends.fail

    backend = keyring.get_keyring()
    return not isinstance(backend, keyring.backends.fail.Keyring)


def keyring_get(profile: str) -> str | None:
    """The keyring's key for PROFILE, or None; KeyringUnavailable when there is no keyring."""

    def get() -> str | None:
        import keyring

        if not _backend_usable():
            raise KeyringUnavailable("no usable OS keyring backend")
        return keyring.get_password(SERVICE, profile)

    return _call_with_timeout(get, "get")


def keyring_set(profile: str, key: str) -> None:
    """Store KEY for PROFILE in the OS keyring."""

    def store() -> None:
        import keyring

        if not _backend_usable():
            raise KeyringUnavailable("no usable OS keyring backend")
        keyring.set_password(SERVICE, profile, key)

    _call_with_timeout(store, "set")


def keyring_delete(profile: str) -> bool:
    """Remove PROFILE's key from the keyring; return whether one was there."""

    def delete() -> bool:
        import keyring
        import keyring.errors

        if not _backend_usable():
            raise KeyringUnavailable("no usable OS keyring backend")
        try:
            keyring.delete_password(SERVICE, profile)
        except keyring.errors.PasswordDeleteError:
            return False
        return True

    return _call_with_timeout(delete, "delete")


def _read_file_keys(environ: Mapping[str, str]) -> dict[str, str]:
    path = credentials_file(environ)
    try:
        return dict(tomllib.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"credentials file {path} does not parse: {exc}") from None


def file_get(profile: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """The key stored with --insecure-storage for PROFILE, or None."""
    value = _read_file_keys(environ).get(profile)
    return str(value) if value else None


def file_set(profile: str, key: str, environ: Mapping[str, str] = os.environ) -> str:
    """Store KEY for PROFILE in the 0600 credentials file; return its path."""
    import tomli_w

    path = credentials_file(environ)
    keys = _read_file_keys(environ)
    keys[profile] = key
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(tomli_w.dumps(keys))
    os.chmod(path, 0o600)
    return str(path)


def file_delete(profile: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Remove PROFILE's key from the credentials file; return whether one was there."""
    keys = _read_file_keys(environ)
    if profile not in keys:
        return False
    del keys[profile]
    if keys:
        import tomli_w

        credentials_file(environ).write_text(tomli_w.dumps(keys), encoding="utf-8")
    else:
        credentials_file(environ).unlink()
    return True


def resolve_key(profile: str, environ: Mapping[str, str] = os.environ) -> Credential:
    """Find the key: MISTRAL_API_KEY, then the keyring, then the insecure file."""
    value = environ.get(ENV_KEY)
    if value:
        return Credential(value, f"environment variable {ENV_KEY}")
    keyring_problem = None
    try:
        value = keyring_get(profile)
        if value:
            return Credential(value, f"OS keyring (service '{SERVICE}', profile '{profile}')")
    except KeyringUnavailable as exc:
        keyring_problem = str(exc)
    value = file_get(profile, environ)
    if value:
        return Credential(value, f"file {credentials_file(environ)}")
    raise _missing_key(profile, keyring_problem)


def _missing_key(profile: str, keyring_problem: str | None) -> AuthError:
    details = [f"{keyring_problem}."] if keyring_problem else []
    hint = (f"run `mcli auth login` (profile '{profile}'), or set {ENV_KEY}"
            + (", or use `mcli auth login --insecure-storage` to keep it in a 0600 file"
               if keyring_problem else ""))
    return AuthError(f"no API key for profile '{profile}'", hint=hint, details=details)
