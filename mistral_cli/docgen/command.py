"""`mcli completion`: print the completion script for bash, zsh or fish, and feed Tab its ids.

`mcli completion bash|zsh|fish` prints the same script that is installed with the package
(and committed under completions/), generated from the app itself. The hidden
`mcli completion ids KIND` is what those scripts run on Tab: it prints the ids of KIND that
mcli has seen, from the local id cache or the history database, and never uses the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import env_of, epilog

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

app = McliTyper(help="Print the shell completion script for bash, zsh or fish.", no_args_is_help=True,
                epilog=epilog('eval "$(mcli completion bash)"', "mcli completion zsh > ~/.zfunc/_mcli",
                              "mcli completion fish > ~/.config/fish/completions/mcli.fish"))

HISTORY_LIMIT = 200


def register(root: typer.Typer) -> None:
    """Add the `completion` group to the root app."""
    root.add_typer(app, name="completion")


def _print_script(ctx: typer.Context, shell: str) -> None:
    from mistral_cli.docgen import completion
    from mistral_cli.docgen.tree import build_tree

    env = env_of(ctx)
    env.stdout.write(getattr(completion, shell)(build_tree()))
    env.stdout.flush()


@app.command("bash", epilog=epilog('eval "$(mcli completion bash)"   # in ~/.bashrc',
                                   "mcli completion bash > ~/.local/share/bash-completion/completions/mcli"))
def bash(ctx: typer.Context) -> None:
    """Print the bash completion script."""
    _print_script(ctx, "bash")


@app.command("zsh", epilog=epilog("mcli completion zsh > ~/.zfunc/_mcli   # a folder on $fpath",
                                  'source <(mcli completion zsh)   # after compinit'))
def zsh(ctx: typer.Context) -> None:
    """Print the zsh completion script."""
    _print_script(ctx, "zsh")


@app.command("fish", epilog=epilog("mcli completion fish > ~/.config/fish/completions/mcli.fish",
                                   "mcli completion fish | source"))
def fish(ctx: typer.Context) -> None:
    """Print the fish completion script."""
    _print_script(ctx, "fish")


@app.command("ids", hidden=True)
def ids(ctx: typer.Context, kind: Annotated[str, typer.Argument(help="The kind of id.")]) -> None:
    """Print the ids of KIND that mcli has seen, newest first (for the completion scripts)."""
    env = env_of(ctx)
    try:
        values = _ids(env, kind)
    except Exception:  # noqa: BLE001 - Tab must never show an error: offer nothing instead
        return
    env.stdout.write("".join(f"{value}\n" for value in values))
    env.stdout.flush()


def _ids(env: "Env", kind: str) -> list[str]:
    """The ids of KIND: conversations from the history database, moderation categories from
    their fixed list, the rest from the id cache."""
    from mistral_cli.docgen.live import CONVERSATION, MODERATION_CATEGORY

    if kind in LOCAL_LISTS:
        return LOCAL_LISTS[kind](env)
    if kind == MODERATION_CATEGORY:
        from mistral_cli.commands.classifiers.verdicts import MODERATION_CATEGORIES

        return list(MODERATION_CATEGORIES)
    if kind == CONVERSATION:
        from mistral_cli.store.conversations import open_existing_store

        store = open_existing_store(env)
        if store is None:
            return []
        try:
            return [conv.id for conv in store.list(limit=HISTORY_LIMIT)]
        finally:
            store.close()
    from mistral_cli.store import ids as id_cache

    if kind.startswith("model-") and kind[6:] in id_cache.USES:
        return id_cache.models_for(kind[6:], env.environ)
    return id_cache.ids(kind, env.environ)


def _config_keys(_env: "Env") -> list[str]:
    """The config keys, as `mcli config set` takes them."""
    from mistral_cli.config.profiles import KEYS

    return list(KEYS)


def _profiles(env: "Env") -> list[str]:
    """The profiles of the config file (none when it is missing or broken)."""
    from mistral_cli.config.profiles import ConfigFile

    return ConfigFile.load(env.environ).profile_names()


def _api_paths(_env: "Env") -> list[str]:
    """The path templates of the operation table, each once, in its order."""
    from mistral_cli.api.operations import OPERATIONS

    return list(dict.fromkeys(operation.template for operation in OPERATIONS.values()))


LOCAL_LISTS = {"config-key": _config_keys, "profile": _profiles, "api-path": _api_paths}
