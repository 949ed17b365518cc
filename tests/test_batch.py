"""`mcli batch` create, list, get, cancel and results against the fake API and its batch simulator."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from mistral_cli.commands.shared import watching
from tests.fakeapi import error_proxy_text, json_response
from tests.fakeapi.defaults import BATCH_ID, FILE_ID, batch_job
from tests.resume_helpers import sim  # noqa: F401 (a fixture)

MODEL = "mistral-small-latest"
CHAT = "/v1/chat/completions"


def request_line(custom_id: str, prompt: str = "hi") -> str:
    return json.dumps({"custom_id": custom_id, "body": {"messages": [{"role": "user", "content": prompt}]}})


@pytest.fixture
def requests_file(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text("".join(request_line(str(i), f"prompt {i}") + "\n" for i in range(1, 4)))
    return path


def run_tag(upload_name: str) -> str:
    """The run tag in an upload's name (mcli-run-TAG-N.jsonl), checked to have that shape."""
    match = re.fullmatch(r"mcli-run-([0-9a-f]{8}-[0-9a-f]{8})-1\.jsonl", upload_name)
    assert match, upload_name
    return match.group(1)


def tsv(text: str) -> dict[str, str]:
    return dict(line.split("\t", 1) for line in text.splitlines())


# -- create ------------------------------------------------------------------------------


def test_create_checks_uploads_then_creates_with_every_option(api, sim, cli, requests_file):
    result = cli("batch", "create", "--input", requests_file, "--input", FILE_ID, "--endpoint", CHAT,
                 "--model", MODEL, "--metadata", "team=search", "--metadata", "run=a=b",
                 "--timeout-hours", "6", "-o", "text")
    assert result.exit_code == 0, result
    upload, create = api.requests
    assert (upload.method, upload.path, upload.form) == ("POST", "/v1/files", {"purpose": "batch"})
    tag = run_tag(upload.file("file").filename)
    assert upload.file("file").content == requests_file.read_bytes()
    uploaded = next(iter(api.files))
    assert create.json == {"input_files": [uploaded, FILE_ID], "endpoint": CHAT, "model": MODEL,
                           "metadata": {"team": "search", "run": "a=b", "mcli_run": tag}, "timeout_hours": 6}
    assert result.stdout.strip() == next(iter(sim.jobs))


def test_create_sends_only_the_fields_given(api, cli):
    result = cli("batch", "create", "-i", FILE_ID, "--endpoint", "/v1/embeddings", "-m", "mistral-embed",
                 "-o", "json")
    assert result.exit_code == 0, result
    sent = api.last().json
    assert sent == {"input_files": [FILE_ID], "endpoint": "/v1/embeddings", "model": "mistral-embed",
                    "metadata": {"mcli_run": sent["metadata"]["mcli_run"]}}  # only the run's tag is added
    assert json.loads(result.stdout) == batch_job()


def test_create_off_a_terminal_prints_the_job_as_key_value_lines(api, cli):
    result = cli("batch", "create", "-i", FILE_ID, "--endpoint", CHAT, "-m", MODEL)
    assert tsv(result.stdout)["status"] == "QUEUED"
    assert tsv(result.stdout)["id"] == BATCH_ID


def test_a_bad_request_file_is_refused_with_line_numbers_before_any_upload(api, cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([request_line("a"), '{"custom_id": 7, "body": {}}', "not json",
                              '{"custom_id": "b", "body": "text"}', request_line("a"), '{"body": {}}']) + "\n")
    result = cli("batch", "create", "-i", bad, "--endpoint", CHAT, "-m", MODEL)
    assert result.exit_code == 2
    assert api.requests == []
    for line in (f"{bad}:2: custom_id: expected a string, got int", f"{bad}:3: not valid JSON",
                 f"{bad}:4: body: expected an object, got str", f"{bad}:6: custom_id: missing",
                 f"{bad}:5: custom_id: 'a' already used on line 1"):
        assert line in result.stderr


def test_from_prompts_makes_one_chat_request_per_line(api, sim, cli):
    prompts = "What is 2+2?\n\nName a colour.\r\nSay\ttab\n"
    result = cli("batch", "create", "--from-prompts", "-", "-m", MODEL, "-s", "Be brief.",
                 "--max-tokens", "50", "--temperature", "0.2", "-o", "json", input=prompts)
    assert result.exit_code == 0, result
    upload, create = api.requests
    run_tag(upload.file("file").filename)
    lines = [json.loads(line) for line in upload.file("file").content.decode().splitlines()]
    system = {"role": "system", "content": "Be brief."}
    assert lines == [
        {"custom_id": str(number), "body": {"messages": [system, {"role": "user", "content": text}],
                                            "max_tokens": 50, "temperature": 0.2}}
        for number, text in ((1, "What is 2+2?"), (3, "Name a colour."), (4, "Say\ttab"))]
    assert create.json["endpoint"] == CHAT and create.json["input_files"] == [upload_id(api)]
    assert "3 prompt(s) from standard input" in result.stderr


def upload_id(api) -> str:
    return next(iter(api.files))


def test_from_prompts_reads_a_pipe_as_it_reads_stdin(api, cli, tmp_path):
    """`--from-prompts <(cmd)` names a pipe (/dev/fd/N), as a FIFO does: read once, spooled."""
    import os
    import threading

    fifo = tmp_path / "prompts.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=("one\ntwo\n",), daemon=True)
    writer.start()
    result = cli("batch", "create", "--from-prompts", fifo, "-m", MODEL)
    writer.join(5)
    assert result.exit_code == 0, result
    assert f"2 prompt(s) from {fifo}" in result.stderr
    assert len(api.requests_to("POST", "/v1/batch/jobs")) == 1


def test_a_run_tags_its_upload_name_and_its_job_metadata_alike(api, cli, tmp_path):
    prompts = tmp_path / "questions.txt"
    prompts.write_text("one\ntwo\n")
    assert cli("batch", "create", "--from-prompts", prompts, "-m", MODEL).exit_code == 0
    tag = run_tag(api.requests[0].file("file").filename)
    assert api.requests[1].json["metadata"] == {"mcli_run": tag}


def test_from_prompts_leaves_no_temporary_file(api, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert cli("batch", "create", "--from-prompts", "-", "-m", MODEL, input="a\nb\n").exit_code == 0
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("args, expected", [
    ([], "--input PATH|ID"),
    (["-i", FILE_ID], "--endpoint is required"),
    (["--from-prompts", "-", "--endpoint", "/v1/embeddings"], "--endpoint must be /v1/chat/completions"),
    (["-i", FILE_ID, "--endpoint", CHAT, "-s", "x"], "shape --from-prompts requests"),
    (["-i", FILE_ID, "--endpoint", CHAT, "--results-dir", "out"], "needs --watch"),
    (["--from-prompts", "-", "--temperature", "2"], "--temperature"),
    (["--from-prompts", "-", "--max-tokens", "-1"], "--max-tokens"),
    (["-i", FILE_ID, "--endpoint", CHAT, "--timeout-hours", "0"], "--timeout-hours"),
    (["-i", FILE_ID, "--endpoint", CHAT, "--metadata", "novalue"], "--metadata"),
    (["-i", FILE_ID, "--endpoint", CHAT, "--metadata", "k="], "1 to 512 characters"),
    (["-i", FILE_ID, "--endpoint", CHAT, "--metadata", "k=a", "--metadata", "k=b"], "given twice"),
    (["-i", FILE_ID, "--endpoint", CHAT, "--metadata", "k=" + "x" * 513], "1 to 512 characters"),
    (["-i", "missing.jsonl", "--endpoint", CHAT], "neither a file nor a file id"),
    (["--from-prompts", "missing.txt"], "no such file"),
    (["--from-prompts", "-"], "no prompt"),
    (["-i", FILE_ID, "--endpoint", CHAT, "--watch", "--interval", "0"], "--interval"),
])
def test_create_refuses_bad_options_before_any_request(api, cli, args, expected):
    result = cli("batch", "create", "-m", MODEL, *args, input="\n")
    assert result.exit_code == 2, result
    assert expected in result.stderr
    assert api.requests == []


def test_empty_prompts_are_refused_before_any_file_is_uploaded(api, cli, requests_file):
    result = cli("batch", "create", "-i", requests_file, "--from-prompts", "-", "-m", MODEL, input="\n \n")
    assert result.exit_code == 2 and "no prompt" in result.stderr
    assert api.requests == []


def test_from_prompts_refuses_a_file_that_is_not_utf8(api, cli, tmp_path):
    prompts = tmp_path / "latin1.txt"
    prompts.write_bytes("caf\xe9\n".encode("latin-1"))
    result = cli("batch", "create", "--from-prompts", prompts, "-m", MODEL)
    assert result.exit_code == 2 and "not UTF-8 text" in result.stderr
    assert api.requests == []


def test_a_create_is_never_repeated_after_a_5xx(api, cli):
    api.add("POST", "/v1/batch/jobs", error_proxy_text(503))
    result = cli("batch", "create", "-i", FILE_ID, "--endpoint", CHAT, "-m", MODEL)
    assert result.exit_code == 1
    assert len(api.requests_to("POST", "/v1/batch/jobs")) == 1


# -- list --------------------------------------------------------------------------------


def test_list_sends_every_filter(api, cli):
    api.add("GET", "/v1/batch/jobs", json_response({"object": "list", "data": [batch_job()], "total": 1}))
    result = cli("batch", "list", "--model", MODEL, "--metadata", "team=search", "--metadata", "env=prod",
                 "--created-after", "2025-01-31T12:00:00Z", "--created-by-me", "--status", "RUNNING",
                 "--status", "QUEUED", "--page", "2", "--page-size", "20", "-o", "text")
    assert result.exit_code == 0, result
    assert api.last().query == {"model": [MODEL], "metadata": ["team=search&env=prod"],
                                "created_after": ["2025-01-31T12:00:00+00:00"], "created_by_me": ["true"],
                                "status": ["RUNNING", "QUEUED"], "page": ["2"], "page_size": ["20"]}
    assert result.stdout == f"{BATCH_ID}\n"


@pytest.mark.parametrize("given, sent", [("2025-01-31", "2025-01-31T00:00:00+00:00"),
                                         ("2025-01-31T08:30:00", "2025-01-31T08:30:00+00:00"),
                                         ("2025-01-31T08:30:00+02:00", "2025-01-31T08:30:00+02:00")])
def test_list_created_after_is_sent_as_an_rfc3339_time(api, cli, given, sent):
    assert cli("batch", "list", "--created-after", given).exit_code == 0
    assert api.last().query["created_after"] == [sent]


def test_list_off_a_terminal_is_tab_separated(api, cli):
    result = cli("batch", "list")
    assert result.stdout.split("\t")[:5] == [BATCH_ID, "QUEUED", MODEL, CHAT, "0/2"]


def test_list_all_follows_every_page_with_the_shared_stop_rule(api, sim, cli):
    for _ in range(5):
        sim._create(type("R", (), {"json": {"input_files": [], "endpoint": CHAT, "model": MODEL}})())
    result = cli("batch", "list", "--all", "--page-size", "2", "-o", "json")
    assert result.exit_code == 0, result
    body = json.loads(result.stdout)
    assert [job["id"] for job in body["data"]] == list(sim.jobs)
    assert body["total"] == 5
    assert [r.query["page"] for r in api.requests] == [["0"], ["1"], ["2"]]


@pytest.mark.parametrize("args, option", [
    (["--created-after", "yesterday"], "--created-after"),
    (["--metadata", "a=b&c"], "--metadata"),
    (["--page", "-1"], "--page"),
    (["--page-size", "0"], "--page-size"),
    (["--all", "--page", "1"], "--page"),
])
def test_list_refuses_bad_filters(api, cli, args, option):
    result = cli("batch", "list", *args)
    assert result.exit_code == 2 and option in result.stderr
    assert api.requests == []


# -- get, cancel -------------------------------------------------------------------------


def test_get_json_prints_the_body_exactly(api, cli):
    body = {**batch_job(status="RUNNING"), "new_field": {"x": 1}, "status": "PAUSED"}
    api.add("GET", f"/v1/batch/jobs/{BATCH_ID}", json_response(body))
    result = cli("batch", "get", BATCH_ID, "-o", "json")
    assert json.loads(result.stdout) == body


def test_get_refuses_an_id_that_is_not_a_uuid(api, cli):
    result = cli("batch", "get", "nope")
    assert result.exit_code == 2 and api.requests == []


def test_get_on_a_terminal_shows_a_panel(api, cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    result = cli("batch", "get", BATCH_ID, tty=True)
    assert "SUCCEEDED" in result.stdout and "RUNNING" in result.stdout


def test_cancel_needs_yes_off_a_terminal(api, cli):
    result = cli("batch", "cancel", BATCH_ID)
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert api.requests == []


def test_cancel_is_retried_after_a_5xx_as_it_is_idempotent(api, cli):
    api.add("POST", f"/v1/batch/jobs/{BATCH_ID}/cancel", error_proxy_text(503), times=1)
    result = cli("batch", "cancel", BATCH_ID, "--yes", "-o", "json")
    assert result.exit_code == 0, result
    assert len(api.requests) == 2
    assert json.loads(result.stdout)["status"] == "CANCELLATION_REQUESTED"


# -- results -----------------------------------------------------------------------------


def finished_job(sim, cli, requests_file, fail_ids=()) -> str:
    sim.fail_ids = set(fail_ids)
    job_id = cli("batch", "create", "-i", requests_file, "--endpoint", CHAT, "-m", MODEL, "-o", "text").stdout.strip()
    sim.advance(1000)
    return job_id


def test_results_saves_the_output_and_error_files(api, sim, cli, requests_file, tmp_path):
    job_id = finished_job(sim, cli, requests_file, fail_ids={"2"})
    out = tmp_path / "out"
    result = cli("batch", "results", job_id, "--dir", out)
    assert result.exit_code == 0, result
    output = (out / f"{job_id}.output.jsonl").read_text().splitlines()
    errors = (out / f"{job_id}.error.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["custom_id"] for line in output) == ["1", "3"]
    assert [json.loads(line)["custom_id"] for line in errors] == ["2"]
    assert result.stdout == ""
    again = cli("batch", "results", job_id, "--dir", out)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert cli("batch", "results", job_id, "--dir", out, "--force").exit_code == 0


def test_results_answers_one_line_per_request_errors_on_stderr(api, sim, cli, requests_file):
    job_id = finished_job(sim, cli, requests_file, fail_ids={"2"})
    result = cli("batch", "results", job_id, "--answers")
    assert result.exit_code == 0, result
    assert sorted(result.stdout.splitlines()) == ["1\tanswer to prompt 1", "3\tanswer to prompt 3"]
    assert "2\terror: HTTP 400: request 2 refused" in result.stderr


def test_results_before_the_job_ends_is_not_found(api, sim, cli, requests_file):
    job_id = cli("batch", "create", "-i", requests_file, "--endpoint", CHAT, "-m", MODEL, "-o", "text").stdout.strip()
    result = cli("batch", "results", job_id)
    assert result.exit_code == 4
    assert "no result file yet (status QUEUED)" in result.stderr


def files_under(folder) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if not path.is_dir())


@pytest.mark.parametrize("hostile", ["../../x", "{tmp}/a/abs", "x/../../../y"])
def test_results_are_named_from_the_id_typed_never_from_the_servers(api, cli, tmp_path, hostile):
    hostile = hostile.format(tmp=tmp_path)
    api.add("GET", "/v1/batch/jobs/{job_id}", json_response(
        {**batch_job(status="SUCCESS"), "id": hostile, "output_file": FILE_ID}))
    out = tmp_path / "a" / "b" / "out"
    result = cli("batch", "results", BATCH_ID, "--dir", out)
    assert result.exit_code == 0, result
    assert files_under(tmp_path / "a") == [f"b/out/{BATCH_ID}.output.jsonl"]


def test_create_watch_refuses_a_job_body_with_another_id(api, cli, tmp_path, monkeypatch):
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=lambda _seconds: None))
    api.add("POST", "/v1/batch/jobs", json_response(batch_job()))
    api.add("GET", "/v1/batch/jobs/{job_id}", json_response(
        {**batch_job(status="SUCCESS"), "id": "../../x", "output_file": FILE_ID}))
    out = tmp_path / "a" / "b" / "out"
    result = cli("batch", "create", "-i", FILE_ID, "--endpoint", CHAT, "-m", MODEL, "--watch",
                 "--results-dir", out)
    assert result.exit_code == 1, result  # a body naming another job is refused: nothing is written
    assert f"GET /v1/batch/jobs/{BATCH_ID}: id: '../../x' is not the job asked for" in result.stderr
    assert files_under(tmp_path / "a") == []


def test_create_watch_refuses_a_created_id_that_is_not_a_uuid(api, cli, tmp_path):
    api.add("POST", "/v1/batch/jobs", json_response({**batch_job(), "id": "../../x"}))
    result = cli("batch", "create", "-i", FILE_ID, "--endpoint", CHAT, "-m", MODEL, "--watch",
                 "--results-dir", tmp_path / "out")
    assert result.exit_code == 1
    assert "unexpected response from POST /v1/batch/jobs: id: '../../x' is not a UUID" in result.stderr
    assert [r.target for r in api.requests] == ["POST /v1/batch/jobs"]
    assert not (tmp_path / "out").exists()


def test_answers_escape_what_would_break_a_line(api, cli):
    from mistral_cli.commands.batch.results import ESCAPES, answer_text, read_result

    body = {"choices": [{"message": {"content": [{"type": "text", "text": "a\tb\nc\\d"}]}}]}
    line = {"custom_id": "7", "response": {"status_code": 200, "body": body}, "error": None}
    assert read_result(line) == ("7", "a\tb\nc\\d", None)
    assert answer_text(body).translate(ESCAPES) == "a\\tb\\nc\\\\d"
    assert read_result({"custom_id": "8", "error": {"message": "boom"}}) == ("8", "", "boom")
    assert answer_text({"data": [1]}) == '{"data":[1]}'


def test_batch_help_does_not_load_pydantic():
    code = ("import io, json, sys\nfrom mistral_cli.app import main\nfrom mistral_cli.env import Env\n"
            "env = Env(io.StringIO(), io.StringIO(), io.StringIO(), environ={})\n"
            "codes = [main(['batch', name, '--help'], env) for name in ('create', 'list', 'watch')]\n"
            "print(json.dumps([codes, [m for m in ('pydantic', 'httpx') if m in sys.modules]]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [[0, 0, 0], []]


def test_the_simulator_answers_as_the_spec_says(api, sim, cli, requests_file):
    from tests.fakeapi.responses import json_response as reply
    from tests.fakeapi.spec import validate_response

    sim.fail_ids = {"1"}
    job_id = cli("batch", "create", "-i", requests_file, "--endpoint", CHAT, "-m", MODEL, "-o", "text").stdout.strip()
    states = []
    for seconds in (0, 12, 5, 1000):
        sim.advance(seconds)
        states.append(dict(sim.state(job_id)))
        body = reply(states[-1]).body
        assert validate_response("GET", f"/v1/batch/jobs/{job_id}", 200, {}, body, "application/json") == []
    assert [s["status"] for s in states] == ["QUEUED", "RUNNING", "RUNNING", "SUCCESS"]
    listed = reply({"object": "list", "data": states[-1:], "total": 1}).body
    assert validate_response("GET", "/v1/batch/jobs", 200, {}, listed, "application/json") == []


def test_the_job_model_keeps_unknown_fields_and_statuses():
    from mistral_cli.bodies.batch import BatchJob

    job = BatchJob.parse({**batch_job(status="PAUSED"), "errors": [{"message": None}, "junk"], "input_files": None,
                       "priority": 3, "failed_requests": None}, "GET job")
    assert (job.status_text, job.is_final, job.failed, job.failed_requests) == ("PAUSED", False, False, 0)
    assert job.model_extra == {"object": "batch", "priority": 3} and job.input_files == []
    assert BatchJob.parse({**batch_job(), "status": "TIMEOUT_EXCEEDED"}, "GET job").failed


def test_a_batch_job_of_the_wrong_shape_is_an_unexpected_response_naming_the_request():
    from mistral_cli.bodies.batch import BatchJob
    from mistral_cli.errors import UnexpectedResponse

    with pytest.raises(UnexpectedResponse) as caught:
        BatchJob.parse({"id": 5}, "GET /v1/batch/jobs/j")
    assert (caught.value.request, caught.value.where) == ("GET /v1/batch/jobs/j", "id")
    assert caught.value.message.startswith("unexpected response from GET /v1/batch/jobs/j: id: ")


# -- the first hour -------------------------------------------------------------------------


def test_request_file_problems_are_listed_in_line_order(api, cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([request_line("a"), request_line("a"), "not json"]) + "\n")
    result = cli("batch", "create", "-i", bad, "--endpoint", CHAT, "-m", MODEL)
    assert result.exit_code == 2
    numbers = [int(n) for n in re.findall(rf"{re.escape(str(bad))}:(\d+):", result.stderr)]
    assert numbers == [2, 3]


def test_an_empty_request_file_is_refused_before_any_upload(api, cli, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = cli("batch", "create", "-i", empty, "--endpoint", CHAT, "-m", MODEL)
    assert result.exit_code == 2, result
    assert f"{empty}: the file is empty" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("profile, endpoint, expected", [
    ({}, None, MODEL),
    ({"model.chat": "mistral-large-latest"}, None, "mistral-large-latest"),
    ({}, "/v1/embeddings", "mistral-embed"),
])
def test_create_without_a_model_uses_the_profiles_model_for_the_endpoint(api, cli, tmp_path, profile,
                                                                         endpoint, expected):
    for key, value in profile.items():
        assert cli("config", "set", key, value).exit_code == 0
    prompts = tmp_path / "p.txt"
    prompts.write_text("one\n")
    args = ["-i", FILE_ID, "--endpoint", endpoint] if endpoint else ["--from-prompts", prompts]
    result = cli("batch", "create", *args)
    assert result.exit_code == 0, result
    assert api.requests[-1].json["model"] == expected


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_input_from_standard_input_is_checked_then_uploaded(api, sim, cli, name):
    lines = request_line("1") + "\n" + request_line("2") + "\n"
    result = cli("batch", "create", "--input", name, "--endpoint", CHAT, "-m", MODEL, input=lines)
    assert result.exit_code == 0, result
    assert api.requests[0].file("file").content == lines.encode()


def test_an_input_file_over_the_upload_limit_is_refused_before_anything_is_sent(api, cli, tmp_path):
    big = tmp_path / "requests.jsonl"
    with big.open("wb") as handle:
        handle.truncate(513 * 1024 * 1024)  # sparse, and never read
    result = cli("batch", "create", "--input", big, "--endpoint", CHAT, "-m", MODEL)
    assert result.exit_code == 2 and "over the 512 MB" in result.stderr
    assert "the batch API takes a JSONL file of requests of at most 512 MB" in result.stderr
    assert api.requests == []


def test_a_bad_request_file_on_standard_input_is_named_so(api, cli):
    result = cli("batch", "create", "--input", "-", "--endpoint", CHAT, "-m", MODEL, input="nope\n")
    assert result.exit_code == 2
    assert "standard input:1: not valid JSON" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("args", [["list"], ["cancel", FILE_ID, "--yes"]])
def test_a_list_body_where_an_object_belongs_is_an_unexpected_response(api, cli, args):
    path = "/v1/batch/jobs" if args == ["list"] else f"/v1/batch/jobs/{FILE_ID}/cancel"
    api.add("GET" if args == ["list"] else "POST", path, json_response([]))
    result = cli("batch", *args)
    assert result.exit_code == 1, result
    assert result.stderr.startswith(f"mcli: error: unexpected response from {'GET' if args == ['list'] else 'POST'} "
                                    f"{path}: body: a list, not an object"), result.stderr


@pytest.mark.parametrize("group", ["batch", "fine-tuning"])
def test_a_cancel_answered_with_a_job_of_the_wrong_shape_is_an_unexpected_response(api, cli, group):
    path = f"/v1/{'batch' if group == 'batch' else 'fine_tuning'}/jobs/{FILE_ID}/cancel"
    api.add("POST", path, json_response({"id": 5, "status": "CANCELLATION_REQUESTED"}))
    result = cli(group, "cancel", FILE_ID, "--yes")
    assert result.exit_code == 1, result
    assert f"mcli: error: unexpected response from POST {path}: id: " in result.stderr, result.stderr
