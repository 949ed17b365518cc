"""Where mcli keeps its config (platformdirs user config dir) and state (user data dir),
how its private folders (0700) and files (0600) are made whatever the umask, and the one
way a process takes a file lock on its state (flock: the kernel drops it when the process
ends, SIGKILL included)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "mcli"


def config_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The config folder: $MCLI_CONFIG_DIR, else the platform's user config dir."""
    override = environ.get("MCLI_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The state folder (history, REPL history): $MCLI_DATA_DIR, else the user data dir."""
    override = environ.get("MCLI_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_file(environ: Mapping[str, str] = os.environ) -> Path:
    """The TOML file that holds the profiles."""
    return config_dir(environ) / "config.toml"


def credentials_file(environ: Mapping[str, str] = os.environ) -> Path:
    """The 0600 key file used only with `auth login --insecure-storage`."""
    return config_dir(environ) / "credentials.toml"


def private_dir(path: Path) -> Path:
    """Create folder PATH (and its parents) if needed and make PATH itself 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass  # not ours to change (a shared folder named by the user): leave it
    return path


def private_file(path: Path) -> Path:
    """Create file PATH empty if missing, in a private folder, and make it 0600."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    return path


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on the open file FD without waiting: False when another process
    holds it. Where flock does not exist (Windows) nothing is locked and this says True."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
