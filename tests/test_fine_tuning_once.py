"""`fine-tuning create` and `batch create -i FILE_ID` create once: the same command again shows the
job it made, a create whose answer was lost (a 408, a 502, a dropped connection after the server
acted) is found on the server by the command the error prints, a refusal (400, 422) is sent
again, and when several jobs could be the lost one nothing is created and they are listed."""

from __future__ import annotations

import time

import pytest

from mistral_cli.batchrun import adopt
from tests.fakeapi import error_400, error_422, error_proxy_text, json_response
from tests.fakeapi.batch_jobs import BatchJobs
from tests.fakeapi.defaults import FILE_ID
from tests.fakeapi.ft_jobs import FineTuningSim
from tests.fakeapi.responses import Drop
from tests.fine_tuning_helpers import train  # noqa: F401 (fixture)
from tests.resume_helpers import printed_command

JOBS = "/v1/fine_tuning/jobs"
CREATE = ("fine-tuning", "create", "--model", "open-mistral-7b", "--training-steps", "10")
LOST = [pytest.param(json_response({"detail": "Request Timeout"}, 408), id="408"),
        pytest.param(error_proxy_text(502), id="502"), pytest.param(Drop(), id="dropped")]


@pytest.fixture(autouse=True)
def no_settling(monkeypatch):
    """A run that finds nothing looks again at once (no real wait)."""
    monkeypatch.setattr(adopt, "settle", lambda _seconds: None)


@pytest.fixture
def ft(api):
    """The fine-tuning simulator on the real clock."""
    sim = FineTuningSim(api).install()
    sim.epoch = int(time.time())
    return sim


def first_answer(api, path: str, handler) -> None:
    """The next request to POST PATH is answered by HANDLER (before any stub added earlier)."""
    stub = api.add("POST", path, handler, times=1)
    api.stubs.remove(stub)
    api.stubs.insert(0, stub)


def answer_once(api, sim, response, acted: bool) -> None:
    """The next job create gets RESPONSE, after the job was made when ACTED."""
    def handler(req):
        if acted:
            sim._create(req)
        return response

    first_answer(api, JOBS, handler)


def creates(api) -> int:
    return len(api.requests_to("POST", JOBS))


def test_the_same_command_again_shows_its_job_and_new_creates_another(api, cli, ft, train):
    assert cli(*CREATE, "--training-file", train).exit_code == 0
    again = cli(*CREATE, "--training-file", train, "-o", "text")
    [job_id] = ft.jobs
    assert again.exit_code == 0, again
    assert f"created job {job_id} before: showing it, nothing is created" in again.stderr
    assert (creates(api), len(api.requests_to("POST", "/v1/files"))) == (1, 1)
    assert cli(*CREATE, "--training-file", train, "--new").exit_code == 0
    assert (creates(api), len(ft.jobs), len(api.requests_to("POST", "/v1/files"))) == (2, 2, 1)


@pytest.mark.parametrize("response", LOST)
def test_a_create_acted_on_without_an_answer_is_found_by_the_printed_command(api, cli, ft, train, response):
    answer_once(api, ft, response, acted=True)
    first = cli(*CREATE, "--training-file", train, "--new")
    assert first.exit_code == 1, first
    assert "the fine-tuning job may exist on the server" in first.stderr
    command = printed_command(first.stderr)
    assert "--new" not in command  # a resume never starts another run
    again = cli(*command)
    assert again.exit_code == 0, again
    [job_id] = ft.jobs
    assert f"found fine-tuning job {job_id} of run" in again.stderr
    assert creates(api) == 1


def test_a_search_answered_with_no_list_creates_nothing_and_the_printed_command_adopts(api, cli, ft, train):
    answer_once(api, ft, error_proxy_text(502), acted=True)
    first = cli(*CREATE, "--training-file", train, "--new")
    command = printed_command(first.stderr)
    no_list = api.add("GET", JOBS, json_response({"data": "jobs"}), times=2)  # both looks, were there two
    api.stubs.remove(no_list)
    api.stubs.insert(0, no_list)
    strange = cli(*command)
    assert strange.exit_code == 1, strange
    assert f"unexpected response from GET {JOBS}: data: a string, not a list" in strange.stderr
    assert (creates(api), len(ft.jobs)) == (1, 1)  # nothing created twice
    api.stubs.remove(no_list)
    again = cli(*printed_command(strange.stderr))  # the hint of the failed look, exactly as printed
    assert again.exit_code == 0, again
    [job_id] = ft.jobs
    assert f"found fine-tuning job {job_id} of run" in again.stderr and creates(api) == 1


@pytest.mark.parametrize("response", [error_400("Invalid model"), error_422(("body", "suffix"), "too long")])
def test_a_refused_create_is_sent_again(api, cli, ft, response):
    answer_once(api, ft, response, acted=False)
    first = cli(*CREATE, "--training-file", FILE_ID)
    assert first.exit_code in (1, 2) and "may exist" not in first.stderr
    assert cli(*CREATE, "--training-file", FILE_ID).exit_code == 0
    assert (creates(api), len(ft.jobs)) == (2, 1)


def test_several_jobs_that_could_be_the_lost_one_create_nothing_and_are_listed(api, cli, ft):
    answer_once(api, ft, error_proxy_text(502), acted=False)
    first = cli(*CREATE, "--training-file", FILE_ID, "--suffix", "s")
    sent = api.last("POST", JOBS).json
    twins = [ft.add_job(**sent) for _ in range(2)]  # made elsewhere, a moment later, the same way
    listed = cli(*printed_command(first.stderr))
    assert listed.exit_code == 1, listed
    assert "2 jobs on the server match it; nothing was created" in listed.stderr
    assert all(job_id in listed.stderr for job_id in twins)
    command = printed_command(listed.stderr)
    assert command[-1] == "--new" and creates(api) == 1
    assert cli(*command).exit_code == 0
    assert (creates(api), len(ft.jobs)) == (2, 3)


def test_the_job_of_another_run_is_never_adopted(api, cli, ft):
    assert cli(*CREATE, "--training-file", FILE_ID).exit_code == 0
    answer_once(api, ft, error_proxy_text(502), acted=False)
    lost = cli(*CREATE, "--training-file", FILE_ID, "--new")
    assert lost.exit_code == 1, lost
    again = cli(*printed_command(lost.stderr))
    assert again.exit_code == 0 and "found" not in again.stderr, again
    assert (creates(api), len(ft.jobs)) == (3, 2)


def test_an_upload_acted_on_without_an_answer_is_found_by_its_name(api, cli, ft, train):
    from tests.fakeapi.defaults import DEFAULTS

    def stored_then_502(req):
        DEFAULTS["files_api_routes_upload_file"](api, req)
        return error_proxy_text(502)

    first_answer(api, "/v1/files", stored_then_502)
    first = cli(*CREATE, "--training-file", train)
    assert first.exit_code == 1 and "may exist on the server" in first.stderr, first
    again = cli(*printed_command(first.stderr))
    assert again.exit_code == 0, again
    [file_id] = api.files
    assert f"found the upload of {train} (3 examples) as {file_id}" in again.stderr
    assert len(api.requests_to("POST", "/v1/files")) == 1
    assert api.last("POST", JOBS).json["training_files"] == [{"file_id": file_id}]


# -- batch create from file ids ------------------------------------------------------------------

BATCH = ("batch", "create", "-i", FILE_ID, "--endpoint", "/v1/chat/completions", "-m", "mistral-small-latest",
         "--metadata", "team=a")


@pytest.mark.parametrize("response", LOST)
def test_a_batch_create_from_ids_acted_on_without_an_answer_is_adopted_by_its_tag(api, cli, response):
    sim = BatchJobs(api)

    def acted(req):
        sim._create(req)
        return response

    sim.install()
    first_answer(api, "/v1/batch/jobs", acted)
    first = cli(*BATCH)
    assert first.exit_code == 1, first
    again = cli(*printed_command(first.stderr))
    assert again.exit_code == 0, again
    [job] = sim.jobs.values()
    assert f"found batch job {job.id}" in again.stderr
    assert len(api.requests_to("POST", "/v1/batch/jobs")) == 1
    assert job.body["metadata"]["team"] == "a"
