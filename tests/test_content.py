"""The two readings of message content (bodies/content.py): `words`, the model's words that
every answer path prints, saves and pipes, and `display_text`, what a person is shown."""

from __future__ import annotations

import pytest

from mistral_cli.bodies.content import display_text, words
from mistral_cli.generation.answer import Answer, pump

THINKING = {"type": "thinking", "thinking": [{"type": "text", "text": "Let me weigh this."}], "closed": True}
IMAGE = {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}
DOCUMENT = {"type": "document_url", "document_url": "https://x/d.pdf", "document_name": "d.pdf"}
REFERENCE = {"type": "reference", "reference_ids": [1, 2]}


@pytest.mark.parametrize(("content", "said"), [
    ("plain", "plain"),
    ("", ""),
    (None, ""),
    ([{"type": "text", "text": "a"}, {"text": "b"}], "ab"),
    ([THINKING, {"type": "text", "text": "The answer."}], "The answer."),
    ([IMAGE, DOCUMENT, REFERENCE, {"type": "text", "text": "x"}], "x"),
    ([{"type": "text", "text": None}, {"type": "text", "text": 5}, {"type": "text"}, "loose", 7, None, []], ""),
    ([{"type": "thinking", "text": "not the answer"}], ""),
    (42, ""),
    ({"text": "a dict is not content"}, ""),
])
def test_words_are_the_text_chunks_only(content, said):
    assert words(content) == said


def test_display_shows_text_and_a_placeholder_for_every_other_chunk():
    shown = display_text([THINKING, {"type": "text", "text": "see"}, IMAGE, DOCUMENT, REFERENCE])
    assert shown == "[thinking] see [image: https://x/cat.png] [document: d.pdf] [references: 1, 2]"
    assert display_text([{"type": "text", "text": None}, {"type": "text", "text": "a"}]) == "a"


def test_a_whole_answer_and_a_stream_keep_thinking_out_of_the_text():
    body = {"choices": [{"message": {"role": "assistant", "content": [THINKING, {"type": "text", "text": "Yes."}]}}]}
    assert Answer.from_response(body).text == "Yes."
    streamed, written = Answer(), []
    events = [{"choices": [{"delta": {"content": [THINKING]}}]},
              {"choices": [{"delta": {"content": [{"type": "text", "text": "Y"}]}}]},
              {"choices": [{"delta": {"content": "es."}, "finish_reason": "stop"}]}]
    pump(events, streamed, written.append)
    assert streamed.text == "Yes." and "".join(written) == "Yes."


def test_a_batch_answer_line_keeps_thinking_out():
    from mistral_cli.commands.batch.results import answer_text

    body = {"choices": [{"message": {"content": [THINKING, {"type": "text", "text": "Yes."}]}}]}
    assert answer_text(body) == "Yes."
