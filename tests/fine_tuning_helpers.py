"""What the fine-tuning tests share: a chat training line, the job simulator and a small
training file (import the fixtures into a test module to use them)."""

from __future__ import annotations

import json

import pytest

from tests.fakeapi.ft_jobs import FineTuningSim

CHAT_LINE = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}


@pytest.fixture
def sim(api):
    """The fine-tuning job simulator on the fake API."""
    return FineTuningSim(api).install()


@pytest.fixture
def train(tmp_path):
    """A training file of three chat lines."""
    path = tmp_path / "train.jsonl"
    path.write_text((json.dumps(CHAT_LINE) + "\n") * 3)
    return path
