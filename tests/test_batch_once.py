"""A batch run with local input happens once: the journal, resuming, adopting what the server
got but never answered, `--new`, finished runs shown again without a request, `batch runs`.

In-process against the fake API and its batch simulator; a lost answer is a stub that lets
the simulator act, then drops the connection without a reply. The SIGKILL tests against a
slowed server are in test_batch_kill.py.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from mistral_cli.batchrun import adopt
from tests.fakeapi import Stub, error_400, error_proxy_text, json_response
from tests.fakeapi.responses import Cut
from tests.resume_helpers import printed_command, sim, waits  # noqa: F401 (a fixture)

MODEL = "mistral-small-latest"
CHAT = "/v1/chat/completions"
PROMPTS = "What is 2+2?\nName a colour.\nSay hi.\n"


@pytest.fixture
def prompts(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text(PROMPTS)
    return path


def lose_answer(api, method: str, path: str, act) -> None:
    """The next METHOD PATH is acted on by ACT (the simulator) but its answer is lost."""
    api.stubs.insert(0, Stub(method, path, lambda req: (act(req), Cut())[1], times=1))


def posts(api, path: str) -> int:
    return len(api.requests_to("POST", path))


def create(cli, prompts, *args):
    return cli("batch", "create", "--from-prompts", prompts, "-m", MODEL, *args)


def watched(cli, prompts, out, *args):
    return create(cli, prompts, "--watch", "--results-dir", out, "--interval", "5", *args)


def saved_ids(folder) -> list[str]:
    [output] = folder.glob("*.output.jsonl")
    return sorted(json.loads(line)["custom_id"] for line in output.read_text().splitlines())


# -- the same command again ----------------------------------------------------------------


def test_the_same_command_again_resumes_the_run_and_sends_nothing_twice(api, sim, cli, prompts):
    first = create(cli, prompts, "-o", "text")
    assert first.exit_code == 0, first
    second = create(cli, prompts, "-o", "text")
    assert second.exit_code == 0, second
    assert second.stdout == first.stdout  # the same job
    assert (sim.uploads, len(sim.jobs)) == (1, 1)
    assert "resuming batch run" in second.stderr and "--new starts a separate run" in second.stderr
    assert [r.target for r in api.requests[2:]] == [f"GET /v1/batch/jobs/{first.stdout.strip()}"]


def test_new_starts_a_separate_run_with_a_tag_of_its_own(api, sim, cli, prompts):
    first = create(cli, prompts, "-o", "text")
    second = create(cli, prompts, "--new", "-o", "text")
    assert second.exit_code == 0, second
    assert first.stdout != second.stdout
    assert (sim.uploads, len(sim.jobs)) == (2, 2)
    tags = [job.body["metadata"]["mcli_run"] for job in sim.jobs.values()]
    assert len(set(tags)) == 2
    third = create(cli, prompts, "-o", "text")  # the latest run is the one resumed
    assert third.stdout == second.stdout and len(sim.jobs) == 2


@pytest.mark.parametrize("change", [["-m", "mistral-large-latest"], ["--metadata", "team=a"],
                                    ["--timeout-hours", "2"], ["--max-tokens", "10"], ["-s", "Be brief."]])
def test_other_options_or_inputs_make_another_run(api, sim, cli, prompts, change):
    assert create(cli, prompts).exit_code == 0
    assert cli("batch", "create", "--from-prompts", prompts, "-m", MODEL, *change).exit_code == 0
    assert len(sim.jobs) == 2


def test_other_prompt_bytes_make_another_run(api, sim, cli, prompts):
    assert create(cli, prompts).exit_code == 0
    prompts.write_text(PROMPTS + "One more.\n")
    assert create(cli, prompts).exit_code == 0
    assert len(sim.jobs) == 2


def test_stdin_prompts_and_input_files_are_runs_too(api, sim, cli, tmp_path):
    requests = tmp_path / "requests.jsonl"
    requests.write_text(json.dumps({"custom_id": "a", "body": {"messages": [{"role": "user", "content": "x"}]}}) + "\n")
    for _ in range(2):
        assert cli("batch", "create", "--from-prompts", "-", "-m", MODEL, input=PROMPTS).exit_code == 0
        assert cli("batch", "create", "-i", requests, "--endpoint", CHAT, "-m", MODEL).exit_code == 0
    assert (sim.uploads, len(sim.jobs)) == (2, 2)


def test_a_create_from_file_ids_only_is_a_run_too(api, sim, cli):
    from tests.fakeapi.defaults import FILE_ID

    args = ("batch", "create", "-i", FILE_ID, "--endpoint", CHAT, "-m", MODEL, "--metadata", "team=a")
    for _ in range(2):
        assert cli(*args).exit_code == 0
    assert len(sim.jobs) == 1  # the same command again resumes its run
    assert cli(*args, "--new").exit_code == 0
    assert len(sim.jobs) == 2 and sim.uploads == 0
    tags = [job.body["metadata"].pop("mcli_run") for job in sim.jobs.values()]
    assert len(set(tags)) == 2 and all(job.body["metadata"] == {"team": "a"} for job in sim.jobs.values())


def test_the_tag_key_is_refused_in_metadata(api, cli, prompts):
    result = create(cli, prompts, "--metadata", "mcli_run=mine")
    assert result.exit_code == 2 and "mcli_run is mcli's own" in result.stderr
    assert api.requests == []


# -- answers that never came -----------------------------------------------------------------


def test_an_upload_whose_answer_was_lost_is_found_by_its_name(api, sim, cli, prompts, waits):
    lose_answer(api, "POST", "/v1/files", sim._upload)
    first = create(cli, prompts)
    assert first.exit_code == 1
    assert "the server may have acted on the request" in first.stderr
    assert f"resumes with: mcli batch create --from-prompts {prompts} -m {MODEL}\n" in first.stderr
    second = create(cli, prompts, "-o", "text")
    assert second.exit_code == 0, second
    [uploaded] = api.files.values()
    search = api.last("GET", "/v1/files")
    assert search.query["search"] == [uploaded["filename"]] and search.query["purpose"] == ["batch"]
    assert f"found {uploaded['filename']} on the server as {uploaded['id']}" in second.stderr
    assert (sim.uploads, posts(api, "/v1/files"), len(sim.jobs)) == (1, 1, 1)
    assert next(iter(sim.jobs.values())).body["input_files"] == [uploaded["id"]]
    assert waits == []


def test_a_create_whose_answer_was_lost_is_found_by_its_tag(api, sim, cli, prompts, waits):
    lose_answer(api, "POST", "/v1/batch/jobs", sim._create)
    assert create(cli, prompts).exit_code == 1
    [job_id] = sim.jobs
    second = create(cli, prompts, "-o", "text")
    assert second.exit_code == 0, second
    assert second.stdout.strip() == job_id
    tag = sim.jobs[job_id].body["metadata"]["mcli_run"]
    search = api.last("GET", "/v1/batch/jobs")
    assert search.query["metadata"] == [f"mcli_run={tag}"] and "created_after" in search.query
    assert (posts(api, "/v1/batch/jobs"), len(sim.jobs)) == (1, 1)


def test_a_request_that_never_arrived_is_sent_after_looking_twice(api, sim, cli, prompts, waits):
    api.stubs.insert(0, Stub("POST", "/v1/batch/jobs", Cut(), times=1))  # dropped before the server acted
    assert create(cli, prompts).exit_code == 1
    second = create(cli, prompts, "-o", "text")
    assert second.exit_code == 0, second
    assert waits == [adopt.SETTLE_SECONDS]
    assert "is not on the server; looking again in 3 s" in second.stderr
    assert len(api.requests_to("GET", "/v1/batch/jobs")) == 2
    assert len(sim.jobs) == 1


def test_a_refused_upload_is_sent_again_without_looking(api, sim, cli, prompts):
    api.stubs.insert(0, Stub("POST", "/v1/files", error_400("Invalid file"), times=1))
    assert create(cli, prompts).exit_code == 1
    assert create(cli, prompts).exit_code == 0
    assert api.requests_to("GET", "/v1/files") == []
    assert (posts(api, "/v1/files"), sim.uploads) == (2, 1)


def test_a_create_that_failed_with_a_5xx_is_looked_for_before_sending_again(api, sim, cli, prompts, waits):
    api.stubs.insert(0, Stub("POST", "/v1/batch/jobs", error_proxy_text(503), times=1))
    assert create(cli, prompts).exit_code == 1
    assert create(cli, prompts).exit_code == 0
    assert len(api.requests_to("GET", "/v1/batch/jobs")) == 2 and len(sim.jobs) == 1


def test_a_listed_job_with_another_tag_or_a_bad_id_is_not_adopted(api, sim, cli, prompts, waits):
    lose_answer(api, "POST", "/v1/files", sim._upload)
    assert create(cli, prompts).exit_code == 1
    api.stubs.insert(0, Stub("POST", "/v1/batch/jobs", Cut(), times=1))
    assert create(cli, prompts).exit_code == 1
    liar = {"object": "list", "total": 1, "data": [
        {"id": "not-a-uuid", "metadata": {"mcli_run": "x"}}, {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                                                             "metadata": {"mcli_run": "00000000-00000000"}}]}
    api.stubs.insert(0, Stub("GET", "/v1/batch/jobs", json_response(liar), times=2))
    result = create(cli, prompts, "-o", "text")
    assert result.exit_code == 0, result
    assert result.stdout.strip() in sim.jobs and len(sim.jobs) == 1


def test_a_listed_file_of_another_size_is_not_adopted(api, sim, cli, prompts, waits):
    lose_answer(api, "POST", "/v1/files", sim._upload)
    assert create(cli, prompts).exit_code == 1
    next(iter(api.files.values()))["bytes"] += 1
    assert create(cli, prompts).exit_code == 0
    assert sim.uploads == 2  # the file found is not the one sent: sent again


# -- finished runs -----------------------------------------------------------------------------


def test_a_finished_run_started_again_prints_its_results_without_a_request(api, sim, cli, prompts, tmp_path):
    out = tmp_path / "out"
    first = watched(cli, prompts, out)
    assert first.exit_code == 0, first
    assert saved_ids(out) == ["1", "2", "3"]
    sent = len(api.requests)
    again = watched(cli, prompts, out)
    assert again.exit_code == 0, again
    assert len(api.requests) == sent
    assert again.stdout == "SUCCESS 3/3 (3 succeeded, 0 failed)\n"
    assert first.stdout.splitlines()[-1] == again.stdout.strip()
    assert "already saved" in again.stderr
    as_json = watched(cli, prompts, out, "-o", "json")
    assert json.loads(as_json.stdout)["status"] == "SUCCESS" and len(api.requests) == sent


def test_a_finished_run_without_watch_prints_the_final_job(api, sim, cli, prompts, tmp_path):
    assert watched(cli, prompts, tmp_path / "out").exit_code == 0
    sent = len(api.requests)
    result = create(cli, prompts, "-o", "json")
    assert json.loads(result.stdout)["status"] == "SUCCESS"
    assert len(api.requests) == sent


def test_results_deleted_or_asked_elsewhere_are_downloaded_again_and_nothing_else(api, sim, cli, prompts, tmp_path):
    out = tmp_path / "out"
    assert watched(cli, prompts, out).exit_code == 0
    for path in out.iterdir():
        path.unlink()
    sent = len(api.requests)
    assert watched(cli, prompts, out).exit_code == 0
    assert saved_ids(out) == ["1", "2", "3"]
    assert watched(cli, prompts, tmp_path / "elsewhere").exit_code == 0
    assert saved_ids(tmp_path / "elsewhere") == ["1", "2", "3"]
    assert {r.target.rsplit("/", 2)[-1] for r in api.requests[sent:]} == {"content"}


def test_a_run_resumed_mid_save_replaces_its_own_files_and_leftovers(api, sim, cli, prompts, tmp_path):
    out = tmp_path / "out"
    api.stubs.insert(0, Stub("GET", "/v1/files/{file_id}/content", Cut(), times=1))
    assert cli("--max-retries", "0", "batch", "create", "--from-prompts", prompts, "-m", MODEL, "--watch",
               "--results-dir", out).exit_code == 1
    [job_id] = sim.jobs
    (out / f"{job_id}.output.jsonl").write_text("half a file")  # as a kill between rename and journal
    from mistral_cli.safe_files import temp_prefix

    (out / f"{temp_prefix(f'{job_id}.output.jsonl')}x1y2.part").write_text("left by SIGKILL")
    result = watched(cli, prompts, out)
    assert result.exit_code == 0, result
    assert saved_ids(out) == ["1", "2", "3"]
    assert [path.name for path in out.iterdir()] == [f"{job_id}.output.jsonl"]


def test_a_run_never_overwrites_files_it_did_not_write(api, sim, cli, prompts, tmp_path):
    out = tmp_path / "out"
    assert create(cli, prompts).exit_code == 0
    [job_id] = sim.jobs
    out.mkdir()
    (out / f"{job_id}.output.jsonl").write_text("the user's own")
    result = watched(cli, prompts, out)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (out / f"{job_id}.output.jsonl").read_text() == "the user's own"


def test_a_failed_job_started_again_fails_again_without_a_request(api, sim, cli, prompts, tmp_path):
    sim.outcome = "FAILED"
    assert watched(cli, prompts, tmp_path / "out").exit_code == 5
    sent = len(api.requests)
    again = watched(cli, prompts, tmp_path / "out")
    assert again.exit_code == 5 and "ended FAILED" in again.stderr
    assert len(api.requests) == sent


def test_a_run_created_without_watch_is_followed_by_the_same_command_with_watch(api, sim, cli, prompts, tmp_path):
    assert create(cli, prompts).exit_code == 0
    result = watched(cli, prompts, tmp_path / "out")
    assert result.exit_code == 0, result
    assert (sim.uploads, len(sim.jobs)) == (1, 1)
    assert saved_ids(tmp_path / "out") == ["1", "2", "3"]


# -- the journal -------------------------------------------------------------------------------


def test_batch_runs_shows_the_journal(api, sim, cli, prompts, tmp_path):
    assert cli("batch", "runs").stdout == ""  # no database yet, and none made
    assert not (tmp_path / "mcli-data" / "history.db").exists()
    out = tmp_path / "out"
    assert watched(cli, prompts, out).exit_code == 0
    [job_id] = sim.jobs
    tag = sim.jobs[job_id].body["metadata"]["mcli_run"]
    listed = cli("batch", "runs")
    assert listed.stdout.split("\t")[:5] == [tag, "saved", job_id, f"{prompts} (prompts)", str(out.resolve())]
    [run] = json.loads(cli("batch", "runs", "-o", "json").stdout)
    assert run["uploads"][0]["file_id"] == sim.jobs[job_id].body["input_files"][0]
    assert run["final_job"]["status"] == "SUCCESS"
    assert len(run["results"]["files"]) == 1
    assert cli("batch", "runs", "-o", "text").stdout == f"{tag}\n"
    one = cli("batch", "runs", tag)
    assert f"job\t{job_id}" in one.stdout and f"{out.resolve()}/{job_id}.output.jsonl" in one.stdout
    assert cli("batch", "runs", "nope").exit_code == 4


def test_watch_and_results_of_a_run_s_job_are_kept_in_the_journal(api, sim, cli, prompts, tmp_path):
    assert create(cli, prompts).exit_code == 0
    [job_id] = sim.jobs
    state = lambda: json.loads(cli("batch", "runs", "-o", "json").stdout)[0]  # noqa: E731
    assert state()["state"] == "created"
    assert cli("batch", "watch", job_id, "--interval", "5").exit_code == 0
    assert state()["state"] == "ended" and state()["final_job"]["status"] == "SUCCESS"
    out = tmp_path / "out"
    assert cli("batch", "results", job_id, "--dir", out).exit_code == 0
    run = state()
    assert run["state"] == "saved" and run["results"]["dir"] == str(out.resolve())
    assert watched(cli, prompts, out).exit_code == 0  # the run, started again: nothing fetched
    assert len(api.requests_to("GET", "/v1/files/{file_id}/content")) == 1


def test_the_journal_is_private_and_records_each_step(api, sim, cli, prompts, tmp_path):
    lose_answer(api, "POST", "/v1/batch/jobs", sim._create)
    assert create(cli, prompts).exit_code == 1
    path = tmp_path / "mcli-data" / "history.db"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with sqlite3.connect(path) as db:
        state, sent, job = db.execute("SELECT state, create_sent_at, job_id FROM batch_runs").fetchone()
        upload = db.execute("SELECT sent_at, file_id FROM batch_run_uploads").fetchone()
    assert (state, job) == ("creating", None) and sent
    assert upload[0] and upload[1] in api.files


def test_a_run_held_by_another_process_is_refused(api, sim, cli, prompts):
    from mistral_cli.batchrun.lock import RunLock

    assert create(cli, prompts).exit_code == 0
    tag = next(iter(sim.jobs.values())).body["metadata"]["mcli_run"]
    other = RunLock(os.environ)
    other.hold(tag)
    try:
        result = create(cli, prompts)
    finally:
        other.release()
    assert result.exit_code == 1 and f"batch run {tag} is in progress in another mcli process" in result.stderr
    assert create(cli, prompts).exit_code == 0


@pytest.mark.parametrize("url, shown", [
    ("https://user:secret@api.example.com:8443/v1", "https://api.example.com:8443/v1"),
    ("https://api.mistral.ai", "https://api.mistral.ai"),
    ("http://a@b@127.0.0.1:9", "http://127.0.0.1:9"),
])
def test_the_journal_keeps_no_credentials_of_the_server_url(url, shown):
    from mistral_cli.batchrun.fingerprint import without_credentials

    assert without_credentials(url) == shown


def test_a_run_that_cannot_take_its_lock_says_so_and_sends_nothing(api, sim, cli, prompts, tmp_path):
    (tmp_path / "mcli-data" / "runs").write_text("not a folder")
    result = create(cli, prompts)
    assert result.exit_code == 1 and "cannot lock batch run" in result.stderr
    assert "Traceback" not in result.stderr and api.requests == []


def test_results_are_named_after_the_job_mcli_checked_not_the_body(api, sim, cli, prompts, tmp_path):
    assert create(cli, prompts).exit_code == 0
    [job_id] = sim.jobs
    sim.advance(1000)
    api.stubs.insert(0, Stub("GET", f"/v1/batch/jobs/{job_id}",
                             lambda req: json_response({**sim.state(job_id), "id": "../../escape"})))
    result = watched(cli, prompts, tmp_path / "out")
    assert result.exit_code == 1 and "is not the job asked for" in result.stderr
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob("*escape*"))


def test_a_search_answered_with_no_list_sends_nothing_and_the_printed_command_adopts(api, sim, cli, prompts, waits):
    lose_answer(api, "POST", "/v1/batch/jobs", sim._create)
    assert create(cli, prompts).exit_code == 1
    [job_id] = sim.jobs
    no_list = Stub("GET", "/v1/batch/jobs", json_response([]), times=2)  # both looks, were there two
    api.stubs.insert(0, no_list)
    second = create(cli, prompts, "-o", "text")
    assert second.exit_code == 1, second
    assert "unexpected response from GET /v1/batch/jobs: body: a list, not an object" in second.stderr
    assert (posts(api, "/v1/batch/jobs"), len(sim.jobs)) == (1, 1)  # nothing created twice
    api.stubs.remove(no_list)
    third = cli(*printed_command(second.stderr))  # the hint, exactly as printed (it has -o text)
    assert third.exit_code == 0, third
    assert third.stdout.strip() == job_id and len(sim.jobs) == 1
