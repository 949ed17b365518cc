"""`mcli embeddings` against the fake API: inputs, batching in order under concurrency, a
failure in the middle of a run and its resume, retries, and each output format."""

from __future__ import annotations

import json
import re
import threading

import pytest

from mistral_cli.commands.embeddings import cosine, norm, similarity_matrix
from mistral_cli.commands.shared import text_groups as grouping
from tests.fakeapi import error_400, error_empty, json_response

PATH = "/v1/embeddings"


def vector_for(text: str) -> list[float]:
    """A recognisable vector: the text's number (texts are 't<N>') and its length."""
    return [float(text[1:]) if text[1:].isdigit() else 0.5, float(len(text))]


def answer(req, *, usage: int = 3) -> object:
    """An EmbeddingResponse for the request's inputs, each vector made from its text."""
    inputs = req.json["input"]
    return json_response({"id": "emb-1", "object": "list", "model": req.json["model"],
                          "data": [{"object": "embedding", "index": i, "embedding": vector_for(text)}
                                   for i, text in enumerate(inputs)],
                          "usage": {"prompt_tokens": usage, "completion_tokens": 0, "total_tokens": usage}})


def lines_of(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def numbered(count: int) -> str:
    return "".join(f"t{n}\n" for n in range(count))


# -- inputs and the request ----------------------------------------------------------------


def test_arguments_are_embedded_in_one_request_with_the_default_model(api, cli):
    api.add("POST", PATH, answer)
    result = cli("embeddings", "t0", "t1")
    assert result.exit_code == 0, result
    assert api.last("POST", PATH).json == {"model": "mistral-embed", "input": ["t0", "t1"]}
    assert lines_of(result) == [{"index": 0, "text": "t0", "embedding": [0.0, 2.0]},
                                {"index": 1, "text": "t1", "embedding": [1.0, 2.0]}]


def test_the_profile_model_then_the_option(api, cli):
    api.add("POST", PATH, answer, times=2)
    assert cli("config", "set", "model.embeddings", "embed-from-profile").exit_code == 0
    assert cli("embeddings", "t0").exit_code == 0
    assert api.last("POST", PATH).json["model"] == "embed-from-profile"
    assert cli("embeddings", "t0", "-m", "mistral-embed-2").exit_code == 0
    assert api.last("POST", PATH).json["model"] == "mistral-embed-2"


def test_input_file_lines_are_batched_and_blank_lines_skipped(api, cli, tmp_path):
    api.add("POST", PATH, answer)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("t0\n\nt1\r\nt2\n   \nt3\nt4", encoding="utf-8")
    result = cli("embeddings", "--input-file", corpus, "--per-request", "2", "-j", "1")
    assert result.exit_code == 0, result
    assert [r.json["input"] for r in api.requests_to("POST", PATH)] == [["t0", "t1"], ["t2", "t3"], ["t4"]]
    assert [line["index"] for line in lines_of(result)] == [0, 1, 2, 3, 4]
    assert [line["text"] for line in lines_of(result)] == ["t0", "t1", "t2", "t3", "t4"]


def test_piped_stdin_lines_and_input_file_dash(api, cli):
    api.add("POST", PATH, answer, times=2)
    piped = cli("embeddings", input="t0\nt1\n")
    assert [line["text"] for line in lines_of(piped)] == ["t0", "t1"]
    dash = cli("embeddings", "--input-file", "-", input="t5\n")
    assert [line["embedding"] for line in lines_of(dash)] == [[5.0, 2.0]]


def test_no_stdin_means_no_input(api, cli):
    result = cli("embeddings", "--no-stdin", input="t0\n")
    assert result.exit_code == 2
    assert "no input" in result.stderr
    assert api.requests_to("POST", PATH) == []


@pytest.mark.parametrize("args, message", [
    (["--per-request", "0"], "--per-request"),
    (["--concurrency", "0"], "--concurrency"),
    (["--concurrency", "65"], "--concurrency"),
    (["--skip", "-1"], "--skip"),
    (["t0", "--input-file", "x.txt"], "not both"),
    (["--input-file", "missing.txt"], "no such file"),
])
def test_bad_options_stop_before_any_request(api, cli, args, message):
    result = cli("embeddings", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert api.requests == []


def test_an_empty_input_file_is_refused(api, cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    result = cli("embeddings", "-f", empty)
    assert (result.exit_code, "no input" in result.stderr) == (2, True)


# -- order under concurrency --------------------------------------------------------------------


def test_output_keeps_input_order_when_the_server_answers_out_of_order(api, cli):
    """Four batches in flight at once (each waits until all four have arrived), answered in
    reverse order (each then waits until the next one was answered): output is still in
    input order."""
    answered: dict[str, threading.Event] = {f"t{n}": threading.Event() for n in range(0, 8, 2)}
    all_in = threading.Barrier(4)
    in_flight = [0, 0]  # now, most
    lock = threading.Lock()

    def slow_first(req):
        first = req.json["input"][0]
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
        try:
            all_in.wait(10)
        except threading.BrokenBarrierError:
            pass  # fewer than four in flight: the assertion below says so
        after = {"t0": "t2", "t2": "t4", "t4": "t6", "t6": None}[first]
        if after is not None:
            answered[after].wait(10)
        with lock:
            in_flight[0] -= 1
        answered[first].set()
        return answer(req)

    api.add("POST", PATH, slow_first)
    result = cli("embeddings", "--per-request", "2", "--concurrency", "4", input=numbered(8))
    assert result.exit_code == 0, result
    assert [line["index"] for line in lines_of(result)] == list(range(8))
    assert [line["embedding"][0] for line in lines_of(result)] == [float(n) for n in range(8)]
    assert in_flight[1] == 4  # all four batches were in flight together


def test_concurrency_one_sends_one_batch_at_a_time(api, cli):
    in_flight = [0, 0]
    lock = threading.Lock()

    def counted(req):
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        response = answer(req)
        with lock:
            in_flight[0] -= 1
        return response

    api.add("POST", PATH, counted)
    result = cli("embeddings", "--per-request", "1", "-j", "1", input=numbered(5))
    assert result.exit_code == 0, result
    assert (len(api.requests_to("POST", PATH)), in_flight[1]) == (5, 1)


# -- failure, resume, retries --------------------------------------------------------------------------


def test_a_failure_mid_run_keeps_what_came_before_and_says_where_to_resume(api, cli):
    def fail_third(req):
        return error_400("input too long") if req.json["input"][0] == "t4" else answer(req)

    api.add("POST", PATH, fail_third)
    result = cli("embeddings", "--per-request", "2", "-j", "1", input=numbered(8))
    assert result.exit_code == 1  # a 400 is not retried
    assert [line["index"] for line in lines_of(result)] == [0, 1, 2, 3]
    assert "stopped at input 5" in result.stderr
    assert "resume with --skip 4" in result.stderr
    assert len(api.requests_to("POST", PATH)) == 3  # nothing sent after the failed batch


def test_a_server_error_after_retries_exits_1_and_resume_continues(api, cli):
    failing = [True]

    def fail_third(req):
        return error_empty(500) if failing[0] and req.json["input"][0] == "t4" else answer(req)

    api.add("POST", PATH, fail_third)
    failed = cli("embeddings", "--per-request", "2", "-j", "2", "--max-retries", "0", input=numbered(8))
    assert failed.exit_code == 1
    assert [line["index"] for line in lines_of(failed)] == [0, 1, 2, 3]
    assert "resume with --skip 4" in failed.stderr
    failing[0] = False
    sent_before = len(api.requests_to("POST", PATH))
    resumed = cli("embeddings", "--per-request", "2", "--skip", "4", input=numbered(8))
    assert resumed.exit_code == 0, resumed
    assert [line["index"] for line in lines_of(resumed)] == [4, 5, 6, 7]
    assert ["t4", "t5"] in [r.json["input"] for r in api.requests_to("POST", PATH)[sent_before:]]


def test_answers_of_later_batches_are_kept_for_the_resume_not_bought_twice(api, cli):
    failing = [True]
    started = threading.Barrier(4, timeout=10)

    def fail_second(req):
        if failing[0]:
            started.wait()  # all four batches are in flight before any is answered
            if req.json["input"][0] == "t2":
                return error_400("input too long")
        return answer(req)

    api.add("POST", PATH, fail_second)
    failed = cli("embeddings", "--per-request", "2", "-j", "4", input=numbered(8))
    assert failed.exit_code == 1
    assert [line["index"] for line in lines_of(failed)] == [0, 1]
    assert "resume with --skip 2" in failed.stderr
    assert "2 answered group(s) are kept: the resume will not send them again" in failed.stderr
    failing[0] = False
    sent_before = len(api.requests_to("POST", PATH))
    resumed = cli("embeddings", "--per-request", "2", "--skip", "2", input=numbered(8))
    assert resumed.exit_code == 0, resumed
    assert [line["index"] for line in lines_of(resumed)] == [2, 3, 4, 5, 6, 7]
    assert [line["embedding"][0] for line in lines_of(resumed)] == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert [r.json["input"] for r in api.requests_to("POST", PATH)[sent_before:]] == [["t2", "t3"]]
    again = cli("embeddings", "--per-request", "2", "--skip", "2", input=numbered(8))
    assert again.exit_code == 0, again
    assert len(api.requests_to("POST", PATH)) == sent_before + 1 + 3  # each kept answer used once


def test_a_5xx_is_retried_because_embeddings_create_nothing(api, cli):
    api.add("POST", PATH, error_empty(503), times=1)
    api.add("POST", PATH, answer)
    result = cli("embeddings", "t1")
    assert result.exit_code == 0, result
    assert len(api.requests_to("POST", PATH)) == 2


# -- output formats ----------------------------------------------------------------------------------


def test_json_is_one_body_with_every_embedding_in_order_and_usage_summed(api, cli):
    api.add("POST", PATH, answer)
    result = cli("embeddings", "-o", "json", "--per-request", "2", input=numbered(5))
    assert result.exit_code == 0, result
    body = json.loads(result.stdout)
    assert [item["index"] for item in body["data"]] == [0, 1, 2, 3, 4]
    assert [item["embedding"][0] for item in body["data"]] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert body["usage"] == {"prompt_tokens": 9, "completion_tokens": 0, "total_tokens": 9}
    assert (body["id"], body["object"], body["model"]) == ("emb-1", "list", "mistral-embed")


def test_json_of_one_request_is_the_body_exactly(api, cli):
    api.add("POST", PATH, answer)
    result = cli("embeddings", "t1", "t2", "-o", "json")
    expected = answer(api.last("POST", PATH)).json
    assert result.stdout == json.dumps(expected, ensure_ascii=False, indent=2) + "\n"


def test_json_after_skip_counts_indexes_from_zero_like_one_request(api, cli):
    api.add("POST", PATH, answer)
    result = cli("embeddings", "-o", "json", "--skip", "3", input=numbered(5))
    assert [item["index"] for item in json.loads(result.stdout)["data"]] == [0, 1]


def test_text_prints_the_values_tab_separated(api, cli):
    api.add("POST", PATH, answer)
    result = cli("embeddings", "t3", "t12", "-o", "text")
    assert result.stdout.splitlines() == ["3.0\t2.0", "12.0\t3.0"]


@pytest.fixture
def styled(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "160")


def test_terminal_table_with_norm_and_similarity_matrix(api, cli, styled):
    api.add("POST", PATH, answer)
    result = cli("embeddings", "t3", "t4", "t0", tty=True)
    assert result.exit_code == 0, result
    assert "DIMS" in result.stdout and "NORM" in result.stdout
    assert f"{norm([3.0, 2.0]):.4f}" in result.stdout
    assert "cosine similarity" in result.stdout
    assert f"{cosine([3.0, 2.0], [0.0, 2.0]):.3f}" in result.stdout


def test_terminal_table_without_matrix_for_one_input_or_over_twenty(api, cli, styled):
    api.add("POST", PATH, answer, times=2)
    one = cli("embeddings", "t3", tty=True)
    assert "NORM" in one.stdout and "cosine similarity" not in one.stdout
    many = cli("embeddings", *[f"t{n}" for n in range(21)], tty=True)
    assert "cosine similarity" not in many.stdout and "t20" in many.stdout


@pytest.mark.parametrize("width", [60, 80])
def test_terminal_table_keeps_each_row_on_one_line(api, cli, monkeypatch, width):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", str(width))

    def long_vectors(req):
        return json_response({"id": "emb-1", "object": "list", "model": req.json["model"],
                              "data": [{"object": "embedding", "index": 0, "embedding": [0.123456] * 8}],
                              "usage": {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3}})

    api.add("POST", PATH, long_vectors)
    result = cli("embeddings", "a rather long sentence about cheese and wine in France today", tty=True)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    lines = [line for line in plain.splitlines() if line.strip()]
    assert len(lines) == 3 and max(map(len, lines)) <= width, plain  # header, rule, one row
    assert "a rather long" in lines[2] and "…" in lines[2] and "+0.1235" in lines[2]


# -- pieces ---------------------------------------------------------------------------------------------


def test_batches_skip_and_cut():
    got = list(grouping.groups(iter(["a", "b", "c", "d", "e"]), 2, skip=1))
    assert [(batch.start, batch.texts) for batch in got] == [(1, ["b", "c"]), (3, ["d", "e"])]


def test_cosine_and_matrix():
    assert cosine([1.0, 0.0], [0.0, 1.0]) == 0.0
    assert cosine([1.0, 1.0], [2.0, 2.0]) == pytest.approx(1.0)
    assert cosine([0.0, 0.0], [1.0, 0.0]) == 0.0
    assert similarity_matrix([[1.0, 0.0], [1.0, 0.0]]) == [[1.0, 1.0], [1.0, 1.0]]


def test_a_progress_bar_on_a_styled_terminal_only(api, cli, styled, tmp_path):
    api.add("POST", PATH, answer, times=2)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(numbered(6), encoding="utf-8")
    on_tty = cli("embeddings", "-f", corpus, "--per-request", "2", "--color", "always")
    assert "embedding" in on_tty.stderr and "━" in on_tty.stderr
    piped = cli("embeddings", "-f", corpus, "--per-request", "2")
    assert piped.stderr == ""


def test_an_answer_with_the_wrong_number_of_vectors_stops_the_run(api, cli):
    def one_short(req):
        response = answer(req)
        if req.json["input"][0] == "t2":
            body = response.json
            body["data"] = body["data"][:1]
            return json_response(body)
        return response

    api.add("POST", PATH, one_short)
    result = cli("embeddings", "--per-request", "2", "-j", "1", input=numbered(6))
    assert result.exit_code == 1
    assert [line["index"] for line in lines_of(result)] == [0, 1]
    assert "answered 1 data item(s) for 2 input(s)" in result.stderr
    assert "resume with --skip 2" in result.stderr


def test_ctrl_c_says_where_to_resume():
    import io
    import os

    from mistral_cli.env import Env

    environ = {"MISTRAL_API_KEY": "test-key", "MCLI_DATA_DIR": os.environ["MCLI_DATA_DIR"]}
    env = Env(io.StringIO(), io.StringIO(), io.StringIO(), environ=environ)
    written: list[list[str]] = []

    def write(batch, body):
        if batch.start == 2:
            raise KeyboardInterrupt
        written.append(body["data"])

    try:
        with pytest.raises(KeyboardInterrupt):
            grouping.run_groups(env, grouping.groups(iter("abcdef"), 2), lambda texts: {"data": texts},
                                 write, concurrency=2, total=None, label="x", model="m")
    finally:
        env.close()
    assert written == [["a", "b"]]
    assert "resume with --skip 2" in env.stderr.getvalue()


def test_the_old_option_name_still_cuts_texts_into_requests(api, cli):
    """`--batch-size` (the old name of --per-request) keeps working in existing scripts."""
    result = cli("embeddings", "--batch-size", "2", "-j", "1", input="a\nb\nc\n")
    assert result.exit_code == 0, result
    assert [len(r.json["input"]) for r in api.requests_to("POST", PATH)] == [2, 1]
