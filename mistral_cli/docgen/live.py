"""Which options and arguments complete live ids on Tab, and where those ids come from.

LIVE_VALUES is the one place that says which argument completes which kind of id. The
completion scripts ask `mcli completion ids KIND` for the values, which reads the id cache
(store/ids.py: models, files and jobs seen in any command's output) or, for conversations,
the local history database, or for moderation categories a fixed list; none touches the network.

The kinds of server ids are the operation table's (api/operations.py: the kind of id each
operation returns, which is also what the id cache files them under).

A rule names a command group (`()`: anywhere), optionally the commands in it it applies to,
and an option name or an argument-name prefix (`FILE_ID` also matches `FILE_IDS`). Every rule
matches some command (tests/test_shell_ids.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from mistral_cli.api.operations import BATCH_JOB, FILE, FINE_TUNING_JOB, MODEL

JOB_COMMANDS = ("get", "watch", "cancel", "start", "results")
CONVERSATION = "conversation"
MODERATION_CATEGORY = "moderation-category"  # a fixed list (classifiers/verdicts.py), no cache
CONFIG_KEY = "config-key"  # the config keys (config/profiles.py KEYS)
PROFILE = "profile"  # the profiles of the config file
API_PATH = "api-path"  # the operation table's path templates (api/operations.py)
NO_IDS = ""  # a rule that offers local files only
# The models that can serve a command: `model-USE` (store/ids.py models_for: the capabilities
# the models list gave, else the model name conventions).
MODEL_USES = ("chat", "fim", "embed", "ocr", "moderation", "fine-tuning")


@dataclass(frozen=True)
class Live:
    """One rule: which option or argument, where, completes which KIND of id."""

    kind: str
    option: str = ""
    argument: str = ""
    group: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    files: bool = False  # local files are offered too

    def applies(self, path: tuple[str, ...]) -> bool:
        """Whether the rule covers the command at PATH."""
        if path[:len(self.group)] != self.group:
            return False
        return not self.commands or (len(path) == len(self.group) + 1 and path[-1] in self.commands)


LIVE_VALUES: tuple[Live, ...] = (
    Live("model-chat", option="--model", group=("chat",)),
    Live("model-fim", option="--model", group=("fim",)),
    Live("model-embed", option="--model", group=("embeddings",)),
    Live("model-ocr", option="--model", group=("ocr",)),
    Live("model-moderation", option="--model", group=("classifiers",), commands=("moderate", "moderate-chat")),
    Live("model-fine-tuning", option="--model", group=("fine-tuning",), commands=("create",)),
    Live(MODEL, option="--model"),
    Live(MODEL, argument="MODEL_ID", group=("models",)),
    Live(FILE, argument="FILE_ID", group=("files",)),
    Live(FINE_TUNING_JOB, argument="JOB_ID", group=("fine-tuning",), commands=JOB_COMMANDS),
    Live(BATCH_JOB, argument="JOB_ID", group=("batch",), commands=JOB_COMMANDS),
    Live(CONVERSATION, argument="ID", group=("history",), commands=("show", "delete")),
    Live(CONVERSATION, option="--cid"),
    Live("file", option="--training-file", group=("fine-tuning",), commands=("create",)),
    Live("file", option="--validation-file", group=("fine-tuning",), commands=("create",)),
    Live("file", option="--input", group=("batch",), commands=("create",)),
    Live(MODERATION_CATEGORY, option="--fail-on", group=("classifiers",), commands=("moderate", "moderate-chat")),
    Live(NO_IDS, argument="DOCUMENT", group=("ocr",), files=True),
    Live(CONFIG_KEY, argument="KEY", group=("config",), commands=("get", "set", "unset")),
    Live(PROFILE, argument="NAME", group=("config",), commands=("use",)),
    Live(PROFILE, option="--profile"),
    Live(API_PATH, argument="PATH", group=("api",)),
)


def option_kind(path: tuple[str, ...], names: tuple[str, ...]) -> str:
    """The kind of id the option spelled NAMES completes at PATH ('' for none)."""
    return next((rule.kind for rule in LIVE_VALUES
                 if rule.option and rule.option in names and rule.applies(path)), "")


def argument_kind(path: tuple[str, ...], name: str) -> str:
    """The kind of id the argument NAME completes at PATH ('' for none)."""
    return next((rule.kind for rule in LIVE_VALUES
                 if rule.argument and name.startswith(rule.argument) and rule.applies(path)), "")


def argument_files(path: tuple[str, ...], name: str) -> bool:
    """Whether the argument NAME at PATH completes local files (besides what its type says)."""
    return any(rule.files for rule in LIVE_VALUES
               if rule.argument and name.startswith(rule.argument) and rule.applies(path))


def kinds() -> tuple[str, ...]:
    """Every kind the rules name, in order."""
    return tuple(dict.fromkeys(rule.kind for rule in LIVE_VALUES if rule.kind))
