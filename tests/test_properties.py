"""Property tests (Hypothesis) for the parsers that meet untrusted text.

* Any split of a valid SSE event stream into network chunks, with LF or CRLF line ends and
  keep-alive comments, yields the same events and so the same answer.
* `mcli api -f KEY=VALUE` (split, typed value, body building, JSON encoding) and
  `--tool-result ID=TEXT` raise nothing but mistral_cli's own input error on any text.
"""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mistral_cli.api import raw
from mistral_cli.errors import MCLIError, UsageError
from mistral_cli.generation import messages
from mistral_cli.http.client import response_events

SETTINGS = settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


def chunk_event(text: str) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}}]}


def encode_stream(pieces: list[str], newline: str, comments: bool) -> bytes:
    out = []
    for piece in pieces:
        if comments:
            out.append(f": keep-alive{newline}{newline}")
        out.append(f"data: {json.dumps(chunk_event(piece), ensure_ascii=False)}{newline}{newline}")
    out.append(f"data: [DONE]{newline}{newline}")
    return "".join(out).encode("utf-8")


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def answer_of(chunks: list[bytes]) -> str:
    response = httpx.Response(200, content=iter(chunks))
    events = response_events(response)
    return "".join(event["choices"][0]["delta"]["content"] for event in events)


@SETTINGS
@given(pieces=st.lists(TEXT, max_size=8), cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=30),
       newline=st.sampled_from(["\n", "\r\n", "\r"]), comments=st.booleans())
def test_any_split_of_an_event_stream_gives_the_same_answer(pieces, cuts, newline, comments):
    data = encode_stream(pieces, newline, comments)
    assert answer_of(split_at(data, cuts)) == "".join(pieces)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_stream_cut_into_single_bytes_keeps_every_character(newline):
    """Multi-byte characters cut in two, CRLF cut in two, and the separators that JSON may
    carry raw (U+2028, U+0085) that are not line ends in an event stream."""
    pieces = ["é€😀", "a\u2028b", "c\x85d\u2029", "x"]
    data = encode_stream(pieces, newline, True)
    assert answer_of([data[i:i + 1] for i in range(len(data))]) == "".join(pieces)


def api_fields(specs: list[str]) -> bytes:
    """What `mcli api -f SPEC...` does to its fields before sending: split, type, build, encode."""
    fields = [raw.split_field(spec, "-f") for spec in specs]
    body = raw.build_body(None, [(key, raw.typed_value(value)) for key, value in fields])
    return json.dumps(body, allow_nan=False).encode("utf-8")


@SETTINGS
@given(specs=st.lists(st.one_of(TEXT, st.builds(lambda k, v: f"{k}={v}", TEXT, TEXT),
                                st.sampled_from(["a.b=1", "a=1e999", "a.b.=x", "=x", "a=[NaN]",
                                                 "a[]=1", "a.b=1", "a=-0", "a={\"x\":Infinity}"])),
                      max_size=5))
def test_key_value_fields_raise_only_the_input_error(specs):
    try:
        api_fields(specs)
    except UsageError:
        pass


def test_key_value_fields_refuse_a_number_json_cannot_carry():
    with pytest.raises(UsageError):
        api_fields(["a=1e999"])


@SETTINGS
@given(specs=st.lists(st.one_of(TEXT, st.builds(lambda k, v: f"{k}={v}", TEXT, TEXT)), max_size=5))
def test_tool_results_raise_only_the_input_error(specs):
    try:
        results = messages.read_tool_results(None, specs, [])
    except MCLIError as exc:
        assert isinstance(exc, UsageError)
        return
    assert all(results[key] == value for key, value in (spec.split("=", 1) for spec in specs))
