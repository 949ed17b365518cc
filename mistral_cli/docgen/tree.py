"""Walk the full Typer app into a plain tree of commands, options and arguments.

Only public objects are used: `typer.main.get_command(app)` returns a command object whose
attributes (`.commands`, `.params`, `.help`, `.epilog`, options' `.opts`, `.is_flag`, ...)
describe everything the generators need. Nothing here imports Click.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import typer

from mistral_cli import app as app_module
from mistral_cli.commands.shared.boundary import choices_of
from mistral_cli.config.global_options import COLOR_CHOICES, GLOBALS
from mistral_cli.docgen.live import argument_files, argument_kind, option_kind

PATH_WORDS = ("FILE", "PATH", "DIR")


@dataclass(frozen=True)
class Option:
    """One option: its spellings, whether it takes a value, and what that value can be."""

    names: tuple[str, ...]
    help: str = ""
    takes_value: bool = True
    choices: tuple[str, ...] = ()
    path: bool = False
    metavar: str = ""
    multiple: bool = False
    negations: tuple[str, ...] = ()
    live: str = ""  # the kind of id it completes on Tab (docgen/live.py)

    @property
    def long(self) -> str:
        """The option's longest spelling, for sorting and display."""
        return max(self.names, key=len)

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every spelling, including `--no-x` secondary forms of a flag."""
        return self.names + self.negations


@dataclass(frozen=True)
class Argument:
    """One positional argument."""

    name: str
    help: str = ""
    required: bool = True
    variadic: bool = False
    choices: tuple[str, ...] = ()
    path: bool = False
    live: str = ""  # the kind of id it completes on Tab (docgen/live.py)

    @property
    def metavar(self) -> str:
        """NAME, NAME... or [NAME] as in a synopsis."""
        text = self.name + ("..." if self.variadic and not self.name.endswith("...") else "")
        return text if self.required else f"[{text}]"


@dataclass
class Node:
    """A command or a group, with its place in the tree."""

    path: tuple[str, ...]
    help: str = ""
    epilog: str = ""
    options: list[Option] = field(default_factory=list)
    arguments: list[Argument] = field(default_factory=list)
    children: dict[str, "Node"] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """`mcli files upload`."""
        return " ".join(("mcli", *self.path))

    @property
    def page(self) -> str:
        """The man page name: `mcli-files-upload` (`mcli` for the root)."""
        return "-".join(("mcli", *self.path))

    @property
    def is_group(self) -> bool:
        """Whether the node has subcommands."""
        return bool(self.children)

    @property
    def summary(self) -> str:
        """The first paragraph of the help, on one line."""
        return " ".join(self.help.strip().split("\n\n")[0].split())

    def walk(self) -> typing.Iterator["Node"]:
        """This node and every node below it, parents first, children by name."""
        yield self
        for child in self.children.values():
            yield from child.walk()


@dataclass
class Tree:
    """The whole command tree plus the options accepted at every level."""

    root: Node
    global_options: list[Option]
    version: str

    def nodes(self) -> list[Node]:
        """Every node, root first."""
        return list(self.root.walk())


# -- walking the command objects -------------------------------------------------------


def build_tree() -> Tree:
    """Load the full app (every registry module) and walk it."""
    from mistral_cli import __version__

    command = typer.main.get_command(app_module.build_app(load_all=True))
    help_names = tuple((command.context_settings or {}).get("help_option_names") or ("--help",))
    global_names = {name for option in GLOBALS for name in option.names}
    root_options = [option_of(p) for p in command.params if _visible_option(p)]
    root_options = [dataclasses.replace(o, live=option_kind((), o.names)) for o in root_options]
    global_options = [_with_global_choices(o) for o in root_options if set(o.names) & global_names]
    root = _node(command, (), help_names, exclude=global_names)
    return Tree(root=root, global_options=global_options, version=__version__)


def _with_global_choices(option: Option) -> Option:
    if "--color" in option.names and not option.choices:
        return dataclasses.replace(option, choices=COLOR_CHOICES)
    return option


def _node(command: Any, path: tuple[str, ...], help_names: tuple[str, ...],
          exclude: set[str] = frozenset()) -> Node:
    node = Node(path=path, help=_text(getattr(command, "help", None) or getattr(command, "short_help", None)),
                epilog=_text(getattr(command, "epilog", None)))
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "argument":
            argument = argument_of(param)
            node.arguments.append(dataclasses.replace(argument, live=argument_kind(path, argument.name),
                                                      path=argument.path or argument_files(path, argument.name)))
        elif _visible_option(param):
            option = option_of(param)
            if not set(option.names) & exclude:
                node.options.append(dataclasses.replace(option, live=option_kind(path, option.names)))
    if getattr(command, "add_help_option", True):
        node.options.append(Option(names=help_names, help="Show this message and exit.",
                                   takes_value=False))
    for name in sorted(getattr(command, "commands", {}) or {}):
        child = command.commands[name]
        if not getattr(child, "hidden", False):
            node.children[name] = _node(child, (*path, name), help_names)
    return node


def _visible_option(param: Any) -> bool:
    return getattr(param, "param_type_name", "option") == "option" and not getattr(param, "hidden", False)


def option_of(param: Any) -> Option:
    """An Option from a command object's option parameter."""
    takes_value = not (getattr(param, "is_flag", False) or getattr(param, "count", False))
    metavar = getattr(param, "metavar", None) or ""
    return Option(
        names=tuple(param.opts), negations=tuple(getattr(param, "secondary_opts", ()) or ()),
        help=_text(getattr(param, "declared_help", getattr(param, "help", None))), takes_value=takes_value,
        choices=choices_of(param) if takes_value else (),
        path=takes_value and is_path(param), metavar=metavar,
        multiple=bool(getattr(param, "multiple", False)),
    )


def argument_of(param: Any) -> Argument:
    """An Argument from a command object's argument parameter."""
    name = (getattr(param, "metavar", None) or param.name or "arg").upper()
    return Argument(name=name, help=_text(getattr(param, "help", None)),
                    required=bool(getattr(param, "required", True)),
                    variadic=getattr(param, "nargs", 1) == -1,
                    choices=choices_of(param), path=is_path(param))


def _annotation(param: Any) -> Any:
    return getattr(getattr(param, "type_descriptor", None), "annotation", None)


def _unwrap(annotation: Any) -> Any:
    """list[X] / Optional[X] / X | None -> X."""
    while True:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        origin = typing.get_origin(annotation)
        if origin in (list, tuple, typing.Union, types.UnionType) and len(args) == 1:
            annotation = args[0]
        else:
            return annotation


def is_path(param: Any) -> bool:
    """Whether a parameter names a file or folder (so shells should complete paths).

    By type (Path, file), or for an option by a metavar such as FILE, PATH|URL or FILE|-.
    """
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and (getattr(descriptor, "is_path", False) or getattr(descriptor, "is_file", False)):
        return True
    annotation = _unwrap(_annotation(param))
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        return True
    type_name = type(getattr(param, "type", None)).__name__.removeprefix("Typer")  # Typer 0.28: TyperPath
    if type_name in ("Path", "File"):
        return True
    if getattr(param, "param_type_name", "option") != "option":
        return False
    alternatives = (getattr(param, "metavar", None) or "").upper().split("|")
    return any(word.rstrip(".") in PATH_WORDS for word in alternatives)


def _text(value: Any) -> str:
    return plain(value).strip() if isinstance(value, str) else ""


def plain(text: str) -> str:
    """TEXT without Rich markup (`[bold]Examples[/bold]` -> `Examples`)."""
    try:
        from rich.markup import render

        return render(text).plain
    except Exception:  # noqa: BLE001 - not valid markup: strip what looks like tags
        return re.sub(r"\[/?[a-z][a-z0-9 _.#=:/-]*\]|\[/\]", "", text)
