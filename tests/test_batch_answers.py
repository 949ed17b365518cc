"""What a batch run makes of ambiguous and strange answers, with every resume hint run exactly
as printed: an error answer that may follow an action (408, 409, 425, 499, 5xx, a dropped
connection) is looked up by the run's tag before anything is sent again; only answers that
prove a refusal count as "not created"; a create refused because the run's upload is gone
uploads it again; one spelling of a server is one run; and a watch answer that proves nothing
(another job's id, a SUCCESS without a result file) is never kept as the run's final state.

In-process against the fake API and its batch simulator; a gateway that acts and then answers
badly is a stub that lets the simulator act and replies with an error (or no reply at all).
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.fakeapi import Stub, error_400, error_proxy_text, json_response
from tests.fakeapi.analysis import online_embeddings
from tests.fakeapi.responses import Cut
from tests.resume_helpers import run_hint_command, sim, waits  # noqa: F401 (sim: a fixture)

pytestmark = pytest.mark.usefixtures("waits")  # no run waits for real before looking again
MODEL = "mistral-small-latest"
JOBS = "/v1/batch/jobs"
PROMPTS = "What is 2+2?\nSay hi.\n"


@pytest.fixture
def prompts(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text(PROMPTS)
    return path


def create(cli, prompts, *args):
    return cli("batch", "create", "--from-prompts", prompts, "-m", MODEL, *args)


def run_as_printed(cli, result):
    """Run the resume command RESULT printed, exactly as printed."""
    return cli(*run_hint_command(result.stderr)[1:])


def acts_then(api, method: str, path: str, act, reply) -> None:
    """The next METHOD PATH is acted on by ACT (the simulator), then answered with REPLY."""
    api.stubs.insert(0, Stub(method, path, lambda req: (act(req), reply)[1], times=1))


def posts(api, path: str) -> int:
    return len(api.requests_to("POST", path))


# -- answers that may follow an action --------------------------------------------------------

AMBIGUOUS = [pytest.param(error_proxy_text(status, "gateway"), id=str(status))
             for status in (408, 409, 425, 499, 502)] + [pytest.param(Cut(), id="dropped")]


@pytest.mark.parametrize("reply", AMBIGUOUS)
def test_a_create_acted_on_then_answered_ambiguously_is_found_not_created_again(api, sim, cli, prompts, reply):
    acts_then(api, "POST", JOBS, sim._create, reply)
    first = create(cli, prompts, "--new")
    assert first.exit_code != 0
    assert "the server may have acted on the request" in first.stderr
    assert "the job may exist on the server: the run looks for it first and sends it only if it is not there" in first.stderr
    second = run_as_printed(cli, first)
    assert second.exit_code == 0, second
    [job_id] = sim.jobs
    assert f"found batch job {job_id}" in second.stderr
    assert (sim.uploads, posts(api, JOBS), len(sim.jobs)) == (1, 1, 1)


@pytest.mark.parametrize("command", [["embeddings"], ["classifiers", "moderate"]])
def test_via_batch_a_create_answered_408_after_acting_is_found_by_the_printed_command(api, sim, cli, tmp_path,
                                                                                     command):
    from tests.fakeapi.analysis import online_moderations

    api.add("POST", "/v1/embeddings", online_embeddings(sim.dims), optional=True)
    api.add("POST", "/v1/moderations", online_moderations, optional=True)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("one\ntwo\n")
    acts_then(api, "POST", JOBS, sim._create, error_proxy_text(408, "Request Timeout"))
    first = cli(*command, "-f", corpus, "--via", "batch", "--new", "-o", "jsonl")
    assert first.exit_code == 1 and "the server may have acted on the request" in first.stderr
    second = run_as_printed(cli, first)
    assert second.exit_code == 0, second
    assert len(second.stdout.splitlines()) == 2
    assert (sim.uploads, posts(api, JOBS), len(sim.jobs)) == (1, 1, 1)


def test_the_hint_of_a_new_run_resumes_that_run_not_an_older_one(api, sim, cli, prompts):
    assert create(cli, prompts).exit_code == 0
    acts_then(api, "POST", JOBS, sim._create, error_proxy_text(408, "gateway"))
    first = create(cli, prompts, "-o", "text", "--new")
    second = run_as_printed(cli, first)
    assert second.exit_code == 0, second
    newer = list(sim.jobs)[-1]
    assert second.stdout.strip() == newer and len(sim.jobs) == 2 and sim.uploads == 2


def test_a_run_from_standard_input_says_its_resume_needs_the_same_input(api, sim, cli):
    acts_then(api, "POST", JOBS, sim._create, error_proxy_text(504, "gateway"))
    first = cli("batch", "create", "--from-prompts", "-", "--new", "-m", MODEL, input=PROMPTS)
    assert "(given the same standard input) resumes with: mcli batch create --from-prompts - -m" in first.stderr
    second = cli(*run_hint_command(first.stderr)[1:], input=PROMPTS)
    assert second.exit_code == 0, second
    assert (sim.uploads, len(sim.jobs)) == (1, 1)


@pytest.mark.parametrize("reply", AMBIGUOUS[:1] + AMBIGUOUS[-2:])
def test_an_upload_acted_on_then_answered_ambiguously_is_found_not_sent_again(api, sim, cli, prompts, reply):
    acts_then(api, "POST", "/v1/files", sim._upload, reply)
    first = create(cli, prompts, "--new")
    assert first.exit_code != 0 and "the server may have acted on the request" in first.stderr
    second = run_as_printed(cli, first)
    assert second.exit_code == 0, second
    assert (sim.uploads, posts(api, "/v1/files"), len(sim.jobs)) == (1, 1, 1)


@pytest.mark.parametrize("reply", [
    pytest.param(error_400("bad"), id="400"),
    pytest.param(json_response({"detail": "Unauthorized"}, 401), id="401"),
    pytest.param(json_response({"detail": "Forbidden"}, 403), id="403"),
    pytest.param(json_response({"message": "too large"}, 413), id="413"),
    pytest.param(json_response({"message": "rate limited"}, 429), id="429"),
])
def test_a_refused_create_is_sent_again_without_looking(api, sim, cli, prompts, reply):
    api.stubs.insert(0, Stub("POST", JOBS, reply, times=1))
    first = cli("--max-retries", "0", "batch", "create", "--from-prompts", prompts, "-m", MODEL)
    assert first.exit_code != 0
    assert "may have acted" not in first.stderr
    assert create(cli, prompts).exit_code == 0
    assert api.requests_to("GET", JOBS) == []  # nothing to look for: the answer proved a refusal
    assert (sim.uploads, posts(api, JOBS), len(sim.jobs)) == (1, 2, 1)


def test_a_create_refused_because_the_upload_was_deleted_uploads_it_again(api, sim, cli, prompts):
    gone = lambda req: (json_response({"detail": "File not found"}, 404)  # noqa: E731
                        if any(file_id not in api.files for file_id in req.json["input_files"]) else sim._create(req))
    retrieve = lambda req: (json_response({**api.files[req.path_params["file_id"]], "deleted": False})  # noqa: E731
                            if req.path_params["file_id"] in api.files else json_response({"detail": "gone"}, 404))
    api.stubs[:0] = [Stub("POST", JOBS, error_400("try later"), times=1), Stub("POST", JOBS, gone),
                     Stub("GET", "/v1/files/{file_id}", retrieve)]
    assert create(cli, prompts, "--new").exit_code == 1
    [file_id] = list(api.files)
    del api.files[file_id]  # the user deleted the run's upload
    refused = create(cli, prompts)
    assert refused.exit_code == 4
    assert f"uploaded file(s) no longer on the server: {file_id} ({prompts} (prompts))" in refused.stderr
    assert "the run uploads them again, then creates its job" in refused.stderr
    done = run_as_printed(cli, refused)
    assert done.exit_code == 0, done
    assert (sim.uploads, len(sim.jobs)) == (2, 1)
    [job] = sim.jobs.values()
    assert job.body["input_files"] == list(api.files)


# -- one server, however spelled ----------------------------------------------------------------


@pytest.mark.parametrize("url, same", [
    ("HTTP://127.0.0.1:9/v1/", "http://127.0.0.1:9/v1"),
    ("https://User:pw@API.Example.COM:443", "https://api.example.com"),
    ("http://Host:80", "http://host"),
    ("https://host:8443", "https://host:8443"),
    ("http://[::1]:80/", "http://[::1]"),
])
def test_the_server_in_a_fingerprint_is_normalised(url, same):
    from mistral_cli.batchrun.fingerprint import without_credentials

    assert without_credentials(url) == same


def test_another_spelling_of_the_server_resumes_the_same_run(api, sim, cli, prompts):
    assert create(cli, prompts).exit_code == 0
    shouted = api.url.replace("http://", "HTTP://").replace("127.0.0.1", "127.0.0.1") + "/"
    again = cli("--server-url", shouted, "batch", "create", "--from-prompts", prompts, "-m", MODEL)
    assert again.exit_code == 0, again
    assert "resuming batch run" in again.stderr
    assert (sim.uploads, len(sim.jobs)) == (1, 1)


# -- answers that prove nothing are never kept ------------------------------------------------------


def _once_on_the_job(api, sim, change) -> None:
    """The next poll of the (only) job is answered with its state changed by CHANGE."""
    def reply(req):
        job_id = req.path_params["job_id"]
        sim.advance(1000)
        return json_response(change(sim.state(job_id)))

    api.stubs.insert(0, Stub("GET", f"{JOBS}/{{job_id}}", reply, times=1))


def _another_id(body: dict) -> dict:
    return {**body, "id": "0b8e3a5e-9f52-4b7e-8c43-2b1f5d0e9a11"}


def _no_result_file(body: dict) -> dict:
    return {**body, "status": "SUCCESS", "output_file": None, "error_file": None}


@pytest.mark.parametrize("change, code", [(_another_id, 1), (_no_result_file, 4)], ids=["another-id", "no-file"])
def test_a_bad_final_answer_is_asked_again_by_the_next_start(api, sim, cli, prompts, tmp_path, change, code):
    command = ["--from-prompts", prompts, "-m", MODEL, "--watch", "--results-dir", tmp_path / "out"]
    _once_on_the_job(api, sim, change)
    first = cli("batch", "create", *command)
    assert first.exit_code == code, first
    polls = len(api.requests_to("GET", f"{JOBS}/{next(iter(sim.jobs))}"))
    second = cli("batch", "create", *command)
    assert second.exit_code == 0, second
    assert len(api.requests_to("GET", f"{JOBS}/{next(iter(sim.jobs))}")) > polls  # the server was asked
    [output] = (tmp_path / "out").glob("*.output.jsonl")
    assert len(output.read_text().splitlines()) == 2
    assert (sim.uploads, len(sim.jobs)) == (1, 1)


@pytest.mark.parametrize("change", [_another_id, _no_result_file], ids=["another-id", "no-file"])
def test_a_bad_final_state_in_the_journal_is_asked_again_not_replayed(api, sim, cli, prompts, tmp_path, change):
    assert create(cli, prompts).exit_code == 0
    [job_id] = sim.jobs
    bad = change({**sim.state(job_id), "status": "SUCCESS", "output_file": "x"})
    with sqlite3.connect(tmp_path / "mcli-data" / "history.db") as db:  # as an older mcli kept it
        db.execute("UPDATE batch_runs SET state = 'ended', final_job = ?", (json.dumps(bad),))
    result = cli("batch", "create", "--from-prompts", prompts, "-m", MODEL, "--watch", "--results-dir",
                 tmp_path / "out")
    assert result.exit_code == 0, result
    assert api.requests_to("GET", f"{JOBS}/{job_id}")
    assert len((tmp_path / "out" / f"{job_id}.output.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("change, code", [(_another_id, 1), (_no_result_file, 4)], ids=["another-id", "no-file"])
def test_a_bad_final_answer_via_batch_is_asked_again_by_the_next_start(api, sim, cli, tmp_path, change, code):
    api.add("POST", "/v1/embeddings", online_embeddings(sim.dims), optional=True)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("one\ntwo\n")
    _once_on_the_job(api, sim, change)
    first = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert first.exit_code == code, first
    second = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert second.exit_code == 0, second
    assert [json.loads(line)["index"] for line in second.stdout.splitlines()] == [0, 1]
    assert (sim.uploads, len(sim.jobs)) == (1, 1)


# -- the command a hint prints ---------------------------------------------------------------------


@pytest.mark.parametrize("argv, printed", [
    (["batch", "create", "--new", "--from-prompts", "my p.txt", "-m", MODEL],
     f"mcli batch create --from-prompts 'my p.txt' -m {MODEL}"),
    (["--server-url", "http://127.0.0.1:9", "batch", "create", "--metadata", "--new", "--new", "--watch"],
     "mcli --server-url http://127.0.0.1:9 batch create --metadata --new --watch"),
    (["embeddings", "--new", "-m", "--new", "--via", "batch", "--", "--new", "it's"],
     "mcli embeddings -m --new --via batch -- --new 'it'\"'\"'s'"),
    (["classifiers", "moderate", "--via=batch", "--new", "-f", "-"], "mcli classifiers moderate --via=batch -f -"),
])
def test_the_resume_command_is_the_command_line_without_new(argv, printed):
    import typer

    from mistral_cli.app import build_app
    from mistral_cli.batchrun.resume import this_command
    from mistral_cli.config.global_options import wanted_command
    from mistral_cli.env import Env

    tree = typer.main.get_command(build_app(load=wanted_command(argv)))
    assert this_command(Env(argv=argv, command_tree=tree)) == printed
