"""What stays the same from turn to turn of `chat` and `agents`, one-shot or in the REPL.

`make_setup` checks the options' body once and fixes the model and the view; `Setup.request`
then builds each turn's body from the conversation so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mistral_cli.generation import attachments, messages, request
from mistral_cli.generation.args import OPTION_FIELDS, GenArgs, given_fields
from mistral_cli.generation.endpoints import GenerationEndpoint
from mistral_cli.generation.session import Session
from mistral_cli.generation.thinking import without_thinking
from mistral_cli.generation.turn import View, wants_stream
from mistral_cli.inputs import read_text

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.generation.tools_allowed import ToolBox


@dataclass(eq=False)  # compared by identity; skipping the generated __eq__ keeps start-up short
class Setup:
    """What stays the same from turn to turn: the body the options make, the model, the view."""

    endpoint: GenerationEndpoint
    args: GenArgs
    body: dict
    model: str | None
    links: attachments.DocumentLinks
    view: View
    system: str | None = None

    def request(self, session: Session, sent: list[dict]) -> dict:
        """The request body for SESSION's history followed by SENT."""
        body = dict(self.body)
        if self.endpoint.has_model:
            body["model"] = self.model
        if self.args.agent_id is not None:
            body["agent_id"] = self.args.agent_id
        history = messages.for_request(messages.arrange_system(session.history + sent))
        body["messages"] = self.links.for_api(without_thinking(history))
        if self.args.prefix is not None:
            body["messages"].append(messages.prefix_message(self.args.prefix))
        body["stream"] = wants_stream(body, self.args.no_stream)
        return body

    def system_update(self, session: Session) -> list[dict]:
        """A system message when the wanted system prompt is not the one in force."""
        if self.system is None or self.system == messages.current_system(session.history):
            return []
        return [messages.system_message(self.system)]


def make_setup(env: "Env", args: GenArgs, endpoint: GenerationEndpoint, base: dict, session: Session,
               box: "ToolBox | None" = None) -> Setup:
    """The body options make (checked), the model and the view, for SESSION (with a
    definition for each tool of BOX that the options do not define)."""
    body = request.options_body(env, args, endpoint, base, session.saved_tools())
    if box is not None:
        from mistral_cli.generation.tools_allowed import add_definitions

        add_definitions(body, box)
    request.check_body(body, given_fields(args, OPTION_FIELDS))
    model = request.resolve_model(env, endpoint, args.model, base, session.model)
    view = View(args.output, markdown=not args.no_markdown, thinking=args.thinking.value)
    return Setup(endpoint, args, body, model, attachments.DocumentLinks(env.client), view,
                 system=read_system(env, args))


def read_system(env: "Env", args: GenArgs) -> str | None:
    """The system prompt from -s or --system-file, or None."""
    if args.system_file is not None:
        return read_text(env, args.system_file, "--system-file")
    return args.system


def tool_box_of(env: "Env", args: "GenArgs") -> "ToolBox | None":
    """The ToolBox of --tool-exec (None without it: the tool modules are not even loaded)."""
    if not args.tool_exec:
        return None
    from mistral_cli.generation.tools_allowed import tool_box

    return tool_box(env, args)
