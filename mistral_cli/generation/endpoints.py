"""What differs between the generation endpoints: conversation kind, API module, accepted
fields, model setting.

The field sets mirror ChatCompletionRequest, AgentsCompletionRequest and FIMCompletionRequest
in the spec (a test keeps them in step); a `--body` key outside them is refused before sending.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

COMMON_FIELDS = frozenset({
    "messages", "max_tokens", "stop", "random_seed", "response_format", "tools", "tool_choice",
    "parallel_tool_calls", "presence_penalty", "frequency_penalty", "n", "prediction", "stream",
})
CHAT_FIELDS = COMMON_FIELDS | {"model", "temperature", "top_p", "safe_prompt"}
AGENTS_FIELDS = COMMON_FIELDS | {"agent_id"}
FIM_FIELDS = frozenset({"model", "prompt", "suffix", "temperature", "top_p", "max_tokens",
                        "min_tokens", "stream", "stop", "random_seed"})


class GenerationEndpoint(NamedTuple):
    """One generation operation: its conversation kind, API module and request fields."""

    kind: str
    api_module: str
    fields: frozenset[str]
    model_setting: str | None = None  # its default is in config/profiles.KEYS, read by Env.model

    @property
    def api(self) -> Any:
        """The api/ module with `complete(client, body)` and `stream(client, body)`."""
        return importlib.import_module(self.api_module)

    @property
    def has_model(self) -> bool:
        """Whether requests name a model (agents use the agent's own)."""
        return "model" in self.fields


CHAT = GenerationEndpoint("chat", "mistral_cli.api.chat", CHAT_FIELDS, "model.chat")
AGENTS = GenerationEndpoint("agents", "mistral_cli.api.agents", AGENTS_FIELDS)
FIM = GenerationEndpoint("fim", "mistral_cli.api.fim", FIM_FIELDS, "model.fim")
