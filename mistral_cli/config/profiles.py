"""Profiles in the TOML config file: the valid keys, reading, validating and writing them.

The file looks like:

    default_profile = "work"

    [profiles.work]
    server_url = "https://api.mistral.ai"
    timeout = 60

    [profiles.work.model]
    chat = "mistral-large-latest"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mistral_cli.config.paths import config_file
from mistral_cli.errors import ConfigError

DEFAULT_PROFILE = "default"
DEFAULT_SERVER_URL = "https://api.mistral.ai"


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueError("must be true or false")


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return text.rstrip("/")


def _name(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


@dataclass(frozen=True)
class Key:
    """One config key: how to parse a value given on the command line, and what it is for."""

    parse: Callable[[str], Any]
    help: str


KEYS: dict[str, Key] = {
    "server_url": Key(_url, "API base URL (default https://api.mistral.ai)"),
    "model.chat": Key(_name, "default model for `mcli chat` (mistral-small-latest)"),
    "model.fim": Key(_name, "default model for `mcli fim` (codestral-latest)"),
    "model.embeddings": Key(_name, "default model for `mcli embeddings` (mistral-embed)"),
    "model.ocr": Key(_name, "default model for `mcli ocr` (mistral-ocr-latest)"),
    "model.moderation": Key(_name, "default model for `mcli classifiers` (mistral-moderation-latest)"),
    "timeout": Key(_positive_float, "read timeout in seconds (120)"),
    "max_retries": Key(_non_negative_int, "retries on 429/5xx/connection errors (3)"),
    "history": Key(_boolean, "save conversations and usage locally (true)"),
}


def valid_keys_text() -> str:
    """The list of valid keys, one per line, for error messages and help."""
    return "\n".join(f"  {name:<18} {key.help}" for name, key in KEYS.items())


def check_key(name: str) -> Key:
    """Return the Key for NAME, or refuse it with the list of valid keys."""
    if name not in KEYS:
        raise ConfigError(f"unknown config key '{name}'", details=["valid keys:", valid_keys_text()])
    return KEYS[name]


def parse_value(name: str, text: str) -> Any:
    """Parse TEXT for key NAME, refusing bad values with the reason."""
    key = check_key(name)
    try:
        return key.parse(text)
    except ValueError as exc:
        raise ConfigError(f"bad value for '{name}': {text!r} ({exc})") from None


class ConfigFile:
    """The parsed config file: profiles and the default profile name."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.data = data

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ) -> "ConfigFile":
        """Read the config file; a missing file is an empty config."""
        path = config_file(environ)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path, {})
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        try:
            return cls(path, tomllib.loads(raw.decode("utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} does not parse: {exc}",
                              hint="fix or remove the file; `mcli config path` prints where it is") from None

    @property
    def default_profile(self) -> str:
        """The profile used when neither --profile nor MCLI_PROFILE names one."""
        return str(self.data.get("default_profile") or DEFAULT_PROFILE)

    def profile_names(self) -> list[str]:
        """Every profile the file defines."""
        return sorted(self.data.get("profiles", {}))

    def profile(self, name: str) -> dict[str, Any]:
        """The flattened keys of profile NAME (`model.chat` and so on)."""
        return _flatten(self.data.get("profiles", {}).get(name, {}))

    def set(self, profile: str, name: str, value: Any) -> None:
        """Set key NAME in PROFILE (creating the profile)."""
        table = self.data.setdefault("profiles", {}).setdefault(profile, {})
        *parents, leaf = name.split(".")
        for part in parents:
            table = table.setdefault(part, {})
        table[leaf] = value

    def unset(self, profile: str, name: str) -> bool:
        """Remove key NAME from PROFILE; return whether it was set."""
        table = self.data.get("profiles", {}).get(profile, {})
        *parents, leaf = name.split(".")
        for part in parents:
            table = table.get(part, {})
        return table.pop(leaf, None) is not None

    def save(self) -> None:
        """Write the file atomically."""
        import tomli_w

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".toml.tmp")
        tmp.write_text(tomli_w.dumps(self.data), encoding="utf-8")
        os.replace(tmp, self.path)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat
