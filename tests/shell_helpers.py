"""Helpers for the shell tests: a real install into a temporary prefix, and real interactive
shells (bash, zsh, fish) driven through a pseudo-terminal.

`install(prefix)` copies the package's sources to a scratch folder and runs `pip install
--prefix` there, exactly as a user's pip would, so the man pages and completion scripts land
where pyproject.toml's data files put them. `install_once` does it once a test run, however
many xdist workers ask (the first one installs, under a lock, the others reuse its prefix).

`complete_line(shell, prefix, line)` starts the shell interactively on a pty with only the
installed completion script loaded, defines a shell function `mcli` that prints its
arguments (the completion itself runs the installed `mcli` program: the scripts call it with
`command`, which skips functions), types LINE, presses Tab, then Enter, and returns the
arguments the function got: the line as Tab completed it. `complete_lines` does the same for
several lines, one after another, in one session.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "mistral_cli", "man", "completions")
MARKER = "RAN="
DEADLINE = 60.0  # generous: the machine may be busy; this bounds a hang, it measures nothing


def install(prefix: Path, scratch: Path) -> subprocess.CompletedProcess:
    """pip install the package's current sources into PREFIX (building in SCRATCH)."""
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, scratch / name)
    return subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--disable-pip-version-check", "--ignore-installed", "--prefix", str(prefix), str(scratch)],
                          capture_output=True, text=True, timeout=600)


def install_once(base: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """The prefix of one `install` of this test run and how it went: BASE is the run's
    temporary folder (every xdist worker's parent: the first worker installs, the others wait
    on the lock and reuse it)."""
    root = base / "install"
    root.mkdir(exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        report = root / "done.json"
        if not report.exists():
            (root / "scratch").mkdir()
            done = install(root / "prefix", root / "scratch")
            report.write_text(json.dumps([done.args, done.returncode, done.stdout, done.stderr]))
        args, code, out, err = json.loads(report.read_text())
    return root / "prefix", subprocess.CompletedProcess(args, code, out, err)


def site_packages(prefix: Path) -> Path:
    """The site-packages folder pip --prefix fills under PREFIX."""
    return Path(sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)}))


def installed_env(prefix: Path, home: Path) -> dict[str, str]:
    """os.environ with the install's bin first on PATH, its packages importable, a scratch HOME."""
    env = dict(os.environ)
    env.update(PATH=f"{prefix / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               PYTHONPATH=str(site_packages(prefix)), HOME=str(home), TERM="xterm", PS1="$ ",
               XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    return env


def shell_setup(shell: str, prefix: Path) -> tuple[list[str], list[str]]:
    """The argv of SHELL, interactive with no user config, and the lines that load the installed script."""
    share = prefix / "share"
    if shell == "bash":
        return (["bash", "--norc", "--noprofile", "-i"],
                [f"source {share}/bash-completion/completions/mcli",
                 f"mcli() {{ printf '{MARKER}%s\\n' \"$*\"; }}"])
    if shell == "zsh":
        return (["zsh", "-f", "-i"],
                [f"fpath=({share}/zsh/site-functions $fpath)", "autoload -Uz compinit && compinit -u -D",
                 f'mcli() {{ print -r -- "{MARKER}$*" }}'])
    return (["fish", "--no-config", "-i"],
            [f"set -g fish_complete_path {share}/fish/vendor_completions.d",
             f"function mcli; echo {MARKER}(string join ' ' -- $argv); end"])


def complete_line(shell: str, prefix: Path, line: str, env: dict[str, str]) -> tuple[str, str]:
    """LINE as SHELL completes it on one Tab (what `mcli` then ran with), and the screen text."""
    return complete_lines(shell, prefix, [line], env)[0]


def complete_lines(shell: str, prefix: Path, lines: list[str], env: dict[str, str]) -> list[tuple[str, str]]:
    """Each of LINES as one SHELL session completes it on one Tab, in turn, with its screen text."""
    argv, setup = shell_setup(shell, prefix)
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes the shell
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))  # wide: no line wraps
    ran = re.compile(MARKER.encode() + rb"([^\r\n\x1b]*)\r?\n")
    try:
        for text in setup:
            os.write(fd, (text + "\n").encode())
        os.write(fd, b"echo READY''NOW\n")
        _read_until(fd, re.compile(rb"READYNOW"), b"")
        results = []
        for line in lines:
            os.write(fd, (line + "\t\n").encode())
            screen = _read_until(fd, ran, b"")
            results.append((ran.search(screen).group(1).decode(), screen.decode("utf-8", "replace")))
        return results
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


def _read_until(fd: int, pattern: re.Pattern, out: bytes) -> bytes:
    """Read FD until PATTERN matches what was read (raise after DEADLINE seconds)."""
    end = time.monotonic() + DEADLINE
    while not pattern.search(out):
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the shell never showed {pattern.pattern!r}; it showed:\n"
                               + out.decode("utf-8", "replace")[-2000:])
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise EOFError(out.decode("utf-8", "replace")[-2000:])
            out += chunk
    return out
