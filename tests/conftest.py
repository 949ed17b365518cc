"""Shared fixtures for the mcli test suite.

* ``isolate`` (autouse): fresh config/data dirs, no MISTRAL_*/MCLI_* env
  leaking in, the cross-process ``FileKeyring`` as keyring backend.
* ``api``: a running ``FakeAPI``; MISTRAL_SERVER_URL / MISTRAL_API_KEY point
  at it; teardown fails on spec violations or unused stubs.
* ``cli``: run ``mistral_cli.app.main`` in-process -> ``Result``.
* ``run_mcli``: run ``python -m mistral_cli`` as a subprocess -> ``Result``.
* ``keyring_backend``: switch keyring backend (in-process and for subprocesses).
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
KEYRING_MODULE = "tests.fakeapi.keyring_backend"
TEST_API_KEY = "test-key-1234"

# Subprocesses (run_mcli, keyring backends) must be able to import `tests.fakeapi`.
_pp = os.environ.get("PYTHONPATH", "")
if str(REPO_ROOT) not in _pp.split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), _pp) if p)
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from hypothesis import settings as hypothesis_settings  # noqa: E402

from tests.fakeapi import FakeAPI  # noqa: E402
from tests.fakeapi import keyring_backend as kb  # noqa: E402

# In CI, property tests draw the same examples every run, so a red run can be replayed
# exactly (locally they stay random, to keep finding new cases).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def _one_ca_store_a_worker() -> None:
    """Make httpx.create_ssl_context() with its defaults load each CA store once a worker (one
    context for each SSL_CERT_FILE and SSL_CERT_DIR, the variables it reads): every in-process
    run builds a client, a store costs 17 to 70 ms a load, and the fake server speaks plain
    HTTP, so no test uses the context. Other arguments load as before."""
    import httpx

    create, loaded = httpx.create_ssl_context, {}

    def create_ssl_context(verify=True, cert=None, trust_env=True):
        if verify is not True or cert is not None or not trust_env:
            return create(verify, cert, trust_env)
        where = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        if where not in loaded:
            loaded[where] = create()
        return loaded[where]

    httpx.create_ssl_context = create_ssl_context


_one_ca_store_a_worker()


def _compile_the_package_once() -> None:
    """Write the package's bytecode before the workers start: an editable install has none, and
    with PYTHONDONTWRITEBYTECODE set (as on CI machines) every `mcli` a test starts would compile
    each module it imports again, as no installed mcli does (pip compiles what it installs)."""
    import compileall

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "mistral_cli"), quiet=1)


_compile_the_package_once()

_DROP_ENV = ("MISTRAL_API_KEY", "MISTRAL_SERVER_URL", "MCLI_PROFILE", "NO_COLOR",
             "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
             "all_proxy", "PYTHON_KEYRING_BACKEND")


@dataclass
class Result:
    """Outcome of a CLI run."""

    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = b""
    stderr_bytes: bytes = b""

    @property
    def returncode(self) -> int:
        return self.exit_code

    def __repr__(self) -> str:
        return (f"Result(exit_code={self.exit_code}, stdout={self.stdout[-2000:]!r}, "
                f"stderr={self.stderr[-2000:]!r})")


def _set_keyring(monkeypatch, name: str) -> None:
    import keyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{KEYRING_MODULE}.{name}")
    keyring.set_keyring(getattr(kb, name)())


@pytest.fixture(autouse=True)
def isolate(tmp_path, monkeypatch):
    """Hermetic environment for every test."""
    for name in list(os.environ):
        if name in _DROP_ENV or name.startswith(("MISTRAL_", "MCLI_")):
            monkeypatch.delenv(name, raising=False)
    config_dir = tmp_path / "mcli-config"
    data_dir = tmp_path / "mcli-data"
    config_dir.mkdir(mode=0o700)  # private whatever the umask: mcli refuses a folder others can write
    data_dir.mkdir(mode=0o700)
    monkeypatch.setenv("MCLI_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("MCLI_DATA_DIR", str(data_dir))
    for xdg in ("CONFIG", "DATA", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{xdg}_HOME", str(tmp_path / "xdg" / xdg.lower()))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv(kb.FILE_ENV, str(tmp_path / "keyring.json"))
    kb.MemoryKeyring.reset()
    _set_keyring(monkeypatch, "FileKeyring")
    yield
    import keyring

    keyring.set_keyring(kb.FileKeyring())  # never leave a Hanging/No keyring behind


@pytest.fixture
def keyring_backend(monkeypatch):
    """``keyring_backend("NoKeyring")`` switches the backend for in-process
    and subprocess runs (FileKeyring, MemoryKeyring, NoKeyring,
    HangingKeyring, LockedKeyring). ``hang_seconds`` tunes HangingKeyring."""

    def use(name: str, hang_seconds: float | None = None) -> None:
        if hang_seconds is not None:
            monkeypatch.setenv(kb.HANG_ENV, str(hang_seconds))
        _set_keyring(monkeypatch, name)

    return use


@pytest.fixture
def api(monkeypatch):
    """A running FakeAPI the CLI is pointed at (MISTRAL_SERVER_URL,
    MISTRAL_API_KEY=test-key-1234). Teardown fails the test on spec
    violations or unused non-optional stubs (``api.ignore_violations()``
    opts out of the former)."""
    server = FakeAPI().start()
    monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
    monkeypatch.setenv("MISTRAL_API_KEY", TEST_API_KEY)
    try:
        yield server
    finally:
        server.stop()
    problems = server.problems()
    if problems:
        pytest.fail("FakeAPI problems:\n  " + "\n  ".join(problems), pytrace=False)


def _stdin_bytes(input: str | bytes | None) -> bytes:
    if input is None:
        return b""
    return input.encode("utf-8") if isinstance(input, str) else input


@pytest.fixture
def cli():
    """``cli(*args, input=None, tty=False) -> Result``: run the CLI in-process."""
    from mistral_cli.app import main
    from mistral_cli.env import Env

    def run(*args: str, input: str | bytes | None = None, tty: bool = False) -> Result:
        stdin = io.TextIOWrapper(io.BytesIO(_stdin_bytes(input)), encoding="utf-8")
        out_buf, err_buf = io.BytesIO(), io.BytesIO()
        stdout = io.TextIOWrapper(out_buf, encoding="utf-8", write_through=True)
        stderr = io.TextIOWrapper(err_buf, encoding="utf-8", write_through=True)
        env = Env(stdin, stdout, stderr, stdin_isatty=(input is None and tty),
                  stdout_isatty=tty, stderr_isatty=tty, environ=dict(os.environ))
        code = main([str(a) for a in args], env)
        stdout.flush()
        stderr.flush()
        out, err = out_buf.getvalue(), err_buf.getvalue()
        return Result(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                      out, err)

    return run


@pytest.fixture
def run_mcli(tmp_path):
    """``run_mcli(*args, input=None, timeout=60) -> Result``: run
    ``python -m mistral_cli`` in a subprocess with the current os.environ."""

    def run(*args: str, input: str | bytes | None = None, timeout: float = 60) -> Result:
        proc = subprocess.run([sys.executable, "-m", "mistral_cli", *map(str, args)],
                              input=_stdin_bytes(input), capture_output=True,
                              env=dict(os.environ), cwd=tmp_path, timeout=timeout)
        return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                      proc.stderr.decode("utf-8", "replace"), proc.stdout, proc.stderr)

    return run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (MCLI_REQUIRE_SYSTEM_TESTS=1) a test skipped for a missing system tool fails."""
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and os.environ.get("MCLI_REQUIRE_SYSTEM_TESTS")):
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if "root reads anything" in reason:
        return
    report.outcome = "failed"
    report.longrepr = f"skipped in CI, where every system test must run: {reason}"
