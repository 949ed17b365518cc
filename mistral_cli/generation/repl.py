"""The interactive loop of `chat -i` (and `agents -i`).

Line editing and a history file (`repl_history` in the data dir) come from the stdlib
`readline` when stdin is a terminal; piped stdin is read line by line, without prompts.
A line ending in `\\` continues on the next line, and a `\"\"\"` line opens a block that the
next line ending in `\"\"\"` closes; piped input that ends inside either is a usage error
(exit 2) and that last message is not sent. Slash commands: /exit, /model NAME, /system TEXT,
/set OPTION VALUE, /show, /clear, /help. Ctrl-C stops the current answer (saved, marked
incomplete) and keeps the conversation; Ctrl-D leaves. An exchange the history database could
not take (locked past the wait, read-only, full disk) ends the REPL with exit 1: the saved
conversation is always the one the model saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mistral_cli.errors import MCLIError, OutputClosed, StoreError, Terminated, UsageError
from mistral_cli.generation import messages, request
from mistral_cli.generation.args import RANGES, GenArgs
from mistral_cli.generation.endpoints import GenerationEndpoint
from mistral_cli.generation.session import Session
from mistral_cli.generation.setup import make_setup, tool_box_of
from mistral_cli.generation.turn import run_turn
from mistral_cli.inputs import check_bound, need_stdin

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.generation.setup import Setup
    from mistral_cli.generation.tools_allowed import ToolBox

PROMPT = "> "
MORE = "… "
BLOCK = '"""'
HISTORY_FILE = "repl_history"
HISTORY_LENGTH = 2000
COMMANDS = {
    "/exit": "leave (/quit and Ctrl-D too)",
    "/model NAME": "answer with another model from now on (no NAME: show the current one)",
    "/system TEXT": "set the system prompt (no TEXT: show the current one)",
    "/set OPTION VALUE": "change a chat option from now on: temperature, max-tokens, top-p, … (VALUE none: unset)",
    "/show": "the model, system prompt and chat options in use",
    "/clear": "start a new conversation",
    "/help": "this list",
}

ReadLine = Callable[[str], str]


class Repl:
    """One interactive session: reads messages and slash commands, runs a turn per message."""

    def __init__(self, env: "Env", setup: "Setup", session: Session, read_line: ReadLine,
                 box: "ToolBox | None" = None):
        self.env = env
        self.setup = setup
        self.session = session
        self.read_line = read_line
        self.box = box  # the tools --tool-exec lets the model run (approvals read with READ_LINE)
        if box is not None:
            box.read_line = read_line

    # -- the loop ---------------------------------------------------------------------------------

    def loop(self) -> None:
        """Read and answer until /exit or end of input (Ctrl-D)."""
        while True:
            try:
                text = self.read_message()
            except Terminated:
                raise
            except KeyboardInterrupt:
                self.env.info("")
                continue
            except EOFError:
                self.env.info("")
                return
            if not text.strip():
                continue
            if text.startswith("/") and not text.startswith("//"):
                if not self.command(text.strip()):
                    return
                continue
            self.ask(text[1:] if text.startswith("//") else text)

    def ask(self, text: str) -> None:
        """Send TEXT as the next user message and print the answer; errors do not end the loop,
        except an exchange that could not be saved (the REPL never goes on past it)."""
        sent = self.setup.system_update(self.session) + [messages.user_message(text)]
        try:  # building the request may ask for signed URLs of uploaded documents: a request too
            if self.box is not None:
                from mistral_cli.generation.tool_loop import close_stopped, converse

                close_stopped(self.session)
                converse(self.env, self.setup, self.session, sent, self.box)
            else:
                body = self.setup.request(self.session, sent)
                run_turn(self.env, self.setup.endpoint, self.session, body, sent, self.setup.view)
        except Terminated:
            raise
        except KeyboardInterrupt:
            self.env.info("(stopped)")
        except OutputClosed:
            raise
        except MCLIError as exc:
            if exc is not self.session.unsaved:
                self.env.report(exc)
        else:
            self.env.stdout.flush()
        self.stop_if_unsaved()

    def stop_if_unsaved(self) -> None:
        """End the REPL (exit 1) when the last exchange is not in the history: another turn would
        send the model a conversation that differs from the saved one."""
        unsaved = self.session.unsaved
        if unsaved is not None:
            self.env.stdout.flush()
            raise StoreError(f"{unsaved.message}; the REPL stops here so that the saved conversation "
                            "stays what the model saw", hint=unsaved.hint)

    # -- input --------------------------------------------------------------------------------------

    def read_message(self) -> str:
        """One message: a line, lines joined by a trailing backslash, or a triple-quoted block."""
        line = self.read_line(PROMPT)
        if line.lstrip().startswith(BLOCK):
            return self.read_block(line.lstrip()[len(BLOCK):])
        parts = []
        while line.endswith("\\"):
            parts.append(line[:-1])
            line = self.read_more("a continued line (the last line ends in `\\`)", len(parts),
                                  "remove the `\\` that ends the last line")
        return "\n".join(parts + [line])

    def read_block(self, first: str) -> str:
        """The rest of a triple-quoted block whose opening line held FIRST after the quotes."""
        lines = []
        line = first
        while not line.rstrip().endswith(BLOCK):
            lines.append(line)
            line = self.read_more(f"a {BLOCK} block that was never closed", len(lines),
                                  f"close the block with a line ending in {BLOCK}")
        lines.append(line.rstrip()[: -len(BLOCK)])
        return "\n".join(lines).strip("\n")

    def read_more(self, inside: str, count: int, hint: str) -> str:
        """The next line of an unfinished message. Piped input that ends there was cut or
        mistyped: that message is not sent (an answer to half a message is paid for and
        useless) and the end is a usage error (exit 2); Ctrl-D on a terminal just leaves."""
        try:
            return self.read_line(MORE)
        except EOFError:
            if self.env.stdin_isatty:
                self.env.info("(the unfinished message was not sent)")
                raise
            raise UsageError(f"the input ended inside {inside}: that message ({count} line(s)) was not sent",
                             hint=hint) from None

    # -- slash commands ------------------------------------------------------------------------------

    def command(self, text: str) -> bool:
        """Run a slash command; False means leave."""
        name, _, value = text.partition(" ")
        value = value.strip()
        if name in ("/exit", "/quit"):
            return False
        handlers = {"/model": self.model, "/system": self.system, "/clear": self.clear, "/help": self.help,
                    "/set": self.set_option, "/show": self.show}
        handler = handlers.get(name)
        if handler is None:
            self.env.info(f"unknown command {name}; /help lists them")
        else:
            handler(value)
        return True

    def model(self, value: str) -> None:
        """/model NAME: switch models; without NAME, show the current one."""
        if not self.setup.endpoint.has_model:
            self.env.info("an agent answers with its own model")
        elif value:
            self.setup.model = value
            self.env.info(f"model: {value}")
        else:
            self.env.info(f"model: {self.setup.model}")

    def system(self, value: str) -> None:
        """/system TEXT: set the system prompt; without TEXT, show the current one."""
        if value:
            self.setup.system = value
            self.env.info("system prompt set")
        else:
            current = self.setup.system or messages.current_system(self.session.history)
            self.env.info(f"system: {current}" if current else "no system prompt")

    def set_option(self, value: str) -> None:
        """/set OPTION VALUE: change a chat option (checked as on the command line) for the next turns."""
        name, _, text = value.partition(" ")
        try:
            field, number = parse_setting(name, text.strip(), self.setup.endpoint)
        except UsageError as exc:
            self.env.info(f"/set: {exc.message}")
            return
        if number is None:
            self.setup.body.pop(field, None)
        else:
            self.setup.body[field] = number
        self.env.info(f"{option_name(field)}: {'(default)' if number is None else number}")

    def show(self, _value: str) -> None:
        """/show: the model, the system prompt and the chat options set."""
        lines = [f"model: {self.setup.model}"] if self.setup.endpoint.has_model else []
        current = self.setup.system or messages.current_system(self.session.history)
        lines.append(f"system: {current}" if current else "system: (none)")
        lines += [f"{option_name(field)}: {self.setup.body[field]}" for field in RANGES if field in self.setup.body]
        self.env.info("\n".join(lines))

    def clear(self, _value: str) -> None:
        """/clear: forget the conversation; the next message starts a new one."""
        self.session.reset()
        self.env.info("new conversation")

    def help(self, _value: str) -> None:
        """/help: list the slash commands."""
        width = max(map(len, COMMANDS))
        lines = [f"  {name.ljust(width)}  {what}" for name, what in COMMANDS.items()]
        self.env.info("\n".join(lines + ['  end a line with \\ to continue it; """ opens and closes a block',
                                         "  start a message with // to send a leading /"]))


def option_name(field: str) -> str:
    """The command-line name of a request FIELD, without dashes (max_tokens -> max-tokens)."""
    return RANGES[field][0].lstrip("-")


def parse_setting(name: str, text: str, endpoint: GenerationEndpoint) -> tuple[str, float | int | None]:
    """`/set` NAME TEXT as (request field, value; None to unset), checked like the option."""
    wanted = name.lstrip("-").replace("_", "-")
    field = next((f for f in RANGES if option_name(f) == wanted or f.replace("_", "-") == wanted), None)
    if field is None or field not in endpoint.fields:
        known = ", ".join(option_name(f) for f in RANGES if f in endpoint.fields)
        raise UsageError(f"unknown option {name!r} (options: {known})" if name else f"name an option: {known}")
    if not text:
        raise UsageError(f"{option_name(field)} needs a value (none: back to the default)")
    if text.lower() == "none":
        return field, None
    bound = RANGES[field]
    try:
        number: float | int = int(text) if bound.integer else float(text)
    except ValueError:
        raise UsageError(f"{bound.option}: {text!r} is not {'a whole number' if bound.integer else 'a number'}") from None
    check_bound(number, bound)
    return field, number


# -- running it ------------------------------------------------------------------------------------

def run_repl(env: "Env", args: GenArgs, endpoint: GenerationEndpoint) -> None:
    """Start the interactive loop for ARGS (continuing a conversation with -c/--cid)."""
    base = request.read_base_body(env, args.body, endpoint, args.body_fields)
    if base.get("messages"):
        raise UsageError("-i: --body must not hold messages (use -c or --cid to continue a conversation)")
    box = tool_box_of(env, args)
    session = Session.open(env, endpoint, args)
    try:
        setup = make_setup(env, args, endpoint, base, session, box)
        repl = Repl(env, setup, session, line_reader(env), box)
        greet(env, setup, session)
        if args.prompt:
            repl.ask(args.prompt)
        with readline_history(env):
            repl.loop()
    finally:
        session.close()


def greet(env: "Env", setup: "Setup", session: Session) -> None:
    """A line on stderr: who answers, which conversation, how to get help (terminals only)."""
    if not env.stdin_isatty:
        return
    from mistral_cli.render.human import counted

    who = f"model {setup.model}" if setup.endpoint.has_model else f"agent {setup.args.agent_id}"
    where = f"continuing {session.cid} ({counted(len(session.history), 'message')})" if session.exists else "new conversation"
    env.info(f"{who}, {where} · /help for commands, Ctrl-D to leave")


def line_reader(env: "Env") -> ReadLine:
    """input() with line editing on a terminal; plain lines from piped stdin otherwise."""
    if env.stdin_isatty:
        return terminal_input
    stdin = need_stdin(env, "the REPL (-i)")

    def piped(_prompt: str) -> str:
        line = stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    return piped


def terminal_input(prompt: str) -> str:
    """input(): line editing through readline (env.stdout keeps the terminal's file number)."""
    return input(prompt)


class readline_history:  # noqa: N801 - used as a context manager, like contextlib's
    """Load the REPL history file on entry and save it on exit (terminals with readline only)."""

    def __init__(self, env: "Env"):
        self.env = env
        self.readline = None
        self.path = None

    def __enter__(self) -> "readline_history":
        if not self.env.stdin_isatty:
            return self
        try:
            import readline
        except ImportError:  # pragma: no cover - platforms without readline
            return self
        from mistral_cli.config.paths import data_dir

        self.readline, self.path = readline, data_dir(self.env.environ) / HISTORY_FILE
        readline.set_history_length(HISTORY_LENGTH)
        readline.set_completer(complete_command)
        readline.parse_and_bind("tab: complete")
        if self.path.exists():
            try:
                readline.read_history_file(self.path)
            except OSError:
                pass
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.readline is None or self.path is None:
            return
        try:
            from mistral_cli.config.private import replace_private

            replace_private(self.path, self.readline.write_history_file)
        except (OSError, MCLIError) as exc:
            self.env.warn(f"could not save the REPL history: {exc}")


def complete_command(text: str, state: int) -> str | None:
    """Tab completion of slash commands."""
    names = [name.split()[0] for name in COMMANDS if name.startswith(text)] if text.startswith("/") else []
    return names[state] if state < len(names) else None
