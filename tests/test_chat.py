"""End-to-end tests of `mcli chat` against the fake API (every request checked against the spec):
input, every request field, output formats, streaming failures, conversations, attachments."""

from __future__ import annotations

import json
import signal

import pytest

from tests.fakeapi import error_400, json_response, sse_response
from tests.generation_helpers import (chat_requests, chunk, completion, history_path, pdf_bytes,
                                      png_bytes, saved, text_chunks, write_config)
from tests.process_helpers import read_exactly, start_mcli

CHAT = "/v1/chat/completions"


def last_body(api) -> dict:
    return chat_requests(api)[-1].json


# -- input ---------------------------------------------------------------------------------------

def test_an_answer_that_ends_in_a_newline_gets_no_second_one(api, cli):
    api.add("POST", CHAT, sse_response(text_chunks("line one\n", "line two\n")))
    result = cli("chat", "Two lines")
    assert result.exit_code == 0, result
    assert result.stdout == "line one\nline two\n"


def test_prompt_streams_answer_to_stdout(api, cli):
    api.add("POST", CHAT, sse_response(text_chunks("Hel", "lo", " world")))
    result = cli("chat", "Say hello")
    assert result.exit_code == 0, result
    assert result.stdout == "Hello world\n"
    assert last_body(api) == {"model": "mistral-small-latest", "stream": True,
                              "messages": [{"role": "user", "content": "Say hello"}]}
    assert chat_requests(api)[-1].headers["Accept"] == "text/event-stream"


def test_piped_stdin_follows_the_prompt_after_a_blank_line(api, cli):
    result = cli("chat", "summarise this", input="line one\nline two\n")
    assert result.exit_code == 0, result
    assert last_body(api)["messages"] == [
        {"role": "user", "content": "summarise this\n\nline one\nline two\n"}]


def test_piped_stdin_alone_is_the_prompt(api, cli):
    assert cli("chat", input="just the pipe").exit_code == 0
    assert last_body(api)["messages"][0]["content"] == "just the pipe"


def test_no_stdin_ignores_the_pipe(api, cli):
    assert cli("chat", "only this", "--no-stdin", input="ignored").exit_code == 0
    assert last_body(api)["messages"][0]["content"] == "only this"


def test_nothing_to_send_is_a_usage_error(api, cli):
    result = cli("chat", input="")  # off a terminal; on one, `mcli chat` alone starts the REPL
    assert result.exit_code == 2
    assert "nothing to send" in result.stderr
    assert api.requests == []


def test_model_option_profile_default_and_builtin_default(api, cli):
    assert cli("chat", "a", "-m", "open-mistral-nemo").exit_code == 0
    assert last_body(api)["model"] == "open-mistral-nemo"
    write_config('[profiles.default.model]\nchat = "mistral-large-latest"\n')
    assert cli("chat", "b").exit_code == 0
    assert last_body(api)["model"] == "mistral-large-latest"


def test_system_prompt_and_system_file(api, cli, tmp_path):
    assert cli("chat", "hi", "-s", "Be terse.").exit_code == 0
    assert last_body(api)["messages"] == [{"role": "system", "content": "Be terse."},
                                          {"role": "user", "content": "hi"}]
    path = tmp_path / "system.txt"
    path.write_text("From a file.")
    assert cli("chat", "hi", "--system-file", path, "--no-log").exit_code == 0
    assert last_body(api)["messages"][0] == {"role": "system", "content": "From a file."}


def test_messages_file_json_array_and_jsonl(api, cli, tmp_path):
    listed = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    array = tmp_path / "m.json"
    array.write_text(json.dumps(listed))
    assert cli("chat", "--messages", array).exit_code == 0
    assert last_body(api)["messages"] == listed
    lines = tmp_path / "m.jsonl"
    lines.write_text("\n".join(json.dumps(m) for m in listed) + "\n\n")
    assert cli("chat", "--messages", lines, "and more", "--no-log").exit_code == 0
    assert last_body(api)["messages"] == listed + [{"role": "user", "content": "and more"}]


def test_messages_from_stdin_take_precedence_over_the_prompt_pipe(api, cli):
    listed = [{"role": "user", "content": "from stdin"}]
    assert cli("chat", "--messages", "-", input=json.dumps(listed)).exit_code == 0
    assert last_body(api)["messages"] == listed


@pytest.mark.parametrize("content, message", [
    ('[{"role": "robot", "content": "x"}]', "role 'robot'"),
    ("[1, 2]", "not a JSON object"),
    ('{"role": "user"', "not valid JSON"),
])
def test_bad_messages_file_is_refused(api, cli, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = cli("chat", "--messages", path)
    assert result.exit_code == 2
    assert "--messages" in result.stderr and message in result.stderr
    assert api.requests == []


def test_body_is_the_base_and_options_go_on_top(api, cli, tmp_path):
    path = tmp_path / "body.json"
    path.write_text(json.dumps({"model": "from-body", "temperature": 0.1, "max_tokens": 9,
                                "messages": [{"role": "user", "content": "from body"}]}))
    assert cli("chat", "--body", path, "--temperature", "0.5", "and prompt").exit_code == 0
    body = last_body(api)
    assert body["model"] == "from-body" and body["temperature"] == 0.5 and body["max_tokens"] == 9
    assert body["messages"] == [{"role": "user", "content": "from body"},
                                {"role": "user", "content": "and prompt"}]


def test_body_from_stdin_is_not_read_as_prompt(api, cli):
    body = {"messages": [{"role": "user", "content": "b"}], "stream": False}
    api.add("POST", CHAT, json_response(completion("whole")))
    result = cli("chat", "--body", "-", input=json.dumps(body))
    assert result.exit_code == 0, result
    assert last_body(api)["messages"] == body["messages"]
    assert last_body(api)["stream"] is False
    assert result.stdout == "whole\n"


@pytest.mark.parametrize("body, message", [
    ({"temperature": 3}, "--body field temperature must be between 0 and 1.5"),
    ({"n": 0}, "--body field n must be at least 1"),
    ({"max_tokens": "many"}, "--body field max_tokens must be an integer"),
    ({"agent_id": "x"}, "agent_id not accepted by chat"),
])
def test_bad_body_is_refused_before_sending(api, cli, tmp_path, body, message):
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    result = cli("chat", "hi", "--body", path)
    assert result.exit_code == 2
    assert message in result.stderr
    assert api.requests == []


# -- every request field -------------------------------------------------------------------------

def test_sampling_options_reach_the_request(api, cli):
    result = cli("chat", "hi", "--temperature", "0.2", "--top-p", "0.9", "--max-tokens", "50",
                 "--stop", "END", "--stop", "STOP", "--seed", "7", "-n", "1",
                 "--presence-penalty", "0.5", "--frequency-penalty", "-0.5", "--safe-prompt",
                 "--no-parallel-tool-calls")
    assert result.exit_code == 0, result
    body = last_body(api)
    assert {k: body[k] for k in ("temperature", "top_p", "max_tokens", "stop", "random_seed", "n",
                                 "presence_penalty", "frequency_penalty", "safe_prompt",
                                 "parallel_tool_calls")} == {
        "temperature": 0.2, "top_p": 0.9, "max_tokens": 50, "stop": ["END", "STOP"],
        "random_seed": 7, "n": 1, "presence_penalty": 0.5, "frequency_penalty": -0.5,
        "safe_prompt": True, "parallel_tool_calls": False}


@pytest.mark.parametrize("option, value, message", [
    ("--temperature", "1.6", "--temperature must be between 0 and 1.5"),
    ("--temperature", "-0.1", "--temperature must be between 0 and 1.5"),
    ("--top-p", "1.01", "--top-p must be between 0 and 1"),
    ("--max-tokens", "-1", "--max-tokens must be at least 0"),
    ("--seed", "-3", "--seed must be at least 0"),
    ("-n", "0", "-n must be at least 1"),
    ("--presence-penalty", "2.5", "--presence-penalty must be between -2 and 2"),
    ("--frequency-penalty", "-2.5", "--frequency-penalty must be between -2 and 2"),
])
def test_out_of_range_values_are_refused_naming_the_option(api, cli, option, value, message):
    result = cli("chat", "hi", option, value)
    assert result.exit_code == 2
    assert message in result.stderr
    assert api.requests == []


def test_prefix_is_a_final_assistant_message_and_not_saved(api, cli):
    api.add("POST", CHAT, sse_response(text_chunks("Once upon", " a time")))
    assert cli("chat", "Tell a story", "--prefix", "Once upon").exit_code == 0
    assert last_body(api)["messages"][-1] == {"role": "assistant", "content": "Once upon", "prefix": True}
    _conversation, records = saved("chat")
    assert [r.message for r in records] == [{"role": "user", "content": "Tell a story"},
                                            {"role": "assistant", "content": "Once upon a time"}]


def test_prediction_text_and_file(api, cli, tmp_path):
    assert cli("chat", "fix", "--prediction", "x = 1").exit_code == 0
    assert last_body(api)["prediction"] == {"type": "content", "content": "x = 1"}
    path = tmp_path / "code.py"
    path.write_text("y = 2\n")
    assert cli("chat", "fix", "--prediction-file", path).exit_code == 0
    assert last_body(api)["prediction"] == {"type": "content", "content": "y = 2\n"}
    result = cli("chat", "fix", "--prediction", "a", "--prediction-file", path)
    assert result.exit_code == 2 and "--prediction" in result.stderr


def test_json_mode(api, cli):
    assert cli("chat", "JSON please", "--json-mode").exit_code == 0
    assert last_body(api)["response_format"] == {"type": "json_object"}


def test_schema_bare_gets_a_name_from_its_title(api, cli, tmp_path):
    schema = {"title": "Person record", "type": "object", "properties": {"name": {"type": "string"}}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(schema))
    assert cli("chat", "a person", "--schema", path, "--strict").exit_code == 0
    assert last_body(api)["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "Person_record", "schema": schema, "strict": True}}


def test_schema_wrapper_and_schema_name(api, cli, tmp_path):
    wrapper = {"name": "person", "description": "A person", "schema": {"type": "object"}, "strict": False}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(wrapper))
    assert cli("chat", "x", "--schema", path).exit_code == 0
    assert last_body(api)["response_format"]["json_schema"] == wrapper
    assert cli("chat", "x", "--schema", "-", "--schema-name", "thing", input='{"type": "object"}').exit_code == 0
    assert last_body(api)["response_format"]["json_schema"] == {"name": "thing", "schema": {"type": "object"}}


@pytest.mark.parametrize("args, message", [
    (["--strict"], "--strict needs --schema"),
    (["--schema-name", "x"], "--schema-name needs --schema"),
    (["--json-mode", "--schema", "s.json"], "--json-mode and --schema cannot be used together"),
    (["--schema", "missing.json"], "--schema: no such file"),
    (["-c", "--cid", "abc"], "-c/--continue and --cid cannot be used together"),
    (["--messages", "-", "--body", "-"], "only one option can read stdin"),
])
def test_conflicting_or_incomplete_options(api, cli, args, message):
    result = cli("chat", "hi", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert api.requests == []


# -- output ---------------------------------------------------------------------------------------

def test_no_stream_prints_the_whole_answer(api, cli):
    api.add("POST", CHAT, json_response(completion("All at once.")))
    result = cli("chat", "hi", "--no-stream")
    assert result.exit_code == 0, result
    assert result.stdout == "All at once.\n"
    assert last_body(api)["stream"] is False


def test_n_above_one_prints_each_choice_under_a_header(api, cli):
    api.add("POST", CHAT, json_response(completion("Answer", choices=2)))
    result = cli("chat", "hi", "-n", "2")
    assert result.exit_code == 0, result
    assert last_body(api)["stream"] is False and last_body(api)["n"] == 2
    assert result.stdout == "--- choice 1 of 2 ---\nAnswer #1\n\n--- choice 2 of 2 ---\nAnswer #2\n"


def test_output_json_assembles_the_stream(api, cli):
    api.add("POST", CHAT, sse_response(text_chunks("Hello", " there")))
    result = cli("chat", "hi", "-o", "json")
    assert result.exit_code == 0, result
    assert last_body(api)["stream"] is True
    assert json.loads(result.stdout) == {
        "id": "cmpl-t", "object": "chat.completion", "created": 1718000000,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Hello there", "tool_calls": None}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


def test_output_json_without_stream_is_the_body_unchanged(api, cli):
    body = completion("exact")
    api.add("POST", CHAT, json_response(body))
    result = cli("chat", "hi", "-o", "json", "--no-stream")
    assert json.loads(result.stdout) == body


def test_output_jsonl_prints_every_chunk(api, cli):
    events = text_chunks("a", "b")
    api.add("POST", CHAT, sse_response(events))
    result = cli("chat", "hi", "-o", "jsonl")
    assert result.exit_code == 0, result
    assert [json.loads(line) for line in result.stdout.splitlines()] == events


def test_usage_line_on_stderr_with_verbose(api, cli):
    result = cli("chat", "hi", "-v")
    assert "tokens: 10 prompt + 5 completion = 15" in result.stderr
    assert "finish: stop" in result.stderr
    quiet = cli("chat", "hi")
    assert "tokens:" not in quiet.stderr


def test_terminal_output_ends_with_a_newline(api, cli):
    result = cli("chat", "hi", "--no-markdown", tty=True)
    assert result.exit_code == 0, result
    assert result.stdout == "Hello from the fake API!\n"


# -- failures -------------------------------------------------------------------------------------

def test_cut_stream_keeps_partial_answer_exits_1_and_saves_incomplete(api, cli):
    api.add("POST", CHAT, sse_response(text_chunks("Partial", " answer", " never"), cut_after=2))
    result = cli("chat", "hi")
    assert result.exit_code == 1
    assert result.stdout == "Partial answer\n"
    assert "mcli: error: the connection broke" in result.stderr
    conversation, records = saved("chat")
    assert conversation.incomplete
    assert records[-1].message == {"role": "assistant", "content": "Partial answer"}
    assert records[-1].incomplete



def test_a_store_failure_while_saving_a_cut_answer_does_not_hide_the_cut(api, cli, monkeypatch):
    from mistral_cli.generation.session import Session
    from mistral_cli.store import StoreError

    def broken_save(*_args, **_kwargs):
        raise StoreError("history database: disk I/O error")

    monkeypatch.setattr(Session, "save", broken_save)
    api.add("POST", CHAT, sse_response(text_chunks("Partial", " answer", " never"), cut_after=2))
    result = cli("chat", "hi")
    assert result.exit_code == 1
    assert result.stdout == "Partial answer\n"
    assert "the exchange was not saved: history database: disk I/O error" in result.stderr
    assert "mcli: error: the connection broke" in result.stderr

def test_error_event_mid_stream_keeps_partial_answer(api, cli):
    events = [chunk("Half", role="assistant"), {"object": "error", "message": "model overloaded"}]
    api.add("POST", CHAT, sse_response(events))
    result = cli("chat", "hi")
    assert result.exit_code == 1
    assert result.stdout == "Half\n"
    assert "model overloaded" in result.stderr
    assert saved("chat")[1][-1].incomplete


def test_http_error_before_the_stream_saves_nothing(api, cli):
    api.add("POST", CHAT, error_400("Invalid model: nope"))
    result = cli("chat", "hi", "-m", "nope")
    assert result.exit_code == 1
    assert "Invalid model: nope" in result.stderr
    assert saved("chat") == (None, [])


def test_ctrl_c_exits_130_without_traceback_and_saves_partial(api, run_mcli):
    events = text_chunks("first ", "second ", "third ", "fourth")
    api.add("POST", CHAT, sse_response(events, delay=0.4))
    proc = start_mcli("chat", "hi")
    try:
        assert read_exactly(proc.stdout, 6) == b"first "
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert b"Traceback" not in err
    conversation, records = saved("chat")
    assert records[-1].incomplete
    assert records[-1].message["content"].startswith("first ")
    assert f"partial answer is kept, marked incomplete, in conversation {conversation.id}" in err.decode()


def test_closed_output_pipe_exits_0_quietly(api):
    api.add("POST", CHAT, sse_response(text_chunks(*(["word "] * 20000))))
    proc = start_mcli("chat", "hi", "--no-log")
    try:
        assert read_exactly(proc.stdout, 10) == b"word word "
        proc.stdout.close()
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert err == b""

# -- conversations --------------------------------------------------------------------------------

def test_continue_sends_the_history_and_saves_both_exchanges(api, cli):
    assert cli("chat", "first", "-s", "Sys").exit_code == 0
    assert cli("chat", "-c", "second").exit_code == 0
    assert last_body(api)["messages"] == [
        {"role": "system", "content": "Sys"}, {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Hello from the fake API!"},
        {"role": "user", "content": "second"}]
    conversation, records = saved("chat")
    assert len(records) == 5 and conversation.model == "mistral-small-latest"


def test_continue_keeps_the_conversation_model_unless_told(api, cli):
    assert cli("chat", "first", "-m", "open-mistral-nemo").exit_code == 0
    assert cli("chat", "-c", "second").exit_code == 0
    assert last_body(api)["model"] == "open-mistral-nemo"


def test_new_system_prompt_on_continue_replaces_the_old_one(api, cli):
    assert cli("chat", "first", "-s", "Old").exit_code == 0
    assert cli("chat", "-c", "second", "-s", "New").exit_code == 0
    messages = last_body(api)["messages"]
    assert messages[0] == {"role": "system", "content": "New"}
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]


def test_continue_without_a_conversation_is_a_usage_error(api, cli):
    result = cli("chat", "-c", "hi")
    assert result.exit_code == 2
    assert "no saved chat conversation" in result.stderr
    assert api.requests == []


def test_cid_starts_a_named_conversation_then_continues_it(api, cli):
    assert cli("chat", "one", "--cid", "project-x").exit_code == 0
    assert cli("chat", "unrelated").exit_code == 0
    assert cli("chat", "two", "--cid", "project-x").exit_code == 0
    assert [m["content"] for m in last_body(api)["messages"]] == ["one", "Hello from the fake API!", "two"]
    store_conversation, records = saved("chat")
    assert store_conversation.id == "project-x" and len(records) == 4


def saved_text() -> bytes:
    """Every byte of the history database (the ledger's counts live there too)."""
    return b"".join(path.read_bytes() for path in history_path().parent.glob("history.db*"))


def test_no_log_saves_nothing(api, cli):
    assert cli("chat", "secret", "--no-log").exit_code == 0
    assert saved() == (None, []) and b"secret" not in saved_text()
    result = cli("chat", "-c", "more", "--no-log")
    assert result.exit_code == 2 and "history is off" in result.stderr


def test_history_false_in_config_saves_nothing(api, cli):
    write_config("[profiles.default]\nhistory = false\n")
    assert cli("chat", "secret").exit_code == 0
    assert saved() == (None, []) and b"secret" not in saved_text()


def test_usage_is_recorded_with_the_exchange(api, cli):
    assert cli("chat", "hi").exit_code == 0
    rows = json.loads(cli("usage", "--by", "model", "-o", "json").stdout)
    assert [{key: row[key] for key in ("model", "requests", "prompt_tokens", "completion_tokens",
                                       "total_tokens")} for row in rows] == [
        {"model": "mistral-small-latest", "requests": 1, "prompt_tokens": 10, "completion_tokens": 5,
         "total_tokens": 15}]


# -- attachments ----------------------------------------------------------------------------------

def test_local_image_is_sent_as_a_data_url(api, cli, tmp_path):
    image = tmp_path / "pixel.bin"  # the type comes from the content, not the name
    image.write_bytes(png_bytes())
    assert cli("chat", "what is this?", "-a", image).exit_code == 0
    content = last_body(api)["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "what is this?"}
    import base64

    assert content[1] == {"type": "image_url",
                          "image_url": "data:image/png;base64," + base64.b64encode(png_bytes()).decode()}


def test_jpeg_image_type_is_detected(api, cli, tmp_path):
    image = tmp_path / "photo.png"
    image.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    assert cli("chat", "x", "-a", image).exit_code == 0
    assert last_body(api)["messages"][0]["content"][1]["image_url"].startswith("data:image/jpeg;base64,")


def test_urls_are_images_unless_they_end_in_pdf_or_come_with_doc(api, cli):
    result = cli("chat", "compare", "-a", "https://example.com/cat.jpg", "-a", "https://example.com/paper.PDF",
                 "--doc", "https://example.com/download?id=3")
    assert result.exit_code == 0, result
    assert last_body(api)["messages"][0]["content"][1:] == [
        {"type": "image_url", "image_url": "https://example.com/cat.jpg"},
        {"type": "document_url", "document_url": "https://example.com/paper.PDF", "document_name": "paper.PDF"},
        {"type": "document_url", "document_url": "https://example.com/download?id=3", "document_name": "download"}]


@pytest.mark.parametrize("attachment", ["https://example.com/clip.mp3", "clip.mp3"])
def test_an_attachment_of_a_type_mcli_does_not_know_is_refused_by_url_as_by_file(api, cli, tmp_path,
                                                                                 attachment):
    (tmp_path / "clip.mp3").write_bytes(b"ID3\x03\x00" + b"\x00" * 20)
    target = attachment if attachment.startswith("https") else str(tmp_path / attachment)
    result = cli("chat", "what is this?", "-a", target)
    assert result.exit_code == 2, result
    assert "neither an image (PNG, JPEG, GIF, WebP) nor a PDF" in result.stderr
    assert api.requests == []


def test_local_pdf_is_uploaded_for_ocr_and_sent_as_a_signed_url(api, cli, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_bytes())
    result = cli("chat", "summarise", "-a", pdf)
    assert result.exit_code == 0, result
    upload = api.last("POST", "/v1/files")
    assert upload.form == {"purpose": "ocr"} and upload.file().filename == "report.pdf"
    file_id = next(iter(api.files))
    assert api.last("GET", "/v1/files/{file_id}/url").path == f"/v1/files/{file_id}/url"
    assert last_body(api)["messages"][0]["content"][1] == {
        "type": "document_url", "document_url": f"https://files.example.invalid/{file_id}?sig=abc",
        "document_name": "report.pdf"}
    assert file_id in result.stderr
    _conversation, records = saved("chat")
    assert records[0].message["content"][1]["mcli_file_id"] == file_id


@pytest.mark.parametrize("route, answer", [("/v1/files/{file_id}/url", {"url": None}),
                                           ("/v1/files", {"id": 5, "object": "file"})],
                         ids=["signed-url", "upload-id"])
def test_a_pdf_whose_upload_or_url_answer_is_malformed_sends_no_chat(api, cli, tmp_path, route, answer):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_bytes())
    api.add("GET" if route.endswith("/url") else "POST", route, json_response(answer))
    result = cli("chat", "summarise", "-a", pdf)
    assert result.exit_code == 1, result
    assert "unexpected response from " in result.stderr and "internal error" not in result.stderr
    assert api.requests_to("POST", "/v1/chat/completions") == []


def test_continuing_after_a_pdf_asks_for_a_fresh_signed_url(api, cli, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_bytes())
    assert cli("chat", "summarise", "-a", pdf).exit_code == 0
    file_id = next(iter(api.files))
    api.add("GET", "/v1/files/{file_id}/url", json_response({"url": "https://files.example.invalid/fresh"}))
    assert cli("chat", "-c", "more detail").exit_code == 0
    assert len(api.requests_to("GET", "/v1/files/{file_id}/url")) == 2
    assert len(api.requests_to("POST", "/v1/files")) == 1
    assert last_body(api)["messages"][0]["content"][1]["document_url"] == "https://files.example.invalid/fresh"
    assert file_id == api.requests_to("GET", "/v1/files/{file_id}/url")[-1].path.split("/")[3]


@pytest.mark.parametrize("make, message", [
    (None, "no such file"),
    (lambda p: p.write_text("plain text"), "neither an image"),
    (lambda p: p.mkdir(), "not a file"),
])
def test_bad_attachment_is_refused_before_any_request(api, cli, tmp_path, make, message):
    path = tmp_path / "thing"
    if make:
        make(path)
    result = cli("chat", "look", "-a", path)
    assert result.exit_code == 2
    assert "-a/--attach" in result.stderr and message in result.stderr
    assert api.requests == []


def test_doc_uploads_a_local_file_whatever_its_type(api, cli, tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04 not really a docx")
    assert cli("chat", "read", "--doc", path, "--no-log").exit_code == 0
    assert api.last("POST", "/v1/files").file().filename == "notes.docx"
    assert last_body(api)["messages"][0]["content"][1]["type"] == "document_url"


def test_doc_refuses_a_file_no_document_endpoint_reads_before_any_upload(api, cli, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("plain text\n")
    result = cli("chat", "read", "--doc", path, "--no-log")
    assert result.exit_code == 2 and "not a .pdf or .docx or .pptx file" in result.stderr
    assert "PDF, Word (.docx) or PowerPoint (.pptx)" in result.stderr
    assert api.requests == []


def test_help_shows_examples(cli):
    result = cli("chat", "--help")
    assert result.exit_code == 0
    assert "Examples" in result.stdout and "--tool-result" in result.stdout

