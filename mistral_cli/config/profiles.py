"""Profiles in the TOML config file: the valid keys, reading, validating and writing them.

The file looks like:

    default_profile = "work"

    [profiles.work]
    server_url = "https://api.mistral.ai"
    timeout = 60

    [profiles.work.model]
    chat = "mistral-large-latest"

A file that does not parse is reported with its path, line and column; a value of the wrong
type is reported with the profile and key, when that profile is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TYPE_CHECKING

from mistral_cli.config.paths import check_folder, config_file
from mistral_cli.config.private import write_private
from mistral_cli.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import tomllib

DEFAULT_PROFILE = "default"
DEFAULT_SERVER_URL = "https://api.mistral.ai"
SANDBOX = "sandbox"  # the server_url of the in-process local API (mistral_cli/sandbox/): no key, no network
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
EDIT_HINT = "fix or remove the file; `mcli config path` prints where it is"
TOOLS_PREFIX = "tools."  # `tools.NAME = "COMMAND"`: the commands `--tool-exec NAME` may run


MAX_TIMEOUT = 86_400.0  # a day of silence: beyond it a socket timeout overflows long before
MAX_RETRIES = 100


def _timeout(text: str) -> float:
    reason = f"must be a number of seconds greater than 0 and at most {MAX_TIMEOUT:g}"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(reason) from None
    if not 0 < value <= MAX_TIMEOUT:  # also refuses nan and infinities
        raise ValueError(reason)
    return value


def _retries(text: str) -> int:
    reason = f"must be a whole number, 0 or more and at most {MAX_RETRIES}"
    try:
        value = int(text)
    except ValueError:
        raise ValueError(reason) from None
    if not 0 <= value <= MAX_RETRIES:
        raise ValueError(reason)
    return value


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueError("must be true or false (also yes/no, on/off, 1/0)")


def _url(text: str) -> str:
    from urllib.parse import urlsplit

    reason = "must be an http:// or https:// URL such as https://api.mistral.ai, or `sandbox`"
    if text.strip() == SANDBOX:
        return SANDBOX
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", text.strip()):
        raise ValueError(reason)
    try:
        urlsplit(text.strip()).port  # noqa: B018 - raises ValueError on a bad host or port
    except ValueError:
        raise ValueError(reason) from None
    return text.strip().rstrip("/")


MAX_BUDGET = 2 ** 53  # numbers.NUMBER_CEILING: past it an amount is absurd


def _amount(text: str) -> float:
    reason = "must be an amount of money, 0 or more (in the price table's currency)"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(reason) from None
    if not 0 <= value <= MAX_BUDGET:  # also refuses nan and infinities
        raise ValueError(reason)
    return value


def _name(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


class Key(NamedTuple):
    """One config key: how to parse a value given on the command line, and what it is for."""

    parse: Callable[[str], Any]
    help: str
    default: Any = None
    types: tuple[type, ...] = (str,)  # the TOML types the file may hold for it


KEYS: dict[str, Key] = {
    "server_url": Key(_url, "API base URL (default https://api.mistral.ai)", DEFAULT_SERVER_URL),
    "model.chat": Key(_name, "default model for `mcli chat` (mistral-small-latest)", "mistral-small-latest"),
    "model.fim": Key(_name, "default model for `mcli fim` (codestral-latest)", "codestral-latest"),
    "model.embeddings": Key(_name, "default model for `mcli embeddings` (mistral-embed)", "mistral-embed"),
    "model.ocr": Key(_name, "default model for `mcli ocr` (mistral-ocr-latest)", "mistral-ocr-latest"),
    "model.moderation": Key(_name, "default model for `mcli classifiers` (mistral-moderation-latest)",
                            "mistral-moderation-latest"),
    "timeout": Key(_timeout, "read timeout in seconds (120)", 120.0, (int, float)),
    "max_retries": Key(_retries, "retries on 429/5xx/connection errors (3)", 3, (int,)),
    "history": Key(_boolean, "save conversations locally (true)", True, (bool,)),
    "ledger": Key(_boolean, "record what each billed answer used, counts only (true)", True, (bool,)),
    "budget.daily": Key(_amount, "refuse work that would pass this spend in a UTC day (none)",
                        None, (int, float)),
    "budget.monthly": Key(_amount, "refuse work that would pass this spend in a UTC month (none)",
                          None, (int, float)),
    "allow_http": Key(_boolean, "allow a plain http:// server_url that is not this machine (false)",
                      False, (bool,)),
}


def valid_keys_text() -> str:
    """The list of valid keys, one per line, for error messages and help."""
    return "\n".join(f"  {name:<18} {key.help}" for name, key in KEYS.items())


def check_key(name: str) -> Key:
    """Return the Key for NAME, or refuse it with the list of valid keys."""
    if name not in KEYS:
        import difflib

        close = difflib.get_close_matches(name, KEYS, n=1)
        raise ConfigError(f"unknown config key '{name}'", details=["valid keys:", *valid_keys_text().splitlines()],
                          hint=f"did you mean '{close[0]}'?" if close else None)
    return KEYS[name]


def parse_value(name: str, text: str) -> Any:
    """Parse TEXT for key NAME, refusing bad values with the reason."""
    key = check_key(name)
    try:
        return key.parse(text)
    except ValueError as exc:
        raise ConfigError(f"bad value for '{name}': {text!r}: {exc}",
                          details=[f"{name}: {key.help}"]) from None


def check_profile_name(name: str) -> str:
    """Refuse a profile name that is not letters, digits, '.', '_' or '-'."""
    if not PROFILE_NAME.fullmatch(name):
        raise ConfigError(f"invalid profile name {name!r}",
                          hint="use letters, digits, '.', '_' and '-' (up to 64), starting with a letter or digit")
    return name


def valid_profile_name(name: str) -> str:
    """NAME if it is a valid profile name, else the closest one that is (accents dropped, each
    run of other characters a '-', trimmed to a letter or digit at the start, 64 long at most)."""
    if PROFILE_NAME.fullmatch(name):
        return name
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_name).lstrip("_.-")[:64].rstrip("-")
    return cleaned if PROFILE_NAME.fullmatch(cleaned) else "work"


def check_file_value(name: str, value: Any) -> Any:
    """Check a value read from the file for key NAME; return it normalised, or raise ValueError."""
    key = KEYS[name]
    if isinstance(value, bool) and bool not in key.types or not isinstance(value, key.types):
        wanted = " or ".join({str: "a string", int: "an integer", float: "a number",
                              bool: "true or false"}[t] for t in key.types)
        raise ValueError(f"must be {wanted}, not {type(value).__name__} {value!r}")
    if isinstance(value, bool):
        return value
    return key.parse(str(value))


def toml_error_position(exc: "tomllib.TOMLDecodeError") -> str:
    """'line L, column C: reason' from a TOMLDecodeError's message."""
    text = str(exc)
    match = re.search(r"^(.*?)\s*\(at line (\d+), column (\d+)\)$", text)
    if match:
        return f"line {match.group(2)}, column {match.group(3)}: {match.group(1)}"
    match = re.search(r"^(.*?)\s*\(at end of document\)$", text)
    return f"at the end of the file: {match.group(1)}" if match else text


class ConfigFile:
    """The parsed config file: profiles and the default profile name."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.data = data

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ) -> "ConfigFile":
        """Read the config file; a missing file is an empty config."""
        from mistral_cli.config.toml_file import Unparsable, parse, read_small

        path = config_file(environ)
        check_folder(path.parent)  # a config others can write could send the key anywhere
        try:
            raw = read_small(path)
        except Unparsable as exc:
            raise ConfigError(f"config file {path} does not parse: {exc}", hint=EDIT_HINT) from None
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        if raw is None:
            return cls(path, {})
        import tomllib  # only when there is a file to read: start-up without one skips it

        try:
            data = parse(raw)
        except UnicodeDecodeError:
            raise ConfigError(f"config file {path} is not UTF-8 text", hint=EDIT_HINT) from None
        except Unparsable as exc:
            raise ConfigError(f"config file {path} does not parse: {exc}", hint=EDIT_HINT) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} does not parse: {toml_error_position(exc)}",
                              hint=EDIT_HINT) from None
        _check_shape(path, data)
        return cls(path, data)

    @property
    def default_profile(self) -> str:
        """The profile used when neither --profile nor MCLI_PROFILE names one."""
        return str(self.data.get("default_profile") or DEFAULT_PROFILE)

    def profile_names(self) -> list[str]:
        """Every profile the file defines."""
        return sorted(self.data.get("profiles", {}))

    def has_profile(self, name: str) -> bool:
        """Whether the file defines profile NAME."""
        return name in self.data.get("profiles", {})

    def raw_profile(self, name: str) -> dict[str, Any]:
        """The flattened keys of profile NAME as written, known or not, unchecked."""
        return _flatten(self.data.get("profiles", {}).get(name, {}))

    def profile(self, name: str) -> dict[str, Any]:
        """The flattened, checked known keys of profile NAME (`model.chat` and so on)."""
        checked: dict[str, Any] = {}
        for key, value in self.raw_profile(name).items():
            if key not in KEYS:
                continue
            try:
                checked[key] = check_file_value(key, value)
            except ValueError as exc:
                raise ConfigError(f"config file {self.path}: profile '{name}': bad value for '{key}': {exc}",
                                  hint=f"`mcli config set {key} VALUE --profile {name}` replaces it") from None
        return checked

    def unknown_keys(self, name: str) -> list[str]:
        """Keys in profile NAME that mcli does not know (and ignores)."""
        return [key for key in self.raw_profile(name) if key not in KEYS and not key.startswith(TOOLS_PREFIX)]

    def tool_commands(self, name: str) -> dict[str, str]:
        """Profile NAME's `[profiles.NAME.tools]` table: {tool name: command}, each a string."""
        table = self.data.get("profiles", {}).get(name, {}).get(TOOLS_PREFIX[:-1], {})
        if not isinstance(table, dict):
            raise ConfigError(f"config file {self.path}: profile '{name}': 'tools' must be a table "
                              '(tools.NAME = "COMMAND")', hint=EDIT_HINT)
        for tool, command in table.items():
            if not isinstance(command, str) or not command.strip():
                raise ConfigError(f"config file {self.path}: profile '{name}': tools.{tool} must be a "
                                  f"non-empty command string, not {command!r}", hint=EDIT_HINT)
        return dict(table)

    def add_profile(self, name: str) -> None:
        """Create an empty profile NAME if the file lacks it."""
        self.data.setdefault("profiles", {}).setdefault(name, {})

    def set_default_profile(self, name: str) -> None:
        """Make NAME the profile used when none is named."""
        self.data["default_profile"] = name

    def set(self, profile: str, name: str, value: Any) -> None:
        """Set key NAME in PROFILE (creating the profile)."""
        table = self.data.setdefault("profiles", {}).setdefault(profile, {})
        *parents, leaf = name.split(".")
        for part in parents:
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise ConfigError(f"config file {self.path}: profile '{profile}': '{part}' is a value, "
                                  "not a table", hint=EDIT_HINT)
        table[leaf] = value

    def unset(self, profile: str, name: str) -> bool:
        """Remove key NAME from PROFILE (and tables left empty); return whether it was set."""
        tables = [self.data.get("profiles", {}).get(profile, {})]
        *parents, leaf = name.split(".")
        for part in parents:
            child = tables[-1].get(part)
            if not isinstance(child, dict):
                return False
            tables.append(child)
        if leaf not in tables[-1]:
            return False
        del tables[-1][leaf]
        for parent, part in zip(reversed(tables[:-1]), reversed(parents)):
            if not parent[part]:
                del parent[part]
        return True

    def save(self) -> None:
        """Write the file atomically (the private writer: 0600, in a checked private folder)."""
        import tomli_w

        write_private(self.path, tomli_w.dumps(self.data))


def _check_shape(path: Path, data: dict[str, Any]) -> None:
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"config file {path}: 'profiles' must be a table ([profiles.NAME])", hint=EDIT_HINT)
    for name, table in profiles.items():
        if not isinstance(table, dict):
            raise ConfigError(f"config file {path}: 'profiles.{name}' must be a table", hint=EDIT_HINT)
    if not isinstance(data.get("default_profile", ""), str):
        raise ConfigError(f"config file {path}: 'default_profile' must be a string", hint=EDIT_HINT)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat
