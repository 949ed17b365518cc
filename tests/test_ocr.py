"""`mcli ocr` against the fake API: each kind of DOCUMENT, every OCRRequest field on the wire,
the Markdown output and --output-dir, and the --pages parser under Hypothesis. The tests make
their own small PDF and PNG."""

from __future__ import annotations

import base64
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mistral_cli.batchrun import adopt
from mistral_cli.commands.ocr.group import MAX_PAGE, parse_pages
from mistral_cli.errors import UsageError
from tests.fakeapi import error_empty, error_proxy_text, json_response
from tests.fakeapi.responses import Drop
from tests.ocr_helpers import ocr_body, page, pdf_bytes, png_bytes
from tests.resume_helpers import printed_command

PATH = "/v1/ocr"
FILE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes"


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "scan.png"
    path.write_bytes(png_bytes())
    return path


@pytest.fixture
def pdf(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes())
    return path


# -- the document ---------------------------------------------------------------------------------


def test_a_local_png_goes_inline_as_a_data_url(api, cli, png):
    result = cli("ocr", png)
    assert result.exit_code == 0, result
    sent = api.last("POST", PATH).json
    assert sent["model"] == "mistral-ocr-latest"
    assert sent["document"]["type"] == "image_url"
    assert sent["document"]["image_url"] == "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    assert api.requests_to("POST", "/v1/files") == []
    assert result.stdout == "# Page 1\n\nHello.\n"


def test_a_local_pdf_is_uploaded_for_ocr_and_sent_by_its_signed_url(api, cli, pdf):
    result = cli("ocr", pdf)
    assert result.exit_code == 0, result
    upload = api.last("POST", "/v1/files")
    assert upload.form == {"purpose": "ocr"}
    assert upload.file("file").size == len(pdf_bytes())
    file_id = next(iter(api.files))
    assert api.last("POST", PATH).json["document"] == {
        "type": "document_url", "document_url": f"https://files.example.invalid/{file_id}?sig=abc",
        "document_name": "report.pdf"}
    assert api.requests_to("DELETE", "/v1/files/{file_id}") == []
    assert f"uploaded report.pdf as file {file_id}" in result.stderr


@pytest.mark.parametrize("answer", [[], {}, {"url": 5}, {"url": ""}], ids=["list", "no-url", "number", "empty"])
@pytest.mark.parametrize("document", ["file", "pdf"])
def test_a_signed_url_answer_without_a_url_is_an_unexpected_response_and_nothing_is_sent(
        api, cli, pdf, answer, document):
    api.add("GET", "/v1/files/{file_id}/url", json_response(answer))
    result = cli("ocr", f"file:{FILE_ID}" if document == "file" else pdf)
    assert result.exit_code == 1, result
    assert "unexpected response from GET /v1/files/" in result.stderr and "/url: " in result.stderr
    assert "internal error" not in result.stderr
    assert api.requests_to("POST", PATH) == []


def test_delete_upload_removes_the_uploaded_copy_when_ocr_is_refused(api, cli, pdf):
    api.add("POST", PATH, error_empty(422))
    result = cli("ocr", pdf, "--delete-upload")
    assert result.exit_code != 0
    deleted = api.last("DELETE", "/v1/files/{file_id}")
    assert deleted.path_params["file_id"] not in api.files
    assert "deleted the uploaded copy" in result.stderr
    assert "stays in your account" not in result.stderr
    assert "deleted after use (--delete-upload)" in result.stderr


def test_delete_upload_keeps_the_upload_a_failure_without_a_sure_answer_needs_then_the_same_command_reuses_it(
        api, cli, pdf):
    api.add("POST", PATH, error_empty(500), times=1)
    first = cli("ocr", pdf, "--delete-upload", "--max-retries", "0")
    assert first.exit_code == 1
    assert api.requests_to("DELETE", "/v1/files/{file_id}") == []
    [file_id] = api.files
    assert f"kept the uploaded copy (file {file_id})" in first.stderr
    assert "the OCR request may have been processed and billed" in first.stderr
    second = cli(*printed_command(first.stderr))
    assert second.exit_code == 0, second
    assert len(api.requests_to("POST", "/v1/files")) == 1
    assert f"reusing the earlier upload of report.pdf as file {file_id}" in second.stderr
    assert api.last("DELETE", "/v1/files/{file_id}").path_params["file_id"] == file_id


def test_the_same_document_is_uploaded_once_and_reused_while_it_is_there(api, cli, pdf, tmp_path):
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(pdf_bytes())
    assert cli("ocr", pdf).exit_code == 0
    again = cli("ocr", copy)
    assert again.exit_code == 0, again
    [file_id] = api.files
    assert len(api.requests_to("POST", "/v1/files")) == 1
    assert f"reusing the earlier upload of copy.pdf as file {file_id}" in again.stderr
    api.files.clear()  # deleted on the server: uploaded again
    api.add("GET", "/v1/files/{file_id}", error_empty(404))
    assert cli("ocr", pdf).exit_code == 0
    assert len(api.requests_to("POST", "/v1/files")) == 2


def stored_then(api, response):
    """The next upload is stored by the server, then answered with RESPONSE (its answer is lost)."""
    from tests.fakeapi.defaults import DEFAULTS

    def handler(req):
        DEFAULTS["files_api_routes_upload_file"](api, req)
        return response

    stub = api.add("POST", "/v1/files", handler, times=1)
    api.stubs.remove(stub)
    api.stubs.insert(0, stub)


@pytest.mark.parametrize("response", [pytest.param(json_response({"detail": "Request Timeout"}, 408), id="408"),
                                      pytest.param(error_proxy_text(502), id="502"),
                                      pytest.param(Drop(), id="dropped")])
def test_an_upload_acted_on_without_a_sure_answer_is_found_by_the_printed_command(api, cli, pdf, monkeypatch,
                                                                                   response):
    monkeypatch.setattr(adopt, "settle", lambda _seconds: None)
    stored_then(api, response)
    first = cli("ocr", pdf)
    assert first.exit_code != 0 and "the upload of report.pdf may exist on the server" in first.stderr, first
    assert api.requests_to("POST", PATH) == []
    again = cli(*printed_command(first.stderr))
    assert again.exit_code == 0, again
    [file_id] = api.files
    assert f"found the upload of report.pdf as file {file_id}" in again.stderr
    assert len(api.requests_to("POST", "/v1/files")) == 1
    assert api.last("POST", PATH).json["document"]["document_url"].endswith(f"/{file_id}?sig=abc")


def test_a_refused_upload_is_sent_again_without_looking(api, cli, pdf):
    api.add("POST", "/v1/files", error_empty(422), times=1)
    assert cli("ocr", pdf).exit_code != 0
    again = cli("ocr", pdf)
    assert again.exit_code == 0, again
    assert api.requests_to("GET", "/v1/files") == []
    assert len(api.requests_to("POST", "/v1/files")) == 2 and "uploaded report.pdf as file" in again.stderr


@pytest.mark.parametrize("document", ["pdf", "url", "file"])
def test_document_name_is_sent(api, cli, pdf, document):
    given = {"pdf": pdf, "url": "https://example.com/paper.pdf", "file": f"file:{FILE_ID}"}[document]
    assert cli("ocr", given, "--document-name", "Q3 report").exit_code == 0
    assert api.last("POST", PATH).json["document"]["document_name"] == "Q3 report"


def test_document_name_is_refused_for_an_image(api, cli, png):
    result = cli("ocr", png, "--document-name", "x")
    assert result.exit_code == 2 and "--document-name" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("url, chunk", [
    ("https://example.com/paper.pdf", {"type": "document_url", "document_url": "https://example.com/paper.pdf",
                                       "document_name": "paper.pdf"}),
    ("https://example.com/photo.JPG", {"type": "image_url", "image_url": "https://example.com/photo.JPG"}),
])
def test_a_url_is_sent_as_it_is(api, cli, url, chunk):
    assert cli("ocr", url).exit_code == 0
    assert api.last("POST", PATH).json["document"] == chunk


def test_file_id_is_sent_by_a_fresh_signed_url(api, cli):
    assert cli("ocr", f"file:{FILE_ID}").exit_code == 0
    assert api.last("GET", "/v1/files/{file_id}/url").path_params["file_id"] == FILE_ID
    assert api.last("POST", PATH).json["document"] == {
        "type": "document_url", "document_url": f"https://files.example.invalid/{FILE_ID}?sig=abc"}


@pytest.mark.parametrize("args, message", [
    (["file:nope"], "file id"),
    (["missing.pdf"], "no such file"),
    (["x.png", "--pages", "1-0"], "ends before it starts"),
    (["x.png", "--image-limit", "-1"], "--image-limit"),
    (["x.png", "--image-min-size", "-2"], "--image-min-size"),
])
def test_bad_input_stops_before_any_request(api, cli, args, message):
    result = cli("ocr", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert api.requests == []


# -- every field on the wire ------------------------------------------------------------------------


def test_every_option_reaches_the_request(api, cli, png):
    result = cli("ocr", png, "-m", "mistral-ocr-2505", "--pages", "0,2-4,3", "--include-images",
                 "--image-limit", "5", "--image-min-size", "64", "--id", "req-42")
    assert result.exit_code == 0, result
    sent = api.last("POST", PATH).json
    assert {key: value for key, value in sent.items() if key != "document"} == {
        "model": "mistral-ocr-2505", "pages": [0, 2, 3, 4], "include_image_base64": True,
        "image_limit": 5, "image_min_size": 64, "id": "req-42"}


def test_the_profile_model_and_no_include_images(api, cli, png):
    assert cli("config", "set", "model.ocr", "ocr-from-profile").exit_code == 0
    assert cli("ocr", png, "--no-images").exit_code == 0
    sent = api.last("POST", PATH).json
    assert (sent["model"], sent["include_image_base64"]) == ("ocr-from-profile", False)


def test_a_5xx_is_retried_because_ocr_creates_nothing(api, cli, png):
    api.add("POST", PATH, error_empty(503), times=1)
    assert cli("ocr", png).exit_code == 0
    assert len(api.requests_to("POST", PATH)) == 2


# -- output ------------------------------------------------------------------------------------------


def test_several_pages_are_marked_and_json_is_the_body(api, cli, png):
    body = ocr_body(page(0, "# One"), page(2, "# Three"))
    api.add("POST", PATH, json_response(body), times=3)
    text = cli("ocr", png)
    assert text.stdout == "<!-- page 0 -->\n\n# One\n\n<!-- page 2 -->\n\n# Three\n"
    assert json.loads(cli("ocr", png, "-o", "json").stdout) == body
    assert [json.loads(line)["index"] for line in cli("ocr", png, "-o", "jsonl").stdout.splitlines()] == [0, 2]


def test_on_a_terminal_the_markdown_is_rendered(api, cli, png, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    api.add("POST", PATH, json_response(ocr_body(page(0, "# Title\n\n**bold**"), page(1, "x"))))
    result = cli("ocr", png, tty=True)
    assert "page 1" in result.stdout and "**bold**" not in result.stdout and "bold" in result.stdout
    assert "pages processed: 2" in result.stderr


def test_output_dir_writes_pages_and_images_with_links_rewritten(api, cli, png, tmp_path):
    images = [{"id": "img-0.jpeg", "top_left_x": 0, "top_left_y": 0, "bottom_right_x": 10,
               "bottom_right_y": 10, "image_base64": "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()},
              {"id": "img-1", "top_left_x": 0, "top_left_y": 0, "bottom_right_x": 5, "bottom_right_y": 5,
               "image_base64": base64.b64encode(png_bytes()).decode()}]
    api.add("POST", PATH, json_response(ocr_body(
        page(0, "# Intro\n\n![img-0.jpeg](img-0.jpeg)\n\n![img-1](img-1)", images), page(3, "no images"))))
    out = tmp_path / "out"
    result = cli("ocr", png, "--output-dir", out)
    assert result.exit_code == 0, result
    assert api.last("POST", PATH).json["include_image_base64"] is True
    assert (out / "page-000-img-0.jpeg").read_bytes() == JPEG
    assert (out / "page-000-img-1.png").read_bytes() == png_bytes()  # suffix from the bytes
    assert (out / "page-000.md").read_text() == (
        "# Intro\n\n![img-0.jpeg](page-000-img-0.jpeg)\n\n![img-1](page-000-img-1.png)\n")
    assert (out / "page-003.md").read_text() == "no images\n"
    assert result.stdout.splitlines() == [str(out / "page-000.md"), str(out / "page-003.md")]
    assert "wrote 2 page(s) and 2 image(s)" in result.stderr


def test_output_dir_skips_an_image_that_is_not_base64(api, cli, png, tmp_path):
    images = [{"id": "img-0.png", "top_left_x": 0, "top_left_y": 0, "bottom_right_x": 1,
               "bottom_right_y": 1, "image_base64": "data:image/png;base64,@@not base64@@"}]
    api.add("POST", PATH, json_response(ocr_body(page(0, "![a](img-0.png)", images))))
    result = cli("ocr", png, "--output-dir", tmp_path / "out")
    assert result.exit_code == 0, result
    assert "not valid base64" in result.stderr
    assert (tmp_path / "out" / "page-000.md").read_text() == "![a](img-0.png)\n"


def png_image(image_id: str = "img-0.png") -> dict:
    return {"id": image_id, "top_left_x": 0, "top_left_y": 0, "bottom_right_x": 1, "bottom_right_y": 1,
            "image_base64": base64.b64encode(png_bytes()).decode()}


def test_output_dir_names_images_by_position_never_by_the_servers_id(api, cli, png, tmp_path):
    long_id = "../../" + "x" * 300
    api.add("POST", PATH, json_response(ocr_body(page(0, f"![a]({long_id})", [png_image(long_id)]))))
    out = tmp_path / "a" / "out"
    result = cli("ocr", png, "--output-dir", out)
    assert result.exit_code == 0, result
    assert sorted(os.listdir(tmp_path / "a")) == ["out"]
    assert sorted(os.listdir(out)) == ["page-000-img-0.png", "page-000.md"]
    assert (out / "page-000.md").read_text() == "![a](page-000-img-0.png)\n"


@pytest.mark.parametrize("name", ["page-000.md", "page-000-img-0.png"])
def test_output_dir_follows_no_planted_symlink(api, cli, png, tmp_path, name):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(victim)
    api.add("POST", PATH, json_response(ocr_body(page(0, "![a](img-0.png)", [png_image()]))), times=2)
    refused = cli("ocr", png, "--output-dir", out)
    assert victim.read_text() == "precious"
    assert refused.exit_code == 2 and "already holds OCR output" in refused.stderr
    assert api.requests == []  # refused before the request is paid for
    forced = cli("ocr", png, "--output-dir", out, "--force")
    assert forced.exit_code == 0, forced
    assert victim.read_text() == "precious"
    assert not (out / name).is_symlink()
    assert (out / "page-000.md").read_text() == "![a](page-000-img-0.png)\n"
    assert (out / "page-000-img-0.png").read_bytes() == png_bytes()


def test_output_dir_keeps_existing_files_unless_force(api, cli, png, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "page-002.md").write_text("my notes")
    refused = cli("ocr", png, "--output-dir", out)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert (out / "page-002.md").read_text() == "my notes" and api.requests == []
    api.add("POST", PATH, json_response(ocr_body(page(2, "# Two"))))
    assert cli("ocr", png, "--output-dir", out, "-f").exit_code == 0
    assert (out / "page-002.md").read_text() == "# Two\n"


def test_output_dir_refuses_a_file_in_its_place_before_the_request(api, cli, png, tmp_path):
    (tmp_path / "out").write_text("a file")
    result = cli("ocr", png, "--output-dir", tmp_path / "out")
    assert result.exit_code == 2 and "is not a folder" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("pages", [
    [page(2, "# Two"), page(2, "# Also two?")],
    [page(1, "# One"), {"markdown": "no index, second in the answer", "images": []}],
])
def test_output_dir_refuses_two_pages_with_one_name(api, cli, png, tmp_path, pages):
    api.add("POST", PATH, json_response(ocr_body(*pages)))
    out = tmp_path / "out"
    result = cli("ocr", png, "--output-dir", out)
    assert result.exit_code == 1
    assert "pages[0] and pages[1] would both be page-00" in result.stderr
    assert "nothing was written" in result.stderr
    assert not out.exists() or os.listdir(out) == []


# -- --pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, pages", [("0", [0]), ("0,2-4", [0, 2, 3, 4]), (" 3 , 1-2 ", [3, 1, 2]),
                                         ("2,2,1-2", [2, 1]), (f"{MAX_PAGE}", [MAX_PAGE])])
def test_pages_parse(text, pages):
    assert parse_pages(text) == pages


@pytest.mark.parametrize("text, bad", [("0,x", "'x'"), ("1-", "'1-'"), ("", "''"), ("0,,1", "''"),
                                       ("-1", "'-1'"), ("4-2", "'4-2'"), ("٣", "'٣'"),
                                       ("1_0", "'1_0'"), (f"0-{MAX_PAGE + 1}", "goes past")])
def test_pages_errors_name_the_bad_part(text, bad):
    with pytest.raises(UsageError, match="--pages") as caught:
        parse_pages(text)
    assert bad in caught.value.message


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(), st.from_regex(r"[0-9 ,\-]{0,30}", fullmatch=True)))
def test_pages_parser_raises_only_usage_errors(text):
    try:
        pages = parse_pages(text)
    except UsageError:
        return
    assert pages and all(isinstance(n, int) and 0 <= n <= MAX_PAGE for n in pages)


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_a_document_on_standard_input_is_read(api, cli, name):
    result = cli("ocr", name, input=pdf_bytes())
    assert result.exit_code == 0, result
    assert api.last("POST", "/v1/files").file("file").content == pdf_bytes()
    assert api.last("POST", PATH).json["document"]["document_name"] == "stdin"


def test_a_document_on_standard_input_is_resumed_by_the_printed_command_given_the_same_input(api, cli):
    api.add("POST", PATH, error_empty(500), times=1)
    first = cli("ocr", "-", "--max-retries", "0", input=pdf_bytes())
    assert first.exit_code == 1
    assert ", given the same standard input: mcli ocr - --max-retries 0" in first.stderr, first
    again = cli(*printed_command(first.stderr), input=pdf_bytes())
    assert again.exit_code == 0, again
    assert len(api.requests_to("POST", "/v1/files")) == 1 and "reusing the earlier upload of stdin" in again.stderr
    assert len(api.requests_to("POST", PATH)) == 2


def test_the_same_document_uploading_in_another_process_is_refused_with_what_to_do_not_uploaded_twice(api, cli, pdf):
    import sqlite3

    from mistral_cli.batchrun.lock import RunLock
    from mistral_cli.config.paths import data_dir

    assert cli("ocr", pdf).exit_code == 0
    with sqlite3.connect(data_dir(os.environ) / "history.db") as db:
        [(tag,)] = db.execute("SELECT tag FROM batch_runs WHERE kind = 'ocr upload'").fetchall()
    lock = RunLock(os.environ)
    lock.hold(tag)  # as another process uploading the same bytes would
    try:
        busy = cli("ocr", pdf)
    finally:
        lock.release()
    assert busy.exit_code == 1
    assert "the upload of report.pdf is in progress in another mcli process" in busy.stderr
    assert "--new" not in busy.stderr
    assert len(api.requests_to("POST", "/v1/files")) == 1 and len(api.requests_to("POST", PATH)) == 1


# -- what the endpoint takes, checked before any upload -----------------------------------------

def test_a_document_ocr_cannot_read_or_too_big_is_refused_before_any_upload(api, cli, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    result = cli("ocr", notes)
    assert result.exit_code == 2 and "not a .pdf or .docx or .pptx file" in result.stderr
    assert "OCR reads PDF, Word (.docx) and PowerPoint (.pptx) files and images" in result.stderr
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.write(pdf_bytes())
        handle.truncate(51 * 1024 * 1024)  # sparse: nothing is written past the header
    result = cli("ocr", big)
    assert result.exit_code == 2 and "over the 50 MB" in result.stderr
    assert api.requests == []
