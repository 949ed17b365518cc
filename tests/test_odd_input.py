"""Bad local input: a closed stdin, config files that are not regular files or are absurd,
piped REPL input that ends midway, prompts from a pipe. Each is a usage error naming what is
wrong (exit 2) or works; never an internal error or a hang."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

TIMEOUT = 30  # bounds a hang; it measures nothing


def run_closed_stdin(*args: str, cwd) -> subprocess.CompletedProcess:
    """`python -m mistral_cli ARGS <&-`: a real process whose file descriptor 0 is closed."""
    return subprocess.run([sys.executable, "-m", "mistral_cli", *args], capture_output=True,
                          preexec_fn=lambda: os.close(0), env=dict(os.environ), cwd=cwd,
                          timeout=TIMEOUT, text=True)


@pytest.mark.parametrize(("args", "option"), [
    (["embeddings", "-f", "-"], "--input-file -"),
    (["classifiers", "moderate", "-f", "-"], "--input-file -"),
    (["chat", "--messages", "-"], "--messages -"),
    (["batch", "create", "--from-prompts", "-"], "--from-prompts -"),
    (["chat", "-i"], "the REPL (-i)"),
])
def test_a_closed_stdin_is_no_input_on_stdin(api, tmp_path, args, option):
    result = run_closed_stdin(*args, cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"mcli: error: {option}: standard input is closed"), result.stderr
    assert "internal error" not in result.stderr
    assert api.requests == []
