"""The saved conversation a turn continues and is saved into.

`-c` continues the latest conversation of the command's kind, `--cid ID` that one (or a
new one under that id); otherwise a new conversation is created when the first exchange is
saved. With `--no-log` or `history = false` the store is never opened; otherwise it is opened
and its write lock tried before anything is sent, and `--cid NEW` creates that conversation
before sending, so a locked or corrupt database, or a race on a new id, never loses a billed
answer. The tools a turn sent are remembered with the conversation, so a continued turn (a
tool result, say) offers the model the same tools without repeating --tool.

An exchange is saved whole or not at all (one transaction), waiting for a lock another
process holds (store.schema.SAVE_WAIT_MS); when it still cannot be saved, `unsaved` keeps
the error, which names the conversation, and the REPL stops rather than go on with turns
the saved conversation lacks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mistral_cli.errors import StoreError, UsageError
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
        self.unsaved: StoreError | None = None  # why an answered exchange is not in the history
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
             complete: bool = True, timing: "Timing | None" = None, tools: list[dict] | None = None) -> None:
        """Append one exchange (and the TOOLS its request offered) to the history: in memory
        always, on disk when enabled, whole or not at all; a failure is kept in `unsaved`."""
        self.history.extend(messages)
        if not self.enabled or not messages:
            return
        from mistral_cli.store.conversations import Exchange, new_id

        self.cid = self.cid or new_id()
        exchange = Exchange(self.cid, messages, model, timing, finish_reason, complete, tools)
        try:
            self.cid = self.store.save_exchange(exchange, new=None if self.exists else (self.kind, self.agent_id))
        except StoreError as exc:
            self.unsaved = self._unsaved(exc)
            raise self.unsaved from exc
        self.exists = True
        self.model = model or self.model

    def _unsaved(self, exc: StoreError) -> StoreError:
        """The error that says the exchange just answered is not in conversation CID, and why."""
        before = (f"conversation {self.cid} holds the turns before it" if self.exists
                  else f"conversation {self.cid} was not created")
        return StoreError(f"the answer above was not saved in the history ({before}): {exc.message}",
                          hint=exc.hint)

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
