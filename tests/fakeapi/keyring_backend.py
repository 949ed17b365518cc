"""Keyring backends for tests (select with PYTHON_KEYRING_BACKEND=
``tests.fakeapi.keyring_backend.<Class>``).

* ``FileKeyring``   - JSON file at ``$MCLI_TEST_KEYRING_FILE``; works across
                      processes (the default in tests, set by conftest).
* ``MemoryKeyring`` - process-local dict (``MemoryKeyring.reset()`` clears it).
* ``NoKeyring``     - raises ``NoKeyringError`` on every call, like keyring's
                      ``fail.Keyring``.
* ``HangingKeyring``- sleeps ``$MCLI_TEST_KEYRING_HANG_SECONDS`` (default 30 s)
                      on every call, then behaves like an empty keyring.
* ``LockedKeyring`` - raises ``KeyringLocked`` on every call.

Priorities are kept below real backends' so importing this module never
changes keyring's automatic choice in a non-test process.
"""
from __future__ import annotations

import json
import os
import tempfile
import time

from keyring.backend import KeyringBackend
from keyring.errors import (KeyringError, KeyringLocked, NoKeyringError,
                            PasswordDeleteError)

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None

FILE_ENV = "MCLI_TEST_KEYRING_FILE"
HANG_ENV = "MCLI_TEST_KEYRING_HANG_SECONDS"


class MemoryKeyring(KeyringBackend):
    """In-memory keyring shared by all instances in one process."""

    priority = 0.2
    _store: dict[tuple[str, str], str] = {}

    @classmethod
    def reset(cls) -> None:
        cls._store.clear()

    def get_password(self, service, username):
        return self._store.get((service, username))

    def set_password(self, service, username, password):
        self._store[(service, username)] = password

    def delete_password(self, service, username):
        if self._store.pop((service, username), None) is None:
            raise PasswordDeleteError("Password not found")


class FileKeyring(KeyringBackend):
    """Keyring stored as JSON ``{"service\\0user": password}`` in the file
    named by ``$MCLI_TEST_KEYRING_FILE`` (flock-protected, atomic writes)."""

    priority = 0.1

    @staticmethod
    def path() -> str:
        path = os.environ.get(FILE_ENV)
        if not path:
            raise KeyringError(f"FileKeyring: ${FILE_ENV} is not set")
        return path

    @classmethod
    def read_all(cls) -> dict[str, str]:
        """The whole store (for test assertions)."""
        try:
            with open(cls.path(), encoding="utf-8") as fh:
                return json.load(fh) or {}
        except (FileNotFoundError, ValueError):
            return {}

    @staticmethod
    def key(service: str, username: str) -> str:
        return f"{service}\0{username}"

    def _update(self, fn):
        path = self.path()
        lock_path = path + ".lock"
        with open(lock_path, "a") as lock:
            if fcntl:
                fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.read_all()
            result = fn(data)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, path)
        return result

    def get_password(self, service, username):
        return self.read_all().get(self.key(service, username))

    def set_password(self, service, username, password):
        def put(data):
            data[self.key(service, username)] = password
        self._update(put)

    def delete_password(self, service, username):
        def drop(data):
            return data.pop(self.key(service, username), None)
        if self._update(drop) is None:
            raise PasswordDeleteError("Password not found")


class NoKeyring(KeyringBackend):
    """Raises NoKeyringError on every call (like keyring.backends.fail)."""

    priority = 0

    def get_password(self, service, username):
        raise NoKeyringError(
            "No recommended backend was available. Install a recommended 3rd "
            "party backend package; or, install the keyrings.alt package if "
            "you want to use the non-recommended backends. See "
            "https://pypi.org/project/keyring for details.")

    def set_password(self, service, username, password):
        self.get_password(service, username)

    def delete_password(self, service, username):
        self.get_password(service, username)


class HangingKeyring(KeyringBackend):
    """Sleeps (default 30 s) on every call, simulating a stuck keyring daemon."""

    priority = -1

    @staticmethod
    def _hang() -> None:
        time.sleep(float(os.environ.get(HANG_ENV, "30")))

    def get_password(self, service, username):
        self._hang()
        return None

    def set_password(self, service, username, password):
        self._hang()

    def delete_password(self, service, username):
        self._hang()
        raise PasswordDeleteError("Password not found")


class LockedKeyring(KeyringBackend):
    """Raises KeyringLocked on every call."""

    priority = -1

    def get_password(self, service, username):
        raise KeyringLocked("Keyring is locked")

    def set_password(self, service, username, password):
        raise KeyringLocked("Keyring is locked")

    def delete_password(self, service, username):
        raise KeyringLocked("Keyring is locked")
