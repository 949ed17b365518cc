"""`mcli auth`: store, check, show and remove the API key of a profile.

The key is looked up in one order (config/credentials.py): MISTRAL_API_KEY, then the OS
keyring entry of the profile (service `mcli`), then the 0600 file written only by
`auth login --insecure-storage`. `login` checks a key with GET /v1/models before it stores
anything. The key itself is printed by `auth token` alone; `auth status` shows its last 4
characters.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mistral_cli.commands.auth.key import read_key, verify_key
from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import OutputOpt, env_of, epilog
from mistral_cli.config import credentials as creds
from mistral_cli.config.profiles import DEFAULT_PROFILE, check_profile_name
from mistral_cli.env import Env
from mistral_cli.errors import AuthError, MCLIError
from mistral_cli.render.output import Column, OutputFormat, emit_object

app = McliTyper(help="Store, check, show and remove the API key.", no_args_is_help=True,
                epilog=epilog("mcli auth login", "mcli auth status", "mcli auth login --profile work",
                              before="The key comes from MISTRAL_API_KEY, else the OS keyring (service 'mcli', "
                                     "one entry per profile), else the 0600 file written by "
                                     "`mcli auth login --insecure-storage`."))

NO_KEYRING_HINT = (f"set {creds.ENV_KEY} in your environment, or run `mcli auth login --insecure-storage` "
                   "to keep the key in a 0600 file")
STATUS_FIELDS = (Column("PROFILE", "profile"), Column("SERVER", "server_url"), Column("KEY", "key"),
                 Column("SOURCE", "source"), Column("VERIFIED", "verified"), Column("MODELS", "models"),
                 Column("ERROR", "error"), Column("KEYRING", "keyring"))


def register(root: typer.Typer) -> None:
    """Add the `auth` group to the root app."""
    root.add_typer(app, name="auth")


def _note_env_key(env: Env) -> None:
    if env.environ.get(creds.ENV_KEY):
        env.info(f"note: {creds.ENV_KEY} is set in this environment and takes precedence over the stored key")


@app.command("login", epilog=epilog("mcli auth login",
                                    'printf %s "$MISTRAL_API_KEY" | mcli auth login --with-key-stdin',
                                    "mcli auth login --profile work --insecure-storage"))
def login(
    ctx: typer.Context,
    with_key_stdin: Annotated[bool, typer.Option("--with-key-stdin", help="Read the key from stdin (a pipe or a file).")] = False,
    insecure_storage: Annotated[bool, typer.Option(
        "--insecure-storage", help="Store the key in a 0600 file in the config folder instead of the OS keyring.")] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Store the key without checking it with the server.")] = False,
) -> None:
    """Check an API key with the server, then store it for the profile (OS keyring)."""
    env = env_of(ctx)
    profile = check_profile_name(env.profile_name)
    if not insecure_storage:
        _check_keyring(profile)
    key = read_key(env, with_key_stdin)
    if no_verify:
        env.info("not verified (--no-verify)")
    else:
        count = verify_key(env, key)
        env.info(f"key {creds.mask(key)} works with {env.server_url} ({count} models)")
    where = _store_file(env, profile, key) if insecure_storage else _store_keyring(env, profile, key)
    _register_profile(env, profile)
    env.info(f"logged in: profile '{profile}', key stored in {where}")
    _note_env_key(env)


def _check_keyring(profile: str) -> None:
    """Refuse before asking for a key that the OS keyring could not store, saying how to go on."""
    try:
        creds.keyring_get(profile)
    except creds.KeyringUnavailable as exc:
        raise AuthError(f"cannot store the key: {exc}; nothing was stored", hint=NO_KEYRING_HINT) from None


def _store_keyring(env: Env, profile: str, key: str) -> str:
    try:
        creds.keyring_set(profile, key)
    except creds.KeyringUnavailable as exc:
        raise AuthError(f"cannot store the key: {exc}; nothing was stored", hint=NO_KEYRING_HINT) from None
    if creds.file_delete(profile, env.environ):
        env.info(f"removed the older key of profile '{profile}' from {creds.credentials_file(env.environ)}")
    return f"the OS keyring (service '{creds.SERVICE}', profile '{profile}')"


def _store_file(env: Env, profile: str, key: str) -> str:
    path = creds.file_set(profile, key, env.environ)
    try:
        if creds.keyring_delete(profile):
            env.info(f"removed the older key of profile '{profile}' from the OS keyring (it would take precedence)")
    except creds.KeyringUnavailable as exc:
        if str(exc) != creds.NO_BACKEND:  # no keyring at all: nothing there can shadow the file
            env.warn(f"OS keyring: {exc}; an older key stored there would take precedence")
    env.warn(f"the key is stored unencrypted in {path} (mode 0600)")
    return path


def _register_profile(env: Env, profile: str) -> None:
    """Add a named profile to the config file, so that `mcli config use` knows it."""
    if profile != DEFAULT_PROFILE and not env.config.has_profile(profile):
        env.config.add_profile(profile)
        env.config.save()


@app.command("status", epilog=epilog("mcli auth status", "mcli auth status --profile work -o json"))
def status(
    ctx: typer.Context,
    output: OutputOpt = OutputFormat.table,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Do not check the key with the server.")] = False,
) -> None:
    """Show where the key comes from, the server, the profile, and whether the key works."""
    env = env_of(ctx)
    found = creds.find_key(env.profile_name, env.environ)
    if found.credential is not None and found.credential.warning:
        env.warn(found.credential.warning)
    report: dict[str, Any] = {"profile": env.profile_name, "server_url": env.server_url, "key": None,
                              "source": None, "verified": None, "models": None, "error": None,
                              "keyring": found.keyring_problem}
    problem: MCLIError | None = None
    if found.credential is None:
        problem = creds.missing_key_error(env.profile_name, found.keyring_problem)
        report["error"] = problem.message
    else:
        report.update(key=creds.mask(found.credential.key), source=found.credential.source)
        if not no_verify:
            problem = _check_stored_key(env, found.credential.key, report)
    fields = [col for col in STATUS_FIELDS if not env.stdout_isatty or report[col.key] is not None]
    emit_object(env, output, report, fields, id_key="source", title="mcli auth status")
    if problem is not None:
        raise problem


def _check_stored_key(env: Env, key: str, report: dict[str, Any]) -> MCLIError | None:
    try:
        report["models"] = verify_key(env, key, refused="the server refused the key", other_hint=None)
        report["verified"] = True
    except AuthError as exc:
        report.update(verified=False, error=exc.message)
        return exc
    except MCLIError as exc:
        report["error"] = exc.message
        return exc
    return None


@app.command("logout", epilog=epilog("mcli auth logout", "mcli auth logout --profile work"))
def logout(ctx: typer.Context) -> None:
    """Remove the profile's stored key from the OS keyring and the key file."""
    env = env_of(ctx)
    profile = env.profile_name
    removed = False
    try:
        if creds.keyring_delete(profile):
            removed = True
            env.info(f"removed the key of profile '{profile}' from the OS keyring")
    except creds.KeyringUnavailable as exc:
        env.info(f"OS keyring: {exc}; nothing removed there")
    if creds.file_delete(profile, env.environ):
        removed = True
        env.info(f"removed the key of profile '{profile}' from {creds.credentials_file(env.environ)}")
    if not removed:
        env.info(f"no stored key for profile '{profile}'")
    _note_env_key(env)


@app.command("token", epilog=epilog("mcli auth token", 'curl -H "Authorization: Bearer $(mcli auth token)" https://api.mistral.ai/v1/models'))
def token(ctx: typer.Context) -> None:
    """Print the API key alone, for `$(mcli auth token)`."""
    env = env_of(ctx)
    env.stdout.write(env.credential().key + "\n")
    env.stdout.flush()
