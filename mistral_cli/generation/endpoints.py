"""What differs between the generation endpoints: conversation kind, operation (its name in
api/operations.py's table), accepted fields, model setting.

The field sets mirror ChatCompletionRequest, AgentsCompletionRequest and FIMCompletionRequest
in the spec (a test keeps them in step). A field one of them has and this one lacks (`model`
for agents, `messages` for fim) is refused before sending; a field none of them has (newer
than the spec: `reasoning_effort`, `prompt_mode`) is sent with a warning (bodies/fields.py).
"""

from __future__ import annotations

from typing import NamedTuple

COMMON_FIELDS = frozenset({
    "messages", "max_tokens", "stop", "random_seed", "response_format", "tools", "tool_choice",
    "parallel_tool_calls", "presence_penalty", "frequency_penalty", "n", "prediction", "stream",
})
CHAT_FIELDS = COMMON_FIELDS | {"model", "temperature", "top_p", "safe_prompt"}
AGENTS_FIELDS = COMMON_FIELDS | {"agent_id"}
FIM_FIELDS = frozenset({"model", "prompt", "suffix", "temperature", "top_p", "max_tokens",
                        "min_tokens", "stream", "stop", "random_seed"})


class GenerationEndpoint(NamedTuple):
    """One generation operation: its conversation kind, operation name and request fields."""

    kind: str
    operation: str  # sent by api/operations.py's generate and generate_stream
    fields: frozenset[str]
    model_setting: str | None = None  # its default is in config/profiles.KEYS, read by Env.model

    @property
    def sibling_fields(self) -> frozenset[str]:
        """The fields another generation endpoint takes and this one does not."""
        return (CHAT_FIELDS | AGENTS_FIELDS | FIM_FIELDS) - self.fields

    @property
    def has_model(self) -> bool:
        """Whether requests name a model (agents use the agent's own)."""
        return "model" in self.fields


CHAT = GenerationEndpoint("chat", "chat.complete", CHAT_FIELDS, "model.chat")
AGENTS = GenerationEndpoint("agents", "agents.complete", AGENTS_FIELDS)
FIM = GenerationEndpoint("fim", "fim.complete", FIM_FIELDS, "model.fim")
