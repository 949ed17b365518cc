"""Where mcli keeps its config (platformdirs user config dir) and state (user data dir),
how its private folders (0700) and files (0600) are made whatever the umask, and the one
way a process takes a file lock on its state (flock: the kernel drops it when the process
ends, SIGKILL included).

A folder mcli keeps config or state in must be private, as ssh requires of ~/.ssh: one
owned by another user, or that its group or others can write (where they could plant a
link under a name mcli is about to write), is refused with a ConfigError (exit 2) naming
the folder and the `chmod`/`chown` that fixes it (`check_folder`). Only the folder itself
(and the folders between it and the config or data root) is checked, never its parents:
a data folder under a sticky, world-writable /tmp is fine, /tmp itself is not. Files are
written through config/private.py."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from mistral_cli.errors import ConfigError

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


def check_folder(path: Path) -> None:
    """Refuse (ConfigError) folder PATH if it belongs to another user or its group or others
    can write in it; a missing folder passes (it will be made private), as does any on Windows."""
    if os.name == "nt":  # pragma: no cover - modes and owners say nothing there
        return
    try:
        info = os.stat(path)
    except OSError:
        return  # missing or unreadable: the step that uses it reports what is wrong
    if not stat.S_ISDIR(info.st_mode):
        return
    if info.st_uid != os.geteuid():
        raise ConfigError(f"the folder {path} belongs to another user (uid {info.st_uid}); mcli keeps "
                          "its config and state only in a folder of yours",
                          hint=f"make it yours (`sudo chown {_user()} {path}`), or set MCLI_CONFIG_DIR "
                               "or MCLI_DATA_DIR to a folder of your own")
    if info.st_mode & 0o022:
        raise ConfigError(f"the folder {path} can be written by other users (mode "
                          f"{stat.S_IMODE(info.st_mode):04o}): they could plant links there that make "
                          "mcli overwrite or read other files",
                          hint=f"make it private with `chmod 700 {path}`")


def _user() -> str:
    """The name of the user this process runs as (its uid when it has no name)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):  # pragma: no cover - no passwd entry
        return str(os.geteuid())


def private_dir(path: Path, root: Path | None = None) -> Path:
    """Create folder PATH (and its parents) if needed, check it and every folder from ROOT
    down to it (check_folder), and make PATH itself 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for folder in _from_root(path, root):
        check_folder(folder)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass  # not ours to change: check_folder let it through, so others cannot write in it
    return path


def _from_root(path: Path, root: Path | None) -> list[Path]:
    """ROOT and each folder below it down to PATH; just PATH when it is not under ROOT."""
    if root is None or not path.is_relative_to(root):
        return [path]
    folders = [root]
    for part in path.relative_to(root).parts:
        folders.append(folders[-1] / part)
    return folders


def private_file(path: Path, root: Path | None = None) -> Path:
    """Create file PATH empty if missing, in a private folder, and make it 0600; a symlink
    under its name is never followed (OSError). An existing file is never opened here: closing
    any descriptor of a database file drops every POSIX lock this process holds on it, so
    another connection of this process (the ledger beside the history) would lose its locks
    and another process could write over its transaction."""
    private_dir(path.parent, root)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
            return path  # new: no connection of this process can be open on it
        except FileExistsError:  # another process made it meanwhile
            info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise OSError(errno.ELOOP, "a symbolic link stands under the name", str(path))
    if stat.S_IMODE(info.st_mode) != 0o600:
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
