"""Effective settings: each key's value for a profile and where it comes from.

The one place that knows the lookup order (`Env`'s server_url, timeout, max_retries and
history_enabled read it from here): a global option (--server-url, --timeout,
--max-retries), then MISTRAL_SERVER_URL (server_url only), then the profile in the config
file, then mcli's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, TYPE_CHECKING

from mistral_cli.config.global_options import GLOBALS
from mistral_cli.config.profiles import KEYS, ConfigFile
from mistral_cli.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.config.global_options import GlobalOptions

# The global options that set a config key: {key: (option name, GlobalOptions field)}.
OPTION_OF = {option.attr: (option.names[0], option.attr) for option in GLOBALS if option.attr in KEYS}
ENV_OF = {"server_url": "MISTRAL_SERVER_URL"}


class Setting(NamedTuple):
    """One key's effective value in one profile and its source."""

    profile: str
    key: str
    value: Any
    source: str  # "option --timeout", "env MISTRAL_SERVER_URL", "profile", "default"

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `config list` and `config get`."""
        return {"profile": self.profile, "key": self.key, "value": self.value, "source": self.source}


def effective(key: str, profile: str, config: ConfigFile, options: "GlobalOptions",
              environ: Mapping[str, str]) -> Setting:
    """KEY's value in PROFILE and its source (a server URL from an option or env is checked)."""
    if key in OPTION_OF:
        flag, attr = OPTION_OF[key]
        value = getattr(options, attr)
        if value is not None and value is not False:  # a flag counts only when given
            return Setting(profile, key, _checked(key, value, flag), f"option {flag}")
    if key in ENV_OF and environ.get(ENV_OF[key]):
        name = ENV_OF[key]
        return Setting(profile, key, _checked(key, environ[name], name), f"env {name}")
    values = config.profile(profile)  # values from the file are checked when read
    if key in values:
        return Setting(profile, key, values[key], "profile")
    return Setting(profile, key, KEYS[key].default, "default")


def effective_all(profile: str, config: ConfigFile, options: "GlobalOptions",
                  environ: Mapping[str, str]) -> list[Setting]:
    """Every key's effective Setting in PROFILE, in KEYS order."""
    return [effective(key, profile, config, options, environ) for key in KEYS]


def is_remote_http(url: str) -> bool:
    """Whether URL is plain http:// to a host that is not this machine (the key would
    travel unencrypted over a network)."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def check_transport(url: str, allowed: bool) -> None:
    """Refuse a plain http:// URL to another machine unless ALLOWED (--allow-http or the
    profile's allow_http = true)."""
    if is_remote_http(url) and not allowed:
        raise UsageError(f"refusing to send the API key in clear text to {url} (plain http:// to a "
                         "host that is not this machine)",
                         hint="use https://, or allow it explicitly with --allow-http or "
                              "`mcli config set allow_http true`")


def _checked(key: str, value: Any, source: str) -> Any:
    return checked_url(value, source) if key == "server_url" else value


def checked_url(url: str, source: str) -> str:
    """URL without its trailing slash (or `sandbox`, the in-process local API); a UsageError
    naming SOURCE unless it is http(s)."""
    from urllib.parse import urlsplit

    from mistral_cli.config.profiles import SANDBOX

    if url == SANDBOX:
        return url

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.netloc
            or any(char.isspace() or not char.isprintable() for char in url)):
        raise UsageError(f"{source}: invalid server URL {url!r} "
                         "(expected http://HOST[:PORT], https://HOST[:PORT] or sandbox)")
    return url.rstrip("/")
