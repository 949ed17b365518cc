"""`mcli api`: the raw escape hatch, against the fake API (every request checked against the spec)."""

from __future__ import annotations

import json

import pytest

from mistral_cli.api import raw
from mistral_cli.errors import UsageError
from tests.fakeapi import (error_400, error_401_detail, error_422, error_empty, expected_bytes,
                           json_response, sse_response, text_response)
from tests.fakeapi.defaults import FILE_ID, base_model, chat_chunks, file_obj, ft_model

MESSAGES = [{"role": "user", "content": "Hi"}]


def lines_of(text: str) -> list:
    return [json.loads(line) for line in text.splitlines()]


# -- parsing, no server ------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("true", True), ("false", False), ("null", None), ("42", 42), ("-3", -3), ("0.2", 0.2),
    ("1e-3", 0.001), ("007", "007"), ("1.", "1."), ("nan", "nan"), ("hello", "hello"),
    ('[{"a":1}]', [{"a": 1}]), ('{"type":"json_object"}', {"type": "json_object"}),
    ("[draft] notes", "[draft] notes"), ("@file", "@file"), ("", ""),
])
def test_typed_value(text, value):
    assert raw.typed_value(text) == value


def test_build_body_nests_dotted_keys_on_top_of_the_base():
    base = {"model": "a", "response_format": {"type": "text", "extra": 1}, "temperature": 1}
    body = raw.build_body(base, [("response_format.type", "json_object"), ("temperature", 0.2),
                                 ("input", "x"), ("input", "y"), ("stop[]", "END"),
                                 ("tool_choice.function.name", "f")])
    assert body == {"model": "a", "response_format": {"type": "json_object", "extra": 1},
                    "temperature": 0.2, "input": ["x", "y"], "stop": ["END"],
                    "tool_choice": {"function": {"name": "f"}}}
    assert base["response_format"]["type"] == "text"  # the base is not modified


def test_build_body_refuses_to_nest_under_a_scalar():
    with pytest.raises(UsageError, match="model is not an object"):
        raw.build_body({"model": "a"}, [("model.name", "b")])


@pytest.mark.parametrize("path, expected", [
    ("/v1/models", "/v1/models"), ("v1/models", "/v1/models"),
    ("http://127.0.0.1:9/v1/models?x=1", "/v1/models?x=1"),
])
def test_normalize_path(path, expected):
    assert raw.normalize_path(path, "http://127.0.0.1:9/") == expected


def test_normalize_path_refuses_another_server():
    with pytest.raises(UsageError, match="not on the configured server"):
        raw.normalize_path("https://evil.example/v1/models", "http://127.0.0.1:9")


def test_combine_pages_keeps_the_first_shape_and_concatenates_new_items():
    pages = [({"object": "list", "data": [1, 2], "total": 3}, [1, 2]),
             ({"object": "list", "data": [2, 3], "total": 3}, [3])]
    assert raw.combine(pages) == {"object": "list", "data": [1, 2, 3], "total": 3}


# -- GET and DELETE: query parameters ----------------------------------------------------


def test_get_prints_the_body_indented(api, cli):
    result = cli("api", "GET", "/v1/models")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == {"object": "list", "data": [base_model(), ft_model()]}
    assert result.stdout.startswith('{\n  "object": "list"')
    assert api.last().path == "/v1/models"


def test_method_is_case_insensitive_and_the_slash_optional(api, cli):
    result = cli("api", "get", "v1/models/mistral-small-latest")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["id"] == "mistral-small-latest"
    assert api.last().method == "GET"


def test_get_fields_become_query_parameters_and_repeat_for_lists(api, cli, tmp_path):
    (tmp_path / "search.txt").write_text("train\n")
    result = cli("api", "GET", "/v1/files", "-f", "page=0", "-f", "page_size=5",
                 "-f", "sample_type=instruct", "-f", "sample_type=pretrain",
                 "-F", f"search=@{tmp_path / 'search.txt'}")
    assert result.exit_code == 0, result
    query = api.last().query
    assert query == {"page": ["0"], "page_size": ["5"], "sample_type": ["instruct", "pretrain"],
                     "search": ["train"]}


def test_delete_sends_no_body(api, cli):
    result = cli("api", "DELETE", f"/v1/files/{FILE_ID}")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == {"id": FILE_ID, "object": "file", "deleted": True}
    assert api.last().method == "DELETE" and not api.last().body


def test_jsonl_prints_list_items_one_per_line(api, cli):
    result = cli("api", "GET", "/v1/models", "-o", "jsonl")
    assert result.exit_code == 0, result
    assert lines_of(result.stdout) == [base_model(), ft_model()]


def test_body_is_refused_for_get(api, cli, tmp_path):
    (tmp_path / "b.json").write_text("{}")
    result = cli("api", "GET", "/v1/models", "--body", str(tmp_path / "b.json"))
    assert result.exit_code == 2
    assert "--body" in result.stderr
    assert api.requests == []


# -- POST, PUT, PATCH: JSON bodies --------------------------------------------------------


def test_post_fields_build_a_typed_nested_body(api, cli, tmp_path):
    (tmp_path / "messages.json").write_text(json.dumps(MESSAGES))
    result = cli("api", "POST", "/v1/chat/completions", "-f", "model=mistral-small-latest",
                 "-F", f"messages=@{tmp_path / 'messages.json'}", "-f", "temperature=0.2",
                 "-f", "max_tokens=5", "-f", "safe_prompt=false",
                 "-f", "response_format.type=json_object", "-f", "stop=END", "-f", "stop=STOP")
    assert result.exit_code == 0, result
    assert api.last().json == {"model": "mistral-small-latest", "messages": MESSAGES,
                               "temperature": 0.2, "max_tokens": 5, "safe_prompt": False,
                               "response_format": {"type": "json_object"},
                               "stop": ["END", "STOP"]}
    assert json.loads(result.stdout)["object"] == "chat.completion"


def test_body_file_is_the_base_and_fields_go_on_top(api, cli, tmp_path):
    base = {"model": "mistral-small-latest", "messages": MESSAGES, "temperature": 1.0,
            "response_format": {"type": "text"}}
    (tmp_path / "req.json").write_text(json.dumps(base))
    result = cli("api", "POST", "/v1/chat/completions", "--body", str(tmp_path / "req.json"),
                 "-f", "temperature=0.5", "-f", "response_format.type=json_object")
    assert result.exit_code == 0, result
    assert api.last().json == {**base, "temperature": 0.5, "response_format": {"type": "json_object"}}


def test_input_alias_reads_the_body_from_stdin(api, cli):
    body = {"model": "mistral-embed", "input": ["a", "b"]}
    result = cli("api", "POST", "/v1/embeddings", "--input", "-", input=json.dumps(body))
    assert result.exit_code == 0, result
    assert api.last().json == body
    assert len(json.loads(result.stdout)["data"]) == 2


def test_patch_with_a_body(api, cli):
    result = cli("api", "PATCH", "/v1/fine_tuning/models/ft:open-mistral-7b:587a6b29:20240514:7e773925",
                 "-f", "name=support bot")
    assert result.exit_code == 0, result
    assert api.last().json == {"name": "support bot"}
    assert json.loads(result.stdout)["name"] == "support bot"


def test_post_without_fields_sends_no_body(api, cli):
    result = cli("api", "POST", "/v1/fine_tuning/models/ft:open-mistral-7b:587a6b29:20240514:7e773925/archive")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["archived"] is True
    assert not api.last().body


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_invalid_body_exits_2_naming_the_option(api, cli, tmp_path, content):
    (tmp_path / "bad.json").write_text(content)
    result = cli("api", "POST", "/v1/chat/completions", "--body", str(tmp_path / "bad.json"))
    assert result.exit_code == 2
    assert "--body" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("args, option", [
    (("-f", "model"), "-f"), (("-f", "=x"), "-f"), (("-F", "messages=msgs.json"), "-F"),
    (("-F", "messages=@missing.json"), "-F"), (("-f", "a=1", "-f", "a.b=2"), "-f"),
])
def test_bad_fields_exit_2_before_any_request(api, cli, args, option):
    result = cli("api", "POST", "/v1/chat/completions", *args)
    assert result.exit_code == 2, result
    assert option in result.stderr
    assert api.requests == []


def test_unknown_method_exits_2(api, cli):
    result = cli("api", "FETCH", "/v1/models")
    assert result.exit_code == 2
    assert api.requests == []


def test_another_server_is_refused(api, cli):
    result = cli("api", "GET", "https://api.example.invalid/v1/models")
    assert result.exit_code == 2
    assert "PATH" in result.stderr
    assert api.requests == []


def test_full_url_on_the_configured_server_is_accepted(api, cli):
    result = cli("api", "GET", f"{api.url}/v1/models")
    assert result.exit_code == 0, result
    assert api.last().path == "/v1/models"


def test_query_in_the_path_is_kept_for_a_post(api, cli):
    result = cli("api", "POST", "/v1/fine_tuning/jobs?dry_run=true", "-f", "model=open-mistral-7b",
                 "-f", "hyperparameters.learning_rate=0.0001")
    assert result.exit_code == 0, result
    assert api.last().query == {"dry_run": ["true"]}
    assert api.last().json == {"model": "open-mistral-7b", "hyperparameters": {"learning_rate": 0.0001}}
    assert json.loads(result.stdout)["object"] == "job.metadata"


# -- streaming -----------------------------------------------------------------------------


def test_stream_true_prints_events_as_json_lines(api, cli):
    result = cli("api", "POST", "/v1/chat/completions", "-f", "model=mistral-small-latest",
                 "-f", f"messages={json.dumps(MESSAGES)}", "-f", "stream=true")
    assert result.exit_code == 0, result
    assert lines_of(result.stdout) == chat_chunks("mistral-small-latest")
    assert api.last().headers["Accept"] == "text/event-stream"


def test_a_cut_stream_keeps_what_arrived_and_exits_1(api, cli):
    events = chat_chunks("mistral-small-latest")
    api.add("POST", "/v1/chat/completions", sse_response(events, cut_after=2))
    result = cli("api", "POST", "/v1/chat/completions", "-f", "model=mistral-small-latest",
                 "-f", f"messages={json.dumps(MESSAGES)}", "-f", "stream=true")
    assert result.exit_code == 1
    assert lines_of(result.stdout) == events[:2]


# -- pagination ----------------------------------------------------------------------------


def _paged_files(total: int, total_key: bool = True):
    files = [file_obj(fid=f"00000000-0000-4000-8000-{i:012d}") for i in range(total)]

    def respond(request):
        page = int(request.query.get("page", ["0"])[0])
        size = int(request.query.get("page_size", ["100"])[0])
        body = {"object": "list", "data": files[page * size:(page + 1) * size]}
        if total_key:
            body["total"] = total
        return json_response(body)

    return files, respond


def test_paginate_gathers_every_page_into_one_list(api, cli):
    files, respond = _paged_files(5)
    api.add("GET", "/v1/files", respond)
    result = cli("api", "GET", "/v1/files", "-f", "page_size=2", "--paginate")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == {"object": "list", "data": files, "total": 5}
    assert [r.query["page"] for r in api.requests] == [["0"], ["1"], ["2"]]
    assert all(r.query["page_size"] == ["2"] for r in api.requests)


def test_paginate_without_total_stops_at_a_short_page(api, cli):
    files, respond = _paged_files(4, total_key=False)
    api.add("GET", "/v1/files", respond)
    result = cli("api", "GET", "/v1/files", "-f", "page_size=2", "--paginate", "-o", "jsonl")
    assert result.exit_code == 0, result
    assert lines_of(result.stdout) == files
    assert [r.query["page"] for r in api.requests] == [["0"], ["1"], ["2"]]


def test_paginate_stops_when_a_server_ignores_page(api, cli):
    api.add("GET", "/v1/batch/jobs", json_response({"object": "list", "data": [{"id": "b1"}]}))
    result = cli("api", "GET", "/v1/batch/jobs", "--paginate")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == {"object": "list", "data": [{"id": "b1"}]}
    assert len(api.requests) == 2


def test_paginate_needs_get(api, cli):
    result = cli("api", "POST", "/v1/files", "--paginate")
    assert result.exit_code == 2
    assert "--paginate" in result.stderr


# -- multipart and raw bytes -----------------------------------------------------------------


def test_paginate_refuses_a_list_the_spec_does_not_page(api, cli):
    result = cli("api", "GET", "/v1/models", "--paginate")
    assert result.exit_code == 2, result
    assert "not a paged list" in result.stderr
    assert api.requests == []


def test_post_files_sends_a_streamed_multipart_upload(api, cli, tmp_path):
    data = b'{"messages": []}\n' * 1000
    (tmp_path / "train.jsonl").write_bytes(data)
    result = cli("api", "POST", "/v1/files", "-F", f"file=@{tmp_path / 'train.jsonl'}",
                 "-f", "purpose=fine-tune")
    assert result.exit_code == 0, result
    request = api.last()
    assert request.form == {"purpose": "fine-tune"}
    part = request.file("file")
    assert (part.filename, part.size) == ("train.jsonl", len(data))
    assert json.loads(result.stdout)["filename"] == "train.jsonl"


def test_multipart_file_name_can_be_set_and_read_from_stdin(api, cli):
    line = '{"custom_id": "1"}\n'
    result = cli("api", "POST", "/v1/files", "-F", "file=@-;filename=batch.jsonl",
                 "-f", "purpose=batch", input=line)
    assert result.exit_code == 0, result
    part = api.last().file("file")
    assert (part.filename, part.size, part.head) == ("batch.jsonl", len(line), line.encode())


def test_non_json_reply_bytes_are_written_unchanged(api, cli):
    result = cli("api", "GET", f"/v1/files/{FILE_ID}/content")
    assert result.exit_code == 0, result
    assert result.stdout_bytes == expected_bytes(1000)


def test_text_reply_is_printed_as_is(api, cli):
    api.add("GET", "/v1/models", text_response("plain words"))
    result = cli("api", "GET", "/v1/models")
    assert result.exit_code == 0, result
    assert result.stdout == "plain words"


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("response, code", [
    (error_400(), 1), (error_401_detail(), 3), (json_response({"detail": "Not Found"}, 404), 4),
    (error_422(), 2),
])
def test_http_errors_map_to_exit_codes(api, cli, response, code):
    api.add("GET", "/v1/models", response)
    result = cli("api", "GET", "/v1/models")
    assert result.exit_code == code, result
    assert result.stdout == ""
    assert result.stderr.startswith("mcli: error:")


def test_billable_job_creation_is_not_retried_on_a_server_error(api, cli):
    api.add("POST", "/v1/fine_tuning/jobs", error_empty(503))
    result = cli("api", "POST", "/v1/fine_tuning/jobs", "-f", "model=open-mistral-7b",
                 "-f", "hyperparameters.learning_rate=0.0001")
    assert result.exit_code == 1, result
    assert len(api.requests) == 1


def test_help_shows_examples(cli):
    result = cli("api", "--help")
    assert result.exit_code == 0
    assert "Examples" in result.stdout and "mcli api GET /v1/models" in result.stdout


# -- one operation table: `mcli api` retries exactly as the command for the same operation ----


def _job_actions():
    """(the command, the same request through `mcli api`, the spec template) of each POST
    that changes a thing's state without creating one."""
    from tests.fakeapi.defaults import BATCH_ID, FT_MODEL, JOB_ID

    return [
        (("fine-tuning", "cancel", JOB_ID, "--yes"), f"/v1/fine_tuning/jobs/{JOB_ID}/cancel",
         "/v1/fine_tuning/jobs/{job_id}/cancel"),
        (("fine-tuning", "start", JOB_ID), f"/v1/fine_tuning/jobs/{JOB_ID}/start",
         "/v1/fine_tuning/jobs/{job_id}/start"),
        (("batch", "cancel", BATCH_ID, "--yes"), f"/v1/batch/jobs/{BATCH_ID}/cancel",
         "/v1/batch/jobs/{job_id}/cancel"),
        (("models", "archive", FT_MODEL), f"/v1/fine_tuning/models/{FT_MODEL}/archive",
         "/v1/fine_tuning/models/{model_id}/archive"),
    ]


@pytest.mark.parametrize("command, path, template", _job_actions(),
                         ids=["fine-tuning-cancel", "fine-tuning-start", "batch-cancel", "models-archive"])
def test_a_state_change_after_a_502_is_sent_as_often_as_by_its_command(api, cli, command, path, template):
    counts = []
    for args in (command, ("api", "POST", path)):
        api.add("POST", template, error_empty(502), times=1)
        before = len(api.requests_to("POST", template))
        result = cli(*args)
        assert result.exit_code == 0, result
        counts.append(len(api.requests_to("POST", template)) - before)
    assert counts == [2, 2]


# -- the id cache behind Tab is fed by `mcli api` as by every command ----------------------


def test_api_replies_feed_the_id_cache_as_the_commands_do(api, cli):
    from mistral_cli.store import ids
    from tests.fakeapi.defaults import BATCH_ID, JOB_ID

    assert cli("api", "GET", "/v1/files").exit_code == 0
    assert cli("api", "GET", f"/v1/fine_tuning/jobs/{JOB_ID}", "-o", "jsonl").exit_code == 0
    assert cli("api", "GET", "/v1/batch/jobs", "--paginate", "-o", "jsonl").exit_code == 0
    assert cli("api", "GET", "/v1/models").exit_code == 0
    assert FILE_ID in ids.ids("file") and ids.ids("fine-tuning-job") == [JOB_ID]
    assert ids.ids("batch-job") == [BATCH_ID] and "mistral-small-latest" in ids.ids("model")
    assert cli("api", "DELETE", f"/v1/files/{FILE_ID}").exit_code == 0
    assert FILE_ID not in ids.ids("file")


def test_a_reply_of_an_unknown_path_or_a_file_content_feeds_nothing(api, cli):
    from mistral_cli.store import ids

    api.add("GET", "/v1/files/{file_id}/content", json_response(file_obj()))
    assert cli("api", "GET", f"/v1/files/{FILE_ID}/content").exit_code == 0
    assert ids.ids("file") == []


def test_a_streamed_body_from_a_file_asks_for_an_event_stream(api, cli, tmp_path):
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"model": "mistral-small-latest", "messages": MESSAGES, "stream": True}))
    result = cli("api", "POST", "/v1/chat/completions", "--body", str(body))
    assert result.exit_code == 0, result
    assert lines_of(result.stdout) == chat_chunks("mistral-small-latest")
    assert api.last().headers["Accept"] == "text/event-stream"
