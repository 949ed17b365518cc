"""Running the command tree: bare `mcli`, and whatever usage error gets past the boundary.

The tree is made of mcli's subclasses of Typer's group and command (commands/shared/boundary.py):
they refuse unknown commands, bad values and extra arguments in mcli's words, as mcli's
UsageError, which app.main prints like any other error. `invoke` runs the root with standalone
mode off, so that nothing of Typer's reaches the terminal: a group called without a command
(bare `mcli`, `mcli files`) prints its help and exits 0, and a usage exception the boundary has
no words for (Typer's public `typer.TyperException`) is passed on as a UsageError with Typer's
message, unread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from mistral_cli.commands.shared.boundary import usage_error
from mistral_cli.errors import EXIT_OK

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env


def invoke(command: Any, args: list[str], env: "Env") -> int:
    """Run COMMAND (the root of the tree) with ARGS; return the exit code, or raise UsageError."""
    try:
        result = command.main(args=args, prog_name="mcli", obj=env, standalone_mode=False)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            return EXIT_OK  # no command given: the help is printed, as asked for
        raise usage_error(exc, getattr(exc, "ctx", None)) from None
    except typer.Abort:
        raise KeyboardInterrupt from None
    return result if isinstance(result, int) and not isinstance(result, bool) else EXIT_OK
