"""Server text that tries to drive the terminal: escape sequences (OSC 52 writes the user's
clipboard, `ESC[2J` clears the screen, OSC 8 hides a link), C1 controls and Rich markup
(`[link=...]`, an escaped `\\[blink]`, a stray `[/bold]`) in every field a human view shows.

On a terminal (`--color always`, where Rich writes its own colour codes, and `--color never`,
where it writes none) the output holds no ESC, BEL, DEL or C1 byte but Rich's own colour and
cursor codes, no live link, no MarkupError, and the text is still there, its markup shown
literally. Off a terminal TSV and raw text stay byte-exact, and JSON decodes to the body.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakeapi import error_400, json_response, sse_response, text_response
from tests.fakeapi.defaults import (BATCH_ID, CREATED, FILE_ID, JOB_ID, USAGE, base_model, batch_job,
                                    completion_job, file_obj)
from tests.terminal_helpers import COLORS, OTHER_ID, RICH_CODES, wide  # noqa: F401 (wide: a fixture)

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
CLEAR = "\x1b[2J"
OSC8 = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
C1 = "\x9b31m\x7f"
LINK = "[link=http://evil.example/]RUNNING[/link]"
BLINK = "\\[blink]x"
CLOSE = "[/bold]"
HOSTILE = OSC52 + CLEAR + OSC8 + C1 + LINK + BLINK + CLOSE
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SHOWN = CONTROLS.sub("", HOSTILE)  # what a terminal view shows: every control character gone




def assert_inert(text: str) -> None:
    """TEXT holds no control byte a terminal would act on, but Rich's own codes."""
    rest = RICH_CODES.sub("", text)
    bad = sorted({f"U+{ord(c):04X}" for c in CONTROLS.findall(rest) if c not in "\r"})
    assert not bad, f"control characters reached the terminal: {bad}\n{text!r}"
    assert "\x1b]8" not in text and "MarkupError" not in text


def assert_safe_view(result, *shown: str) -> None:
    """A view printed on a terminal: it ran, its streams are inert, SHOWN texts are visible."""
    assert result.exit_code == 0, result
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    for piece in shown or (SHOWN,):
        assert piece in RICH_CODES.sub("", result.stdout), (piece, result.stdout)


def listing(*items: dict) -> dict:
    return {"object": "list", "data": list(items), "total": len(items)}


# -- the one function -------------------------------------------------------------------------


SETTINGS = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
MARKUPISH = st.text(alphabet=st.sampled_from(list("[]/\\=ab:#@ \x1b\x9b\x07\n")), max_size=30)


@SETTINGS
@given(text=st.one_of(MARKUPISH, st.text(max_size=30)))
def test_safe_markup_renders_as_the_text_without_its_controls(text):
    from rich.text import Text

    from mistral_cli.render.safe_text import safe_markup, safe_text

    for wrapped in ("{}", "[bold]{}[/bold]", "{} [dim]x[/dim]"):
        rendered = Text.from_markup(wrapped.format(safe_markup(text)), emoji=False)
        assert rendered.plain == wrapped.replace("[bold]", "").replace("[/bold]", "").replace(
            "[dim]", "").replace("[/dim]", "").format(safe_text(text))  # format characters escaped
        assert safe_text(text) == safe_text(CONTROLS.sub("", text))
        assert all(span.style in ("bold", "dim") or span.style == "none" and span.start == span.end
                   for span in rendered.spans)


def test_safe_text_strips_every_control_but_tab_and_newline():
    from mistral_cli.render.safe_text import safe_text

    assert safe_text(HOSTILE) == SHOWN
    assert safe_text("a\tb\nc\r\x00\x7f\x80\x9fd") == "a\tb\ncd"
    assert safe_text(None) == "" and safe_text(12) == "12"


# -- tables and panels ------------------------------------------------------------------------


@COLORS
def test_files_list_and_get(api, cli, color):
    api.add("GET", "/v1/files", json_response(listing(file_obj(filename=HOSTILE, purpose=HOSTILE))))
    api.add("GET", "/v1/files/{file_id}", json_response({**file_obj(filename=HOSTILE), "deleted": False}))
    assert_safe_view(cli("--color", color, "files", "list", tty=True))
    assert_safe_view(cli("--color", color, "files", "get", FILE_ID, tty=True))


@COLORS
def test_models_list_and_get(api, cli, color):
    model = {**base_model(HOSTILE), "description": HOSTILE, "owned_by": HOSTILE, "aliases": [HOSTILE],
             "deprecation": HOSTILE, "created": HOSTILE}
    api.add("GET", "/v1/models", json_response(listing(model)))
    api.add("GET", "/v1/models/{model_id}", json_response(model))
    assert_safe_view(cli("--color", color, "models", "list", tty=True))
    assert_safe_view(cli("--color", color, "models", "get", "mistral-small-latest", tty=True))


def hostile_job(status: str = HOSTILE) -> dict:
    job = completion_job(status=status, detailed=True)
    job.update(model=HOSTILE, fine_tuned_model=HOSTILE, suffix=HOSTILE, training_files=[HOSTILE],
               hyperparameters={"learning_rate": HOSTILE})
    job["events"] = [{"name": HOSTILE, "created_at": CREATED, "data": {"status": HOSTILE}},
                     {"name": "status-updated", "created_at": CREATED + 1, "data": {"error": HOSTILE}}]
    return job


@COLORS
@pytest.mark.parametrize("status", [HOSTILE, LINK, CLOSE, BLINK])
def test_fine_tuning_list_shows_a_status_as_text(api, cli, color, status):
    api.add("GET", "/v1/fine_tuning/jobs", json_response(listing(hostile_job(status))))
    assert_safe_view(cli("--color", color, "fine-tuning", "list", tty=True), CONTROLS.sub("", status))


@COLORS
def test_fine_tuning_get(api, cli, color):
    api.add("GET", "/v1/fine_tuning/jobs/{job_id}", json_response({**hostile_job(), "id": HOSTILE}))
    assert_safe_view(cli("--color", color, "fine-tuning", "get", JOB_ID, tty=True))


@COLORS
def test_fine_tuning_watch_live_view(api, cli, color, monkeypatch):
    from mistral_cli.commands.shared import watching

    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=lambda seconds: None))
    api.add("GET", "/v1/fine_tuning/jobs/{job_id}", json_response({**hostile_job("SUCCESS"), "id": HOSTILE}))
    assert_safe_view(cli("--color", color, "fine-tuning", "watch", JOB_ID, tty=True))


def hostile_batch(status: str = HOSTILE, **fields) -> dict:
    job = batch_job(status=status)
    job.update(model=HOSTILE, endpoint=HOSTILE, metadata={"k": HOSTILE},
               errors=[{"message": HOSTILE, "count": 1}], **fields)
    return job


@COLORS
def test_batch_list_and_get(api, cli, color):
    api.add("GET", "/v1/batch/jobs", json_response(listing(hostile_batch())))
    api.add("GET", "/v1/batch/jobs/{job_id}", json_response(hostile_batch()))
    assert_safe_view(cli("--color", color, "batch", "list", tty=True))
    assert_safe_view(cli("--color", color, "batch", "get", BATCH_ID, tty=True))


@COLORS
def test_batch_watch_on_a_terminal(api, cli, color, monkeypatch):
    from mistral_cli.commands.shared import watching

    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=lambda seconds: None, now=lambda: 0.0))
    api.add("GET", "/v1/batch/jobs/{job_id}", json_response(hostile_batch()), times=1)
    api.add("GET", "/v1/batch/jobs/{job_id}", json_response(hostile_batch("FAILED", failed_requests=2)))
    result = cli("--color", color, "batch", "watch", BATCH_ID, tty=True)
    assert result.exit_code == 5, result
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    assert "MarkupError" not in result.stderr and "internal error" not in result.stderr
    assert LINK in result.stdout + result.stderr


def results_job() -> dict:
    return batch_job(status="SUCCESS") | {"output_file": FILE_ID, "error_file": OTHER_ID,
                                          "total_requests": 2, "succeeded_requests": 1, "failed_requests": 1}


def result_files(api) -> None:
    answer = {"custom_id": HOSTILE, "error": None, "response": {
        "status_code": 200, "body": {"choices": [{"index": 0, "message": {"role": "assistant", "content": HOSTILE}}]}}}
    failure = {"custom_id": HOSTILE, "error": {"message": HOSTILE}, "response": None}
    api.add("GET", "/v1/batch/jobs/{job_id}", json_response(results_job()))
    api.add("GET", f"/v1/files/{FILE_ID}/content", text_response(json.dumps(answer) + "\n"))
    api.add("GET", f"/v1/files/{OTHER_ID}/content", text_response(json.dumps(failure) + "\n"))


@COLORS
def test_batch_results_answers_on_a_terminal(api, cli, color):
    result_files(api)
    result = cli("--color", color, "batch", "results", BATCH_ID, "--answers", tty=True)
    escaped = SHOWN.replace("\\", "\\\\")
    assert_safe_view(result, f"{escaped}\t{escaped}")
    assert LINK in result.stderr  # the failed request, on stderr


def test_batch_results_answers_off_a_terminal_stay_byte_exact(api, cli):
    from mistral_cli.commands.batch.results import ESCAPES

    result_files(api)
    result = cli("batch", "results", BATCH_ID, "--answers")
    assert result.exit_code == 0, result
    assert result.stdout == f"{HOSTILE.translate(ESCAPES)}\t{HOSTILE.translate(ESCAPES)}\n"


# -- Markdown ----------------------------------------------------------------------------------


def ocr_reply(api, times: int = 1) -> None:
    pages = [{"index": index, "markdown": f"# {HOSTILE}\n\n{HOSTILE}\n", "images": [],
              "dimensions": {"dpi": 200, "height": 10, "width": 10}} for index in (HOSTILE, 1)]
    api.add("POST", "/v1/ocr", json_response({"model": HOSTILE, "pages": pages,
                                              "usage_info": {"pages_processed": HOSTILE}}), times=times)


MARKDOWN_SHOWN = ("]52;c;ZWNobyBwd25lZA==", LINK, CLOSE)  # Markdown reads `\[` as a bracket


@COLORS
def test_ocr_markdown_on_a_terminal(api, cli, color, tmp_path):
    image = tmp_path / "scan.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    ocr_reply(api, times=2)
    assert_safe_view(cli("--color", color, "ocr", image, tty=True), *MARKDOWN_SHOWN)
    assert_safe_view(cli("--color", color, "ocr", image, "-o", "text", tty=True), SHOWN)


def test_ocr_markdown_off_a_terminal_stays_byte_exact(api, cli, tmp_path):
    image = tmp_path / "scan.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    ocr_reply(api)
    result = cli("ocr", image)
    assert result.exit_code == 0, result
    assert f"# {HOSTILE}\n\n{HOSTILE}\n" in result.stdout


def hostile_chat(api) -> None:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": CREATED, "model": HOSTILE,
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": HOSTILE}, "finish_reason": None}]}
    last = {**chunk, "usage": USAGE,
            "choices": [{"index": 0, "delta": {"content": "\n"}, "finish_reason": HOSTILE}]}
    api.add("POST", "/v1/chat/completions", sse_response([chunk, last]))


@COLORS
def test_chat_usage_line_on_a_terminal(api, cli, color):
    hostile_chat(api)
    result = cli("--color", color, "chat", "hi", "--no-stdin", "--no-markdown", tty=True)
    assert_safe_view(result)
    assert LINK in result.stderr  # the finish reason, shown as text


@COLORS
def test_history_and_usage_on_a_terminal(api, cli, color):
    hostile_chat(api)
    assert cli("chat", "hi", "--no-stdin").exit_code == 0
    assert_safe_view(cli("--color", color, "history", "list", tty=True), SHOWN[:40])  # a model id is cut at 64
    assert_safe_view(cli("--color", color, "history", "show", "latest", tty=True), *MARKDOWN_SHOWN)
    assert_safe_view(cli("--color", color, "usage", tty=True), "total")  # an absurd model id is left out
    assert_safe_view(cli("--color", color, "history", "show", "latest", "-o", "text", tty=True))


def test_history_off_a_terminal_stays_byte_exact(api, cli):
    hostile_chat(api)
    assert cli("chat", "hi", "--no-stdin").exit_code == 0
    assert HOSTILE in cli("history", "list").stdout.split("\t")
    assert f"assistant: {HOSTILE}" in cli("history", "show", "latest").stdout
    assert cli("usage", "--by", "model").stdout.startswith(f"{HOSTILE}\t")


# -- the rest: classifiers, mcli api, errors, JSON ---------------------------------------------


@COLORS
def test_classifier_categories_on_a_terminal(api, cli, color):
    verdict = {"id": "m1", "model": HOSTILE, "results": [
        {"categories": {HOSTILE: True}, "category_scores": {HOSTILE: 0.9}}]}
    api.add("POST", "/v1/moderations", json_response(verdict), times=2)
    assert_safe_view(cli("--color", color, "classifiers", "moderate", "hello", "--no-stdin", tty=True))
    assert_safe_view(cli("--color", color, "classifiers", "moderate", "hello", "--no-stdin", "-o", "text",
                         tty=True))


def test_embedding_values_as_text_on_a_terminal(api, cli):
    reply = {"id": "e1", "object": "list", "model": "m", "usage": USAGE,
             "data": [{"object": "embedding", "index": 0, "embedding": [HOSTILE, 0.5]}]}
    api.add("POST", "/v1/embeddings", json_response(reply))
    result = cli("embeddings", "hello", "--no-stdin", "-o", "text", tty=True)
    assert result.exit_code == 1 and "embedding[0]: a string, not a number" in result.stderr  # not a vector
    assert_inert(result.stdout)
    assert_inert(result.stderr)


def test_mcli_api_text_on_a_terminal(api, cli):
    api.add("GET", "/v1/models", text_response(HOSTILE))
    assert_safe_view(cli("api", "GET", "/v1/models", tty=True))


@COLORS
def test_an_error_body_reaches_stderr_inert(api, cli, color):
    api.add("POST", "/v1/chat/completions", error_400(HOSTILE))
    result = cli("--color", color, "chat", "hi", "--no-stdin", tty=True)
    assert result.exit_code == 1, result
    assert_inert(result.stderr)
    assert LINK in result.stderr


@pytest.mark.parametrize("tty", [True, False])
def test_json_escapes_every_control_and_decodes_to_the_body(api, cli, tty):
    body = listing(file_obj(filename=HOSTILE))
    api.add("GET", "/v1/files", json_response(body), times=2)
    pretty = cli("files", "list", "-o", "json", tty=tty)
    lines = cli("files", "list", "-o", "jsonl", tty=tty)
    assert json.loads(pretty.stdout) == body
    assert json.loads(lines.stdout) == body["data"][0]
    for text in (pretty.stdout, lines.stdout):
        assert not CONTROLS.search(text.replace("\n", ""))


def test_tsv_off_a_terminal_stays_byte_exact(api, cli):
    api.add("GET", "/v1/files", json_response(listing(file_obj(filename=HOSTILE))))
    result = cli("files", "list")
    assert result.stdout.split("\t")[1] == HOSTILE


def test_combined_json_of_batched_requests_escapes_every_control(api, cli):
    verdict = {"id": "m1", "model": HOSTILE, "results": [
        {"categories": {"x": False}, "category_scores": {"x": 0.1, "note": HOSTILE}}]}
    api.add("POST", "/v1/moderations", json_response(verdict))
    result = cli("classifiers", "moderate", "hello", "--no-stdin", "-o", "json", tty=True)
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["model"] == HOSTILE
    assert not CONTROLS.search(result.stdout.replace("\n", ""))
