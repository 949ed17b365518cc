"""Man pages (roff, `man` macros) generated from the command tree.

`mcli.1` describes the program, its global options and every command; each command and group
gets its own page (`mcli-files-upload.1`). Examples come from the command's --help epilog.
Output is deterministic: the package version stands where a date would.
"""

from __future__ import annotations

import re

from mistral_cli import errors
from mistral_cli.commands.shared.common_options import GLOBAL_OPTIONS_NOTE
from mistral_cli.docgen.tree import Argument, Node, Option, Tree

EXIT_STATUS = (
    (errors.EXIT_OK, "Success (also when the reader of the output pipe goes away)."),
    (errors.EXIT_ERROR, "An API or network error, after retries."),
    (errors.EXIT_USAGE, "Bad usage or input, found before any request was sent, or refused by the server (422)."),
    (errors.EXIT_AUTH, "No API key, or the key was refused (401, 403)."),
    (errors.EXIT_NOT_FOUND, "Not found (404)."),
    (errors.EXIT_JOB_FAILED, "A watched job ended FAILED, CANCELLED or TIMEOUT_EXCEEDED."),
    (errors.EXIT_FLAGGED, "Content flagged by a --fail-on gate."),
    (errors.EXIT_INTERRUPTED, "Interrupted (Ctrl-C)."),
)

ENVIRONMENT = (
    ("MISTRAL_API_KEY", "The API key; it wins over the key stored by mcli auth login."),
    ("MISTRAL_SERVER_URL", "The API base URL (--server-url wins over it)."),
    ("MCLI_PROFILE", "The profile to use (--profile wins over it)."),
    ("MCLI_CONFIG_DIR", "Where the config file lives."),
    ("MCLI_DATA_DIR", "Where local state (history) lives."),
    ("NO_COLOR", "When set, no colour is used."),
)


# -- roff text -------------------------------------------------------------------------


def escape(text: str) -> str:
    """TEXT made safe for roff: backslashes, hyphens as \\-, non-ASCII as \\[uXXXX]."""
    out = []
    for char in text.replace("\\", "\\e").replace("-", "\\-"):
        out.append(char if ord(char) < 128 else f"\\[u{ord(char):04X}]")
    return "".join(out)


def line(text: str) -> str:
    """One input line of running text (a leading dot or quote would read as a request)."""
    text = escape(text)
    return "\\&" + text if text.startswith((".", "'")) else text


def bold(text: str) -> str:
    """TEXT in bold."""
    return f"\\fB{escape(text)}\\fR"


def italic(text: str) -> str:
    """TEXT in italics."""
    return f"\\fI{escape(text)}\\fR"


def paragraphs(text: str) -> list[str]:
    """Roff lines for TEXT's paragraphs (blank-line separated), each line refilled by roff."""
    lines: list[str] = []
    for paragraph in (p for p in text.split("\n\n") if p.strip()):
        lines += [".PP", line(" ".join(paragraph.split()))]
    return lines


def _quote(text: str) -> str:
    return '"' + escape(text).replace('"', "") + '"'


# -- pieces ----------------------------------------------------------------------------


def option_heading(option: Option) -> str:
    """`\\fB\\-o\\fR, \\fB\\-\\-output\\fR \\fIFORMAT\\fR` for a .TP heading."""
    names = sorted(option.names, key=lambda n: (len(n), n))
    heading = ", ".join(bold(name) for name in names)
    if option.negations:
        heading += ", " + ", ".join(bold(name) for name in option.negations)
    if option.takes_value:
        heading += " " + italic(value_name(option))
    return heading


def value_name(option: Option) -> str:
    """The metavar of an option's value: its own, else from the choices, else its name."""
    if option.metavar:
        return option.metavar
    if option.choices:
        return "{" + "|".join(option.choices) + "}"
    return option.long.lstrip("-").replace("-", "_").upper()


def option_items(options: list[Option]) -> list[str]:
    """A .TP list of OPTIONS with their help and choices."""
    lines: list[str] = []
    for option in options:
        lines += [".TP", option_heading(option)]
        text = option.help or ""
        if option.metavar:
            text += choices_note(option.choices, text)
        lines.append(line(" ".join(text.split())) if text.strip() else "\\&")
    return lines


def choices_note(choices: tuple[str, ...], text: str) -> str:
    """` One of: a, b.` unless TEXT already names every choice."""
    if not choices or all(choice.lower() in text.lower() for choice in choices):
        return ""
    return f" One of: {', '.join(choices)}."


def argument_items(arguments: list[Argument]) -> list[str]:
    """A .TP list of positional arguments."""
    lines: list[str] = []
    for argument in arguments:
        text = " ".join(argument.help.split())
        text += choices_note(argument.choices, text)
        lines += [".TP", italic(argument.metavar), line(text.strip()) if text.strip() else "\\&"]
    return lines


def examples(epilog: str) -> list[str]:
    """Roff lines for an epilog: `$ command` lines as code blocks, other text as paragraphs."""
    lines: list[str] = []
    blocks = [block.strip() for block in epilog.split("\n\n") if block.strip()]
    pending: list[str] = []
    for block in blocks + [""]:
        rows = [row.strip() for row in block.splitlines()]
        if rows and all(row.startswith("$") for row in rows):
            pending += [row.lstrip("$ ") for row in rows]
            continue
        if pending:
            lines += [".PP", ".RS 4", ".nf", *(line(row) for row in pending), ".fi", ".RE"]
            pending = []
        if block and block.rstrip(":").lower() != "examples" and GLOBAL_OPTIONS_NOTE not in block:
            lines += paragraphs(block)
    return lines


def epilog_section(epilog: str) -> list[str]:
    """NOTES for the text before an 'Examples' heading, EXAMPLES for the `$ command` lines."""
    heading = re.search(r"(?m)^[ \t]*Examples:?[ \t]*$", epilog)
    notes, shown = (epilog[:heading.start()], epilog[heading.end():]) if heading else ("", epilog)
    if not heading and not any(row.strip().startswith("$") for row in shown.splitlines()):
        notes, shown = shown, ""
    lines = [".SH NOTES", *examples(notes)] if notes.strip() else []
    return lines + ([".SH EXAMPLES", *examples(shown)] if shown.strip() else [])


def synopsis(node: Node) -> list[str]:
    """The SYNOPSIS lines of NODE."""
    words = [f"[{italic('OPTIONS')}]"]
    if node.is_group:
        words = [italic("COMMAND"), *words]
    words += [italic(argument.metavar) for argument in node.arguments]
    return [".SH SYNOPSIS", f".B {escape(node.name)}", " ".join(words)]


def header(node: Node, tree: Tree) -> list[str]:
    """The comment line, .TH and NAME."""
    summary = node.summary.rstrip(".").removeprefix(f"{node.name}: ")
    if node.path:
        summary = summary[:1].lower() + summary[1:] if summary[1:2].islower() else summary
    return [f'.\\" Generated by `python -m mistral_cli.docgen` from mcli {tree.version}; do not edit.',
            f".TH {_quote(node.page.upper())} \"1\" {_quote('version ' + tree.version)} "
            f"{_quote('mcli ' + tree.version)} \"mcli manual\"",
            ".SH NAME", f"{escape(node.page)} \\- {escape(summary)}"]


def commands_list(nodes: list[Node]) -> list[str]:
    """A .TP list of commands: full name in bold, its page, its summary."""
    lines: list[str] = []
    for node in nodes:
        lines += [".TP", f"{bold(node.name)}", line(node.summary) if node.summary else "\\&"]
    return lines


def see_also(pages: list[str]) -> list[str]:
    """SEE ALSO: PAGES as `name(1)`, comma-separated."""
    refs = [f".BR {escape(page)} (1){',' if index < len(pages) - 1 else ''}"
            for index, page in enumerate(pages)]
    return [".SH SEE ALSO", *refs]


# -- pages -----------------------------------------------------------------------------


def root_page(tree: Tree) -> str:
    """mcli.1: the program, its global options, every command, exit codes, environment."""
    root = tree.root
    lines = header(root, tree)
    lines += [".SH SYNOPSIS", ".B mcli", f"[{italic('GLOBAL OPTIONS')}] {italic('COMMAND')} "
              f"[{italic('OPTIONS')}] [{italic('ARGUMENTS')}]"]
    lines += [".SH DESCRIPTION", *paragraphs(root.help)]
    lines += [".SH OPTIONS", *option_items(root.options)]
    lines += [".SH GLOBAL OPTIONS", *paragraphs("These work before or after the subcommand, at any level."),
              *option_items(tree.global_options)]
    lines += [".SH COMMANDS", *commands_list([n for n in tree.nodes() if n.path])]
    lines += [".SH EXIT STATUS"]
    for code, meaning in EXIT_STATUS:
        lines += [".TP", bold(str(code)), line(meaning)]
    lines += [".SH ENVIRONMENT"]
    for name, meaning in ENVIRONMENT:
        lines += [".TP", bold(name), line(meaning)]
    lines += epilog_section(root.epilog)
    lines += see_also([child.page for child in root.children.values()])
    return "\n".join(lines) + "\n"


def command_page(node: Node, tree: Tree, parent: Node) -> str:
    """The page of one command or group."""
    lines = header(node, tree) + synopsis(node)
    lines += [".SH DESCRIPTION", *paragraphs(node.help or node.summary)]
    if node.is_group:
        lines += [".SH COMMANDS", *commands_list(list(node.children.values()))]
    if node.arguments:
        lines += [".SH ARGUMENTS", *argument_items(node.arguments)]
    lines += [".SH OPTIONS", *option_items(node.options)]
    names = ", ".join(name for option in tree.global_options
                      for name in sorted(option.names, key=lambda n: (len(n), n)))
    lines += [".SH GLOBAL OPTIONS", *paragraphs(f"The global options of mcli(1) work here too: {names}.")]
    lines += epilog_section(node.epilog)
    related = ["mcli"] + ([parent.page] if parent.path else []) + [c.page for c in node.children.values()]
    lines += see_also(related)
    return "\n".join(lines) + "\n"


def pages(tree: Tree) -> dict[str, str]:
    """Every page, by file name."""
    out = {"mcli.1": root_page(tree)}
    for parent in tree.nodes():
        for child in parent.children.values():
            out[f"{child.page}.1"] = command_page(child, tree, parent)
    return out
