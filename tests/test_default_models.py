"""The default models: one table (config/profiles.KEYS), one reader (Env.model); embeddings,
OCR and classifiers do not load the generation package to learn theirs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mistral_cli.config.profiles import KEYS
from mistral_cli.env import Env
from mistral_cli.generation.endpoints import CHAT, FIM, GenerationEndpoint


def test_one_table_and_one_reader():
    assert "default_model" not in GenerationEndpoint._fields  # no second copy of the defaults
    assert not hasattr(Env, "setting")  # one reader: Env.model, over Env.effective
    assert {CHAT.model_setting, FIM.model_setting} <= set(KEYS)


@pytest.mark.parametrize("module", ["mistral_cli.commands.embeddings", "mistral_cli.commands.classifiers.group"])
def test_a_non_generation_command_does_not_load_generation_for_its_model(module):
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('mistral_cli.generation')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_profile_model_then_the_table_default(api, cli):
    result = cli("embeddings", "a", "-o", "json")
    assert result.exit_code == 0, result
    assert api.last().json["model"] == KEYS["model.embeddings"].default
    assert cli("config", "set", "model.embeddings", "my-embed").exit_code == 0
    assert cli("embeddings", "a", "-o", "json").exit_code == 0
    assert api.last().json["model"] == "my-embed"
    assert cli("embeddings", "a", "-m", "given", "-o", "json").exit_code == 0
    assert api.last().json["model"] == "given"
