"""Server text with invisible format characters: bidi overrides and isolates (U+202E turns
`invoice\\u202elsx.exe` into what reads as `invoiceexe.xsl`), zero-width characters, the BOM,
tag characters, and the line and paragraph separators. Every human view shows them escaped,
the way error messages do (`\\u202e`); JSON and TSV stay byte-exact."""

from __future__ import annotations

import json
import re
import sys
import unicodedata

import pytest

from tests.fakeapi import json_response, sse_response, text_response
from tests.fakeapi.defaults import BATCH_ID, CREATED, FILE_ID, USAGE, base_model, batch_job, file_obj
from tests.terminal_helpers import COLORS, OTHER_ID, RICH_CODES, wide  # noqa: F401 (wide: a fixture)

NAME = "invoice\u202elsx.exe \u2066a\u2067b\u2068c\u2069 z\u200bw\ufeff\u2028\u2029\U000e0041\u00ad"
SHOWN = ("invoice\\u202elsx.exe \\u2066a\\u2067b\\u2068c\\u2069 z\\u200bw\\ufeff\\u2028\\u2029"
         "\\U000e0041\\xad")
FORMAT = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\u2028\u2029\U000e0000-\U000e007f]")




def visible(text: str) -> str:
    return RICH_CODES.sub("", text)


def assert_escaped(result, where: str = "stdout", code: int = 0) -> None:
    """RESULT ran, no format character reached the terminal, and the name shows escaped in WHERE."""
    assert result.exit_code == code, result
    for stream in (result.stdout, result.stderr):
        assert not FORMAT.search(stream), FORMAT.findall(stream)
    assert SHOWN in visible(getattr(result, where)), getattr(result, where)


def listing(*items: dict) -> dict:
    return {"object": "list", "data": list(items), "total": len(items)}


# -- the gate ------------------------------------------------------------------------------------


def test_every_format_character_and_separator_is_escaped_like_an_error_message():
    from mistral_cli.errors import redact
    from mistral_cli.render.safe_text import neutralise, safe_markup, safe_text

    unsafe = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    for char in [*unsafe, "\u2028", "\u2029"]:
        assert safe_text(f"a{char}b") == neutralise(f"a{char}b") == redact(f"a{char}b"), hex(ord(char))
    assert safe_markup(NAME) == safe_text(NAME) == SHOWN
    assert safe_text("a\x1b[2J\tb\nc é 中 🙂") == "a[2J\tb\nc é 中 🙂"


# -- the views -----------------------------------------------------------------------------------


@COLORS
def test_files_list_and_get(api, cli, color):
    api.add("GET", "/v1/files", json_response(listing(file_obj(filename=NAME))))
    api.add("GET", "/v1/files/{file_id}", json_response(file_obj(filename=NAME)))
    assert_escaped(cli("--color", color, "files", "list", tty=True))
    assert_escaped(cli("--color", color, "files", "get", FILE_ID, tty=True))


def test_files_list_off_a_terminal_stays_byte_exact(api, cli):
    api.add("GET", "/v1/files", json_response(listing(file_obj(filename=NAME))), times=2)
    assert NAME in cli("files", "list").stdout.split("\t")
    assert json.loads(cli("files", "list", "-o", "json").stdout)["data"][0]["filename"] == NAME


@COLORS
def test_models_list(api, cli, color):
    model_id = "invoice\u202elsx.exe\u2066\u200b"
    api.add("GET", "/v1/models", json_response(listing(base_model(model_id))))
    result = cli("--color", color, "models", "list", tty=True)
    assert result.exit_code == 0 and not FORMAT.search(result.stdout + result.stderr), result
    assert "invoice\\u202elsx.exe\\u2066\\u200b" in visible(result.stdout)


def chat_reply(api) -> None:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": CREATED, "model": "m",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": NAME}, "finish_reason": None}]}
    last = {**chunk, "usage": USAGE, "choices": [{"index": 0, "delta": {"content": "\n"}, "finish_reason": NAME}]}
    api.add("POST", "/v1/chat/completions", sse_response([chunk, last]))


@COLORS
@pytest.mark.parametrize("markdown", [(), ("--no-markdown",)])
def test_the_live_stream_and_the_finish_line(api, cli, color, markdown):
    chat_reply(api)
    result = cli("--color", color, "chat", "hi", "--no-stdin", *markdown, tty=True)
    assert_escaped(result)
    assert SHOWN in visible(result.stderr)  # the finish reason


def test_the_stream_off_a_terminal_stays_byte_exact(api, cli):
    chat_reply(api)
    assert cli("chat", "hi", "--no-stdin").stdout == NAME + "\n"


@COLORS
def test_history_show(api, cli, color):
    chat_reply(api)
    assert cli("chat", "hi", "--no-stdin").exit_code == 0
    assert_escaped(cli("--color", color, "history", "show", "latest", tty=True))
    assert_escaped(cli("--color", color, "history", "show", "latest", "-o", "text", tty=True))
    assert f"assistant: {NAME}" in cli("history", "show", "latest").stdout


def results_job() -> dict:
    return batch_job(status="SUCCESS") | {"output_file": FILE_ID, "error_file": OTHER_ID,
                                          "total_requests": 2, "succeeded_requests": 1, "failed_requests": 1}


@COLORS
def test_batch_results_answers(api, cli, color):
    answer = {"custom_id": "0", "error": None, "response": {
        "status_code": 200, "body": {"choices": [{"index": 0, "message": {"role": "assistant", "content": NAME}}]}}}
    failure = {"custom_id": "1", "error": {"message": NAME}, "response": None}
    api.add("GET", "/v1/batch/jobs/{job_id}", json_response(results_job()))
    api.add("GET", f"/v1/files/{FILE_ID}/content", text_response(json.dumps(answer) + "\n"))
    api.add("GET", f"/v1/files/{OTHER_ID}/content", text_response(json.dumps(failure) + "\n"))
    result = cli("--color", color, "batch", "results", BATCH_ID, "--answers", tty=True)
    assert_escaped(result)
    assert SHOWN in visible(result.stderr)  # the failed request


@COLORS
def test_the_progress_bar_of_batch_watch(api, cli, color, monkeypatch):
    from mistral_cli.commands.shared import watching

    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=lambda seconds: None, now=lambda: 0.0))
    api.add("GET", "/v1/batch/jobs/{job_id}", json_response(batch_job(status=NAME) | {"total_requests": 2}),
            times=1)
    api.add("GET", "/v1/batch/jobs/{job_id}", json_response(batch_job(status="FAILED")))
    result = cli("--color", color, "batch", "watch", BATCH_ID, tty=True)
    assert result.exit_code == 5, result
    for stream in (result.stdout, result.stderr):
        assert not FORMAT.search(stream), (FORMAT.findall(stream), result)
    assert SHOWN in visible(result.stdout + result.stderr), result
