"""`mcli config`: read and change settings in the TOML config file, and manage profiles.

The active profile is --profile, else MCLI_PROFILE, else the file's `default_profile`
(set with `mcli config use NAME`), else `default`. `set` writes to the active profile and
creates it when it does not exist yet.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import OutputOpt, env_of, epilog
from mistral_cli.config import paths
from mistral_cli.config.profiles import (
    DEFAULT_PROFILE,
    KEYS,
    check_key,
    check_profile_name,
    parse_value,
    valid_keys_text,
)
from mistral_cli.config.settings import Setting, effective, effective_all
from mistral_cli.env import Env
from mistral_cli.errors import ConfigError
from mistral_cli.render.output import Column, OutputFormat, emit_list, emit_object, tsv_cell

app = McliTyper(help="Read and change settings and profiles.", no_args_is_help=True,
                epilog=epilog("mcli config set model.chat mistral-large-latest", "mcli config list",
                              "mcli config use work --create",
                              before="Keys:\n\n" + "\n\n".join(f"  {line.strip()}"
                                                               for line in valid_keys_text().splitlines())))

KeyArg = Annotated[str, typer.Argument(help="A config key, such as model.chat (see `mcli config --help`).",
                                       show_default=False)]
LIST_COLUMNS = (Column("KEY", "key"), Column("VALUE", "value"), Column("SOURCE", "source"))
ALL_COLUMNS = (Column("PROFILE", "profile"), *LIST_COLUMNS)


def register(root: typer.Typer) -> None:
    """Add the `config` group to the root app."""
    root.add_typer(app, name="config")


def _warn_unknown_keys(env: Env, profile: str) -> None:
    for key in env.config.unknown_keys(profile):
        env.warn(f"{env.config.path}: profile '{profile}': unknown key '{key}' is ignored")


def _settings(env: Env, profiles: list[str]) -> list[Setting]:
    settings: list[Setting] = []
    for profile in profiles:
        _warn_unknown_keys(env, profile)
        settings.extend(effective_all(profile, env.config, env.options, env.environ))
    return settings


@app.command("list", epilog=epilog("mcli config list", "mcli config list --profile work -o json",
                                   "mcli config list --all-profiles"))
def list_(
    ctx: typer.Context,
    output: OutputOpt = OutputFormat.table,
    all_profiles: Annotated[bool, typer.Option("--all-profiles", help="Every profile in the file, not only the active one.")] = False,
) -> None:
    """Show each key of the active profile, its value and where it comes from."""
    env = env_of(ctx)
    active = env.profile_name
    names = sorted({*env.config.profile_names(), DEFAULT_PROFILE, env.config.default_profile, active}) if all_profiles else [active]
    items = [setting.as_dict() for setting in _settings(env, names)]
    title = (f"profiles in {env.config.path} (active: {active}, default: {env.config.default_profile})"
             if all_profiles else f"profile '{active}' ({env.config.path})")
    emit_list(env, output, items, ALL_COLUMNS if all_profiles else LIST_COLUMNS, id_key="key", title=title)


@app.command("get", epilog=epilog("mcli config get model.chat", "mcli config get timeout --profile work -o json"))
def get(ctx: typer.Context, key: KeyArg, output: OutputOpt = OutputFormat.text) -> None:
    """Print one key's value in the active profile (its default when unset)."""
    env = env_of(ctx)
    check_key(key)
    setting = effective(key, env.profile_name, env.config, env.options, env.environ)
    if output is OutputFormat.text:
        env.stdout.write(tsv_cell(setting.value) + "\n")
        env.stdout.flush()
    else:
        emit_object(env, output, setting.as_dict(), id_key="value", title=key)


@app.command("set", context_settings={"ignore_unknown_options": True}, epilog=epilog("mcli config set model.chat mistral-large-latest",
                                  "mcli config set server_url https://eu.example.com --profile eu",
                                  "mcli config set history false"))
def set_(ctx: typer.Context, key: KeyArg,
         value: Annotated[str, typer.Argument(help="The new value.", show_default=False)]) -> None:
    """Set a key in the active profile; --profile NAME creates that profile if needed."""
    env = env_of(ctx)
    parsed = parse_value(key, value)
    profile = check_profile_name(env.profile_name)
    created = not env.config.has_profile(profile)
    env.config.set(profile, key, parsed)
    env.config.save()
    env.info(f"{'created profile' if created else 'profile'} '{profile}': {key} = {tsv_cell(parsed)} ({env.config.path})")
    _note_override(env, key)


def _note_override(env: Env, key: str) -> None:
    setting = effective(key, env.profile_name, env.config, env.options, env.environ)
    if setting.source.startswith(("env ", "option ")):
        env.info(f"note: {setting.source} is set and takes precedence over the profile's {key}")


@app.command("unset", epilog=epilog("mcli config unset model.chat", "mcli config unset timeout --profile work"))
def unset(ctx: typer.Context, key: KeyArg) -> None:
    """Remove a key from the active profile, so that its default applies again."""
    env = env_of(ctx)
    check_key(key)
    profile = env.profile_name
    if not env.config.unset(profile, key):
        env.info(f"profile '{profile}': {key} was not set (default: {tsv_cell(KEYS[key].default)})")
        return
    env.config.save()
    env.info(f"profile '{profile}': removed {key}; it is now the default, {tsv_cell(KEYS[key].default)}")


@app.command("use", epilog=epilog("mcli config use work", "mcli config use staging --create"))
def use(ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="Profile name.", show_default=False)],
        create: Annotated[bool, typer.Option("--create", help="Create the profile if the file lacks it.")] = False) -> None:
    """Make a profile the default one (used when --profile and MCLI_PROFILE are absent)."""
    env = env_of(ctx)
    check_profile_name(name)
    config = env.config
    if not config.has_profile(name) and name != DEFAULT_PROFILE:
        if not create:
            known = ", ".join([DEFAULT_PROFILE, *(p for p in config.profile_names() if p != DEFAULT_PROFILE)])
            raise ConfigError(f"no profile '{name}' in {config.path}", details=[f"profiles: {known}"],
                              hint=f"add --create, or create it with `mcli config set KEY VALUE --profile {name}`")
        config.add_profile(name)
        env.info(f"created profile '{name}'")
    config.set_default_profile(name)
    config.save()
    env.info(f"default profile is now '{name}' ({config.path})")
    if env.environ.get("MCLI_PROFILE") and env.environ["MCLI_PROFILE"] != name:
        env.info(f"note: MCLI_PROFILE={env.environ['MCLI_PROFILE']} is set and takes precedence in this shell")


@app.command("path", epilog=epilog("mcli config path", '"$EDITOR" "$(mcli config path)"', "mcli config path -o json"))
def path(ctx: typer.Context, output: OutputOpt = OutputFormat.text) -> None:
    """Print where the config file is (-o json: every file and folder mcli uses)."""
    env = env_of(ctx)
    where = {"config_file": str(paths.config_file(env.environ)), "config_dir": str(paths.config_dir(env.environ)),
             "data_dir": str(paths.data_dir(env.environ)), "credentials_file": str(paths.credentials_file(env.environ))}
    emit_object(env, output, where, id_key="config_file", title="mcli paths")
