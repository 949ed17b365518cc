"""The saved conversation a turn continues and is saved into.

`-c` continues the latest conversation of the command's kind, `--cid ID` that one (or a
new one under that id); otherwise a new conversation is created when the first exchange is
saved. With `--no-log` or `history = false` the store is never opened; otherwise it is opened
and its write lock tried before anything is sent, and `--cid NEW` creates that conversation
before sending, so a locked or corrupt database, or a race on a new id, never loses a billed
answer. The tools a turn
sent are remembered with the conversation, so a continued turn (a tool result, say) offers
the model the same tools without repeating --tool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mistral_cli.errors import UsageError
from mistral_cli.generation.args import GenArgs
from mistral_cli.generation.endpoints import GenerationEndpoint

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.store.conversations import Conversation, ConversationStore, Timing

HISTORY_OFF = "the history is off (--no-log or `history = false` in the config)"


class Session:
    """A conversation: its id, its messages so far, and where it is saved (if anywhere)."""

    def __init__(self, env: "Env", endpoint: GenerationEndpoint, enabled: bool, agent_id: str | None = None):
        self.env = env
        self.kind = endpoint.kind
        self.enabled = enabled
        self.agent_id = agent_id
        self.cid: str | None = None
        self.model: str | None = None
        self.history: list[dict] = []
        self.exists = False
        self._store: ConversationStore | None = None

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, env: "Env", endpoint: GenerationEndpoint, args: GenArgs) -> "Session":
        """The session ARGS ask for: continued (-c, --cid) or new; checks need-a-history options."""
        session = cls(env, endpoint, enabled=not args.no_log and env.history_enabled,
                      agent_id=args.agent_id)
        if not session.enabled:
            if args.has_tool_results:
                raise UsageError(f"--tool-result needs a saved conversation, but {HISTORY_OFF}")
            if args.continues:
                raise UsageError(f"-c/--cid cannot continue a conversation: {HISTORY_OFF}")
            return session
        if args.has_tool_results and not args.continues:
            raise UsageError("--tool-result answers a saved conversation: add -c (the latest) or --cid ID")
        session.store.check_writable()  # a locked or broken database is found before sending
        if args.continue_conversation:
            session._resume_latest()
        elif args.cid is not None:
            session._resume_or_name(args.cid)
        return session

    @property
    def store(self) -> "ConversationStore":
        """The history database, opened on first use."""
        if self._store is None:
            from mistral_cli.store.conversations import open_store

            self._store = open_store(self.env)
        return self._store

    def _resume_latest(self) -> None:
        conversation = self.store.latest(self.kind)
        if conversation is None:
            raise UsageError(f"-c: there is no saved {self.kind} conversation to continue",
                             hint="start one without -c")
        self._adopt(conversation)

    def _resume_or_name(self, cid: str) -> None:
        """Continue conversation CID, or create it now, in one transaction, before anything is
        sent: parallel runs with the same new id all save their answers into it."""
        if not cid.strip():
            raise UsageError("--cid: the id must not be empty")
        self._adopt(self.store.claim(cid, self.kind, self.agent_id))

    def _adopt(self, conversation: "Conversation") -> None:
        self.cid = conversation.id
        self.model = conversation.model
        self.history = list(conversation.messages)
        self.exists = True
        if self.agent_id and conversation.agent_id and conversation.agent_id != self.agent_id:
            self.env.info(f"note: conversation {conversation.id} was with agent {conversation.agent_id}; "
                          f"continuing it with {self.agent_id}")
        self.agent_id = self.agent_id or conversation.agent_id

    # -- saving --------------------------------------------------------------------------------

    def save(self, messages: list[dict], *, model: str | None, finish_reason: str | None,
             complete: bool = True, timing: "Timing | None" = None) -> None:
        """Append one exchange to the history (in memory always, on disk when enabled)."""
        self.history.extend(messages)
        if not self.enabled or not messages:
            return
        if not self.exists:
            created = self.store.create(self.cid, self.kind, model, self.agent_id)
            self.cid, self.exists = created.id, True
        self.store.add_messages(self.cid, messages, model=model, finish_reason=finish_reason,
                                complete=complete, timing=timing)
        self.model = model or self.model

    def reset(self) -> None:
        """Forget the conversation: the next exchange starts a new one (REPL /clear)."""
        self.cid, self.model, self.history, self.exists = None, None, [], False

    def close(self) -> None:
        """Close the history database if it was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- tools remembered in the history ---------------------------------------------------

    def saved_tools(self) -> list[dict] | None:
        """The tools the conversation's last turn with tools sent, or None."""
        if not self.enabled or not self.exists:
            return None
        return self.store.tools(self.cid)

    def remember_tools(self, tools: list[dict] | None) -> None:
        """Keep TOOLS for later turns of this conversation (after it has been saved)."""
        if self.enabled and self.exists and tools is not None:
            self.store.set_tools(self.cid, tools)
