"""`--via batch` on embeddings, classifiers moderate and moderate-chat: the same output as the
online route for the same inputs and options (lines, order, formats, exit codes), with the
requests run as one batch job whose results the simulator writes in shuffled order.

In-process against the fake API: the online handlers and the batch simulator answer each
text from its own hash (tests/fakeapi/analysis.py), so an answer printed for the wrong input
shows. Every request the simulator runs is checked against the spec as the endpoint's request.
"""

from __future__ import annotations

import json

import pytest

from mistral_cli.commands.shared import watching
from tests.fakeapi import Stub
from tests.fakeapi.analysis import online_embeddings, online_moderations
from tests.fakeapi.batch_jobs import BatchJobs
from tests.fakeapi.responses import Response

DIMS = 8
TEXTS = [f"text number {n} {'kill' if n % 7 == 3 else 'calm'}" for n in range(23)]


@pytest.fixture
def sim(api, monkeypatch):
    jobs = BatchJobs(api, queued_for=5, per_request=1, dims=DIMS, seed=7).install()
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=jobs.advance, now=lambda: jobs.now))
    api.add("POST", "/v1/embeddings", online_embeddings(DIMS), optional=True)
    api.add("POST", "/v1/moderations", online_moderations, optional=True)
    api.add("POST", "/v1/chat/moderations", online_moderations, optional=True)
    return jobs


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(TEXTS) + "\n")
    return path


def both(cli, *args, **kw):
    """The online and the batch result of the same command."""
    return cli(*args, **kw), cli(*args, "--via", "batch", **kw)


@pytest.mark.parametrize("fmt", ["jsonl", "json", "text"])
def test_embeddings_via_batch_prints_what_online_prints(cli, sim, corpus, fmt):
    online, batch = both(cli, "embeddings", "-f", corpus, "-o", fmt)
    assert online.exit_code == 0, online.stderr
    assert batch.exit_code == 0, batch.stderr
    assert batch.stdout == online.stdout
    assert len(sim.jobs) == 1 and sim.uploads == 1



def test_embeddings_table_on_a_terminal_matches_online(cli, sim, corpus):
    online, batch = both(cli, "embeddings", "-f", corpus, tty=True)
    assert batch.exit_code == online.exit_code == 0, batch.stderr
    assert batch.stdout == online.stdout


def test_skip_and_piped_stdin_work_the_same(cli, sim):
    lines = "\n".join(TEXTS) + "\n"
    online, batch = both(cli, "embeddings", "--skip", "5", "-o", "jsonl", input=lines)
    assert batch.exit_code == 0, batch.stderr
    assert batch.stdout == online.stdout
    first = json.loads(batch.stdout.splitlines()[0])
    assert first["index"] == 5 and first["text"] == TEXTS[5]
    [upload] = [req.file("file").content for req in sim.api.requests_to("POST", "/v1/files")]
    custom_ids = [json.loads(line)["custom_id"] for line in upload.decode().splitlines()]
    assert custom_ids == [str(n) for n in range(5, len(TEXTS))]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "text", "table"])
def test_moderate_via_batch_prints_what_online_prints_and_gates_the_same(cli, sim, corpus, fmt):
    online, batch = both(cli, "classifiers", "moderate", "-f", corpus, "-o", fmt,
                         "--fail-on", "violence_and_threats")
    assert online.exit_code == 6, online.stderr
    assert batch.exit_code == 6, batch.stderr
    assert batch.stdout == online.stdout
    assert online.stderr.splitlines()[-1] in batch.stderr  # the same gate message


def test_moderate_with_a_threshold_matches_online(cli, sim, corpus):
    online, batch = both(cli, "classifiers", "moderate", "-f", corpus, "-o", "jsonl", "--threshold", "0.05")
    assert batch.exit_code == online.exit_code == 0, batch.stderr
    assert batch.stdout == online.stdout


def test_moderate_chat_via_batch_sends_one_request_per_conversation(cli, sim, tmp_path):
    chats = tmp_path / "chats.jsonl"
    chats.write_text("\n".join(json.dumps([{"role": "user", "content": f"hello {n}"},
                                           {"role": "assistant", "content": f"I will kill {n}" if n == 2 else "ok"}])
                               for n in range(4)) + "\n")
    for fmt in ("jsonl", "json", "table"):
        online, batch = both(cli, "classifiers", "moderate-chat", "--messages", chats, "-o", fmt,
                             "--fail-on", "any")
        assert online.exit_code == batch.exit_code == 6, batch.stderr
        assert batch.stdout == online.stdout
    [job] = sim.jobs.values()  # the later starts were the same run: its saved results
    assert job.body["endpoint"] == "/v1/chat/moderations" and len(job.requests) == 4


# -- options that do not apply ------------------------------------------------------------------

@pytest.mark.parametrize("args, said", [
    (["--via", "batch", "--per-request", "8"], "--per-request does not apply with --via batch"),
    (["--via", "batch", "-j", "2"], "--concurrency does not apply with --via batch"),
    (["--new"], "--new applies only with --via batch"),
    (["--interval", "30"], "--interval applies only with --via batch"),
    (["--via", "batch", "--interval", "0.1"], "--interval"),
])
def test_an_option_the_route_cannot_honour_is_refused_before_anything_is_sent(cli, sim, corpus, args, said):
    result = cli("embeddings", "-f", corpus, *args)
    assert result.exit_code == 2
    assert said in result.stderr
    assert not sim.api.requests


def test_moderate_refuses_them_too(cli, sim, corpus):
    result = cli("classifiers", "moderate", "-f", corpus, "--via", "batch", "--per-request", "3")
    assert result.exit_code == 2 and "--per-request does not apply" in result.stderr
    assert not sim.api.requests


# -- failures -------------------------------------------------------------------------------------

def test_inputs_that_failed_in_the_job_are_listed_and_the_rest_written(cli, sim, corpus):
    sim.fail_ids = {"3", "10"}
    online = cli("embeddings", "-f", corpus, "-o", "jsonl")
    batch = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert batch.exit_code == 1
    expected = [line for n, line in enumerate(online.stdout.splitlines()) if n not in (3, 10)]
    assert batch.stdout.splitlines() == expected
    assert "2 of 23 input(s) got no answer" in batch.stderr
    assert "input 4: HTTP 400: request 3 refused" in batch.stderr
    assert "input 11: HTTP 400: request 10 refused" in batch.stderr


def test_a_job_that_timed_out_prints_what_it_answered_and_exits_5(cli, sim, corpus):
    sim.outcome = "TIMEOUT_EXCEEDED"
    result = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert result.exit_code == 5
    assert len(result.stdout.splitlines()) == len(TEXTS)
    assert "TIMEOUT_EXCEEDED" in result.stderr


def test_a_failed_job_without_results_exits_5_and_the_next_start_does_not_pay_again(cli, sim, corpus):
    sim.per_request = 1e9  # nothing is ever answered: each job is cancelled at its first poll

    def cancel_every_job(seconds):
        for job in sim.jobs.values():
            if job.cancelled_at is None:
                job.cancelled_at = sim.now
        sim.advance(seconds)

    watching.CLOCK.sleep = cancel_every_job
    first = cli("embeddings", "-f", corpus, "--via", "batch")
    assert first.exit_code == 5 and "CANCELLED" in first.stderr
    assert first.stdout == ""
    again = cli("embeddings", "-f", corpus, "--via", "batch")
    assert again.exit_code == 5 and "CANCELLED" in again.stderr
    assert "--new starts a separate run" in again.stderr
    assert sim.uploads == 1 and len(sim.jobs) == 1
    fresh = cli("embeddings", "-f", corpus, "--via", "batch", "--new")
    assert fresh.exit_code == 5
    assert sim.uploads == 2 and len(sim.jobs) == 2


# -- once -------------------------------------------------------------------------------------------

def test_a_finished_run_started_again_prints_its_saved_results_sending_nothing(cli, sim, corpus):
    first = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    sent = len(sim.api.requests)
    again = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == first.stdout
    assert len(sim.api.requests) == sent
    assert "printing its saved results; nothing is sent" in again.stderr


def test_saved_results_removed_are_downloaded_again_not_bought_again(cli, sim, corpus, tmp_path):
    first = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    for path in (tmp_path / "mcli-data" / "batch-results").rglob("*.jsonl"):
        path.unlink()
    again = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == first.stdout
    assert (sim.uploads, len(sim.jobs)) == (1, 1)
    assert len(sim.api.requests_to("GET", "/v1/files/{file_id}/content")) == 2


def test_ctrl_c_while_watching_then_the_same_command_resumes_the_run(cli, sim, corpus):
    online = cli("embeddings", "-f", corpus, "-o", "jsonl")
    polls = []

    def interrupted_on_the_third_poll(seconds):
        polls.append(seconds)
        if len(polls) == 3:
            raise KeyboardInterrupt
        sim.advance(seconds)

    watching.CLOCK.sleep = interrupted_on_the_third_poll
    stopped = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert stopped.exit_code == 130
    assert stopped.stdout == ""
    assert f"resumes with: mcli embeddings -f {corpus} -o jsonl --via batch\n" in stopped.stderr
    watching.CLOCK.sleep = sim.advance
    resumed = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert resumed.exit_code == 0, resumed.stderr
    assert resumed.stdout == online.stdout
    assert (sim.uploads, len(sim.jobs)) == (1, 1)


def test_the_route_polls_fast_at_first_then_backs_off(cli, sim, corpus):
    sleeps = []
    watching.CLOCK.sleep = lambda seconds: (sleeps.append(seconds), sim.advance(seconds))
    assert cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch").exit_code == 0
    assert sleeps[0] == 1 and len(sleeps) > 2
    assert all(later > earlier for earlier, later in zip(sleeps, sleeps[1:]))  # a change too


def test_other_options_make_another_run(cli, sim, corpus):
    cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    other = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch", "-m", "other-embed")
    assert other.exit_code == 0, other.stderr
    assert (sim.uploads, len(sim.jobs)) == (2, 2)
    assert [job.body["model"] for job in sim.jobs.values()] == ["mistral-embed", "other-embed"]
    same_output_other_format = cli("embeddings", "-f", corpus, "-o", "json", "--via", "batch")
    assert same_output_other_format.exit_code == 0
    assert (sim.uploads, len(sim.jobs)) == (2, 2)  # the output format is not part of the run


def test_the_run_shows_in_batch_runs(cli, sim, corpus):
    cli("embeddings", "-f", corpus, "--via", "batch", "-o", "jsonl")
    runs = cli("batch", "runs", "-o", "json")
    [run] = json.loads(runs.stdout)
    assert run["kind"] == "embeddings" and run["state"] == "saved"
    assert run["inputs"] == [f"{len(TEXTS)} input(s) from {corpus}"]
    assert run["results"]["dir"].endswith(run["tag"])


# -- a hostile server ----------------------------------------------------------------------------

def tampering(sim, rewrite):
    """The job's output file, as downloaded, is REWRITE of its lines."""
    def content(req):
        file_id = req.path_params["file_id"]
        if any(job.body.get("output_file") == file_id for job in sim.jobs.values()):
            lines = [json.loads(line) for line in sim.contents[file_id].decode().splitlines()]
            return Response(200, rewrite(lines), content_type="application/octet-stream")
        return sim._content(req)

    sim.api.stubs.insert(0, Stub("GET", "/v1/files/{file_id}/content", content, optional=True))


def test_lies_in_the_result_files_never_land_on_the_wrong_input(cli, sim, corpus):
    online = cli("embeddings", "-f", corpus, "-o", "jsonl")

    def rewrite(lines):
        by_id = {line["custom_id"]: line for line in lines}
        evil = dict(by_id["0"], custom_id="../../x")
        twin = json.loads(json.dumps(by_id["1"]))
        twin["response"]["body"]["data"][0]["embedding"] = [9.0] * DIMS
        by_id["5"]["custom_id"] = 5  # a number, not the string sent
        by_id["7"]["response"]["body"]["data"][0]["embedding"] = ["\x1b]52;c;owned\x07"]
        by_id["9"]["response"] = {"status_code": 500, "body": {"message": "\x1b[2Jboom"}}
        by_id["11"]["custom_id"] = "011"
        out = [json.dumps(line) for line in lines] + [json.dumps(evil), json.dumps(twin), "not json {",
                                                      json.dumps(["a list"]), ""]
        return ("\n".join(out) + "\n").encode()

    tampering(sim, rewrite)
    batch = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert batch.exit_code == 1, batch.stderr
    lost = {5, 7, 9, 11}
    expected = [line for n, line in enumerate(online.stdout.splitlines()) if n not in lost]
    assert batch.stdout.splitlines() == expected  # the twin of input 1 was not used
    assert "\x1b" not in batch.stderr
    for number in sorted(lost):
        assert f"input {number + 1}: " in batch.stderr
    assert "input 6: no result in the job's files" in batch.stderr
    assert "a second line for the same input" in batch.stderr
    assert "a custom_id of no input sent" not in batch.stderr  # "../../x" is no number at all
    assert "3 result line(s) set aside: a custom_id that is not an input number" in batch.stderr
    assert "2 result line(s) set aside: not a JSON object" in batch.stderr


def test_a_custom_id_out_of_range_is_set_aside(cli, sim, corpus):
    def rewrite(lines):
        extra = dict(lines[0], custom_id="99999999999")
        return "".join(json.dumps(line) + "\n" for line in [*lines, extra]).encode()

    tampering(sim, rewrite)
    batch = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert batch.exit_code == 0, batch.stderr
    assert len(batch.stdout.splitlines()) == len(TEXTS)
    assert "1 result line(s) set aside: a custom_id of no input sent" in batch.stderr


def test_ctrl_c_while_printing_says_the_results_come_again_for_free(cli, sim, corpus, monkeypatch):
    from mistral_cli.commands import embeddings

    first = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    printed = []
    original = embeddings.JsonlWriter.group

    def interrupted_at_the_fifth(self, group, body):
        printed.append(group.start)
        if len(printed) == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(embeddings.JsonlWriter, "group", interrupted_at_the_fifth)
    stopped = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert stopped.exit_code == 130
    assert "resuming prints them again, sending nothing; batch run " in stopped.stderr
    assert f"resumes with: mcli embeddings -f {corpus} -o jsonl --via batch\n" in stopped.stderr
    monkeypatch.setattr(embeddings.JsonlWriter, "group", original)
    again = cli("embeddings", "-f", corpus, "-o", "jsonl", "--via", "batch")
    assert again.stdout == first.stdout
    assert (sim.uploads, len(sim.jobs)) == (1, 1)


def test_with_failed_inputs_json_output_is_still_one_whole_body(cli, sim, corpus):
    sim.fail_ids = {"0", "22"}
    batch = cli("embeddings", "-f", corpus, "-o", "json", "--via", "batch")
    assert batch.exit_code == 1
    body = json.loads(batch.stdout)
    assert len(body["data"]) == len(TEXTS) - 2
    # each embedding keeps its input's index: the failed inputs leave gaps, never a shift
    assert [item["index"] for item in body["data"]] == list(range(1, len(TEXTS) - 1))
    assert "input 1: HTTP 400" in batch.stderr and "input 23: HTTP 400" in batch.stderr


@pytest.mark.parametrize("command", [["embeddings"], ["classifiers", "moderate"]])
def test_json_with_skip_past_the_end_is_the_empty_body_online_and_via_batch(cli, api, corpus, command):
    for route in ([], ["--via", "batch"]):
        result = cli(*command, "-f", corpus, "--skip", "99", "-o", "json", *route)
        assert result.exit_code == 0, result
        body = json.loads(result.stdout)
        assert body["data" if command == ["embeddings"] else "results"] == []
        assert body["model"]
    assert api.requests == []
