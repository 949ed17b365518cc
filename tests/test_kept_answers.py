"""Answers kept for the resume of a grouped run (embeddings, classifiers): used only by the
same requests to the same server with the same account, reported on stderr, forgotten after
a week; and whatever stops a run midway (bad input, a full disk, Ctrl-C, an internal error),
the answered groups are written or kept, and the resume hint, run as printed, pays for none
of them again."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY, Result
from tests.fakeapi import FakeAPI, error_400, json_response
from tests.process_helpers import read_line, start_mcli

EMBEDDINGS = "/v1/embeddings"
MODERATIONS = "/v1/moderations"
SKIP_HINT = re.compile(r"resume with --skip (\d+)")


def embedding_answer(req) -> object:
    """An EmbeddingResponse whose vectors carry each text's number (texts are 't<N>...')."""
    return json_response({"id": "emb-1", "object": "list", "model": req.json["model"],
                          "data": [{"object": "embedding", "index": i, "embedding": [float(text[1:].split("-")[0])]}
                                   for i, text in enumerate(req.json["input"])],
                          "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}})


def moderation_answer(flag_threats: bool):
    """A moderations handler: texts with 'kill' flagged for violence when FLAG_THREATS."""
    def respond(req):
        results = [{"categories": {"violence_and_threats": flag_threats and "kill" in text},
                    "category_scores": {"violence_and_threats": 0.9 if flag_threats and "kill" in text else 0.01}}
                   for text in req.json["input"]]
        return json_response({"id": "mod-1", "model": req.json["model"], "results": results})
    return respond


def numbered(count: int, first: int = 0) -> str:
    return "".join(f"t{n}\n" for n in range(first, first + count))


def indexes(result) -> list[int]:
    return [json.loads(line)["index"] for line in result.stdout.splitlines()]


def sent_texts(server, path: str = EMBEDDINGS) -> list[str]:
    return [text for req in server.requests_to("POST", path) for text in req.json["input"]]


def kept_folder() -> Path:
    return Path(os.environ["MCLI_DATA_DIR"]) / "kept-answers"


def kept_files() -> list[Path]:
    return sorted(kept_folder().glob("*.json"))


def skip_of(stderr: str) -> int:
    """The N of the `resume with --skip N` hint in STDERR (fails when there is none)."""
    found = SKIP_HINT.search(stderr)
    assert found, stderr
    return int(found.group(1))


@pytest.fixture
def other_api():
    """A second fake server, for the answers one server gave and another must not reuse."""
    server = FakeAPI().start()
    try:
        yield server
    finally:
        server.stop()
    problems = server.problems()
    if problems:
        pytest.fail("FakeAPI problems:\n  " + "\n  ".join(problems), pytrace=False)


def first_fails_second_kept(server, flag_threats: bool) -> None:
    """SERVER refuses the group holding 'line 1' once both groups are in flight, answers the rest."""
    both_sent = threading.Barrier(2, timeout=10)
    answer = moderation_answer(flag_threats)

    def respond(req):
        both_sent.wait()
        return error_400("refused") if req.json["input"] == ["line 1"] else answer(req)
    server.add("POST", MODERATIONS, respond, times=2)


def fail_first_group(api, cli, tmp_path) -> tuple[Path, list[str]]:
    """Run a moderation of two lines against API, which fails the first and passes the
    threat as clean: the threat's answer is kept. The file and the command's arguments."""
    texts = tmp_path / "c.txt"
    texts.write_text("line 1\nI will kill you\n", encoding="utf-8")
    first_fails_second_kept(api, flag_threats=False)
    args = ["classifiers", "moderate", "-f", str(texts), "--fail-on", "any", "--per-request", "1", "-j", "2",
            "--max-retries", "0", "-o", "jsonl"]
    failed = cli(*args)
    assert failed.exit_code == 1, failed
    assert "are kept" in failed.stderr and len(kept_files()) == 1, failed
    return texts, args


# -- whose answers a kept answer stands in for --------------------------------------------------


def test_another_servers_kept_verdict_never_passes_the_gate(api, other_api, cli, tmp_path):
    _texts, args = fail_first_group(api, cli, tmp_path)
    other_api.add("POST", MODERATIONS, moderation_answer(flag_threats=True), times=2)
    gated = cli("--server-url", other_api.url, *args)
    assert gated.exit_code == 6, gated
    assert "flagged" in gated.stderr and "kept answer" not in gated.stderr
    assert sorted(sent_texts(other_api, MODERATIONS)) == ["I will kill you", "line 1"]


def test_another_accounts_kept_answer_is_not_used(api, cli, tmp_path, monkeypatch):
    _texts, args = fail_first_group(api, cli, tmp_path)
    monkeypatch.setenv("MISTRAL_API_KEY", "another-account-key")
    api.add("POST", MODERATIONS, moderation_answer(flag_threats=True), times=2)
    gated = cli(*args)
    assert gated.exit_code == 6, gated
    assert len(api.requests_to("POST", MODERATIONS)) == 4
    assert not any(TEST_API_KEY in path.read_text(encoding="utf-8") or TEST_API_KEY in path.name
                   for path in kept_folder().iterdir())


def test_the_same_server_spelled_otherwise_and_account_reuse_it_and_say_so(api, cli, tmp_path):
    _texts, args = fail_first_group(api, cli, tmp_path)
    kept_at = json.loads(kept_files()[0].read_text(encoding="utf-8"))["kept_at"]
    api.add("POST", MODERATIONS, moderation_answer(flag_threats=True), times=1)
    spelled = api.url.replace("http://127.0.0.1", "HTTP://127.0.0.1") + "/"
    resumed = cli("--server-url", spelled, *args)
    assert resumed.exit_code == 0, resumed  # the kept verdict of this server stands
    assert [r.json["input"] for r in api.requests_to("POST", MODERATIONS)[2:]] == [["line 1"]]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(kept_at))
    assert f"used 1 kept answer(s) instead of sending those requests again (kept {stamp}" in resumed.stderr
    assert kept_files() == []  # used once, then forgotten


def test_a_kept_answer_older_than_a_week_is_deleted_not_used(api, cli, tmp_path):
    _texts, args = fail_first_group(api, cli, tmp_path)
    path = kept_files()[0]
    saved = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**saved, "kept_at": saved["kept_at"] - 8 * 24 * 3600}), encoding="utf-8")
    stale_part = kept_folder() / "left-by-a-killed-run.part"
    stale_part.write_text("{", encoding="utf-8")
    week_ago = time.time() - 8 * 24 * 3600
    os.utime(stale_part, (week_ago, week_ago))
    api.add("POST", MODERATIONS, moderation_answer(flag_threats=True), times=2)
    gated = cli(*args)
    assert gated.exit_code == 6, gated
    assert "kept answer" not in gated.stderr
    assert len(api.requests_to("POST", MODERATIONS)) == 4
    assert list(kept_folder().iterdir()) == []


def test_other_options_or_another_place_in_the_input_do_not_reuse_it(api, cli, tmp_path):
    texts, args = fail_first_group(api, cli, tmp_path)
    api.add("POST", MODERATIONS, moderation_answer(flag_threats=True), times=2)
    other_model = cli(*args, "-m", "mistral-moderation-2411")
    assert other_model.exit_code == 6, other_model
    texts.write_text("I will kill you\n", encoding="utf-8")  # the same text, now input 1
    api.add("POST", MODERATIONS, moderation_answer(flag_threats=True), times=1)
    moved = cli(*args)
    assert moved.exit_code == 6, moved
    assert len(api.requests_to("POST", MODERATIONS)) == 5 and len(kept_files()) == 1


# -- a run stopped midway: answered groups are written or kept ----------------------------------


def run_with(argv: list[str], stdin: bytes, stdout) -> Result:
    """Run mcli in-process with STDIN and the text stream STDOUT (stderr captured)."""
    from mistral_cli.app import main
    from mistral_cli.env import Env, PipeWriter

    err = io.StringIO()
    env = Env(io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"), PipeWriter(stdout), err,
              environ=dict(os.environ))
    code = main(argv, env)
    return Result(code, "", err.getvalue())


class FullDisk(io.StringIO):
    """A stdout that takes LIMIT characters, then fails as a full disk does."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def write(self, text: str) -> int:
        if self.tell() + len(text) > self.limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(text)


@pytest.mark.parametrize("command", ["embeddings", "moderate"])
def test_bad_utf8_in_piped_stdin_writes_the_answered_groups_and_the_hint_resumes_exactly(api, cli, command):
    path, answer, args = ((EMBEDDINGS, embedding_answer, ["embeddings"]) if command == "embeddings" else
                          (MODERATIONS, moderation_answer(False), ["classifiers", "moderate"]))
    api.add("POST", path, answer)
    pad = "-" + "x" * 96  # lines of 100 bytes: the bad byte lies past the first chunk stdin decodes
    good = [f"t{n}{pad}" for n in range(120)]
    bad = "\n".join(good[:100]).encode() + b"\n\xff\n" + "\n".join(good[100:]).encode() + b"\n"
    failed = cli(*args, "--per-request", "20", "-j", "4", input=bad)
    assert failed.exit_code == 2, failed
    assert "not UTF-8" in failed.stderr
    skip = skip_of(failed.stderr)
    assert 0 < skip == len(failed.stdout.splitlines())  # every answered group written, none lost
    assert len(api.requests_to("POST", path)) * 20 == skip
    fixed = ("\n".join(good) + "\n").encode()
    resumed = cli(*args, "--per-request", "20", "-j", "4", "--skip", str(skip), input=fixed)
    assert resumed.exit_code == 0, resumed
    assert sorted(sent_texts(api, path)) == sorted(good)  # each text paid for once
    assert indexes(failed) + indexes(resumed) == list(range(120))


def test_a_full_disk_keeps_the_answered_groups_and_the_resume_sends_none_again(api, cli):
    api.add("POST", EMBEDDINGS, embedding_answer)
    one_group = len('{"index":0,"text":"t0","embedding":[0.0]}\n{"index":1,"text":"t1","embedding":[1.0]}\n')
    failed = run_with(["embeddings", "--per-request", "2", "-j", "4"], numbered(8).encode(), FullDisk(one_group))
    assert failed.exit_code == 1, failed
    assert "No space left on device" in failed.stderr
    skip = skip_of(failed.stderr)
    assert skip == 2 and "3 answered group(s) are kept" in failed.stderr
    resumed = cli("embeddings", "--per-request", "2", "-j", "4", "--skip", str(skip), input=numbered(8))
    assert resumed.exit_code == 0, resumed
    assert indexes(resumed) == [2, 3, 4, 5, 6, 7]
    assert len(api.requests_to("POST", EMBEDDINGS)) == 4  # none sent again
    assert "used 3 kept answer(s)" in resumed.stderr


def test_a_full_disk_on_the_first_group_says_to_run_the_same_command_again(api, cli):
    api.add("POST", EMBEDDINGS, embedding_answer)
    failed = run_with(["embeddings", "--per-request", "2"], numbered(4).encode(), FullDisk(0))
    assert failed.exit_code == 1, failed
    assert "--skip" not in failed.stderr
    assert "nothing was written; 2 answered group(s) are kept" in failed.stderr
    assert "run the same command again" in failed.stderr
    again = cli("embeddings", "--per-request", "2", input=numbered(4))
    assert again.exit_code == 0 and indexes(again) == [0, 1, 2, 3], again
    assert len(api.requests_to("POST", EMBEDDINGS)) == 2


def test_an_internal_error_keeps_the_answered_groups_and_the_hint_resumes(api, cli, monkeypatch):
    from mistral_cli.commands import embeddings

    api.add("POST", EMBEDDINGS, embedding_answer)
    write = embeddings.JsonlWriter.group

    def broken(self, group, body):
        if group.start == 2:
            raise RuntimeError("a bug")
        write(self, group, body)

    monkeypatch.setattr(embeddings.JsonlWriter, "group", broken)
    failed = cli("embeddings", "--per-request", "2", "-j", "4", input=numbered(8))
    assert failed.exit_code == 1 and "internal error: RuntimeError" in failed.stderr, failed
    assert indexes(failed) == [0, 1]
    skip = skip_of(failed.stderr)
    monkeypatch.setattr(embeddings.JsonlWriter, "group", write)
    resumed = cli("embeddings", "--per-request", "2", "-j", "4", "--skip", str(skip), input=numbered(8))
    assert resumed.exit_code == 0 and indexes(resumed) == [2, 3, 4, 5, 6, 7], resumed
    assert "3 answered group(s) are kept" in failed.stderr
    assert len(api.requests_to("POST", EMBEDDINGS)) == 4
    assert sorted(sent_texts(api)) == sorted(f"t{n}" for n in range(8))  # each paid for once


def test_no_resume_hint_when_the_server_is_down_and_nothing_was_done(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", TEST_API_KEY)
    small = tmp_path / "small.txt"
    small.write_text("a\nb\n", encoding="utf-8")
    failed = cli("--server-url", "http://127.0.0.1:9", "--max-retries", "0", "embeddings", "-f", small)
    assert failed.exit_code == 1, failed
    assert "--skip" not in failed.stderr and "resume" not in failed.stderr


def test_ctrl_c_keeps_the_answered_groups_and_the_resume_as_printed_sends_none_again(api, cli, tmp_path):
    release = threading.Event()
    held = threading.Event()

    def slow_second_group(req):
        if req.json["input"][0] == "t2" and not held.is_set():
            held.set()
            release.wait(30)  # group 1 hangs until the test lets it go
        return embedding_answer(req)

    api.add("POST", EMBEDDINGS, slow_second_group)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(numbered(10), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["embeddings", "-f", corpus, "--per-request", "2", "-j", "4"]
    try:
        with out.open("wb") as sink:
            proc = start_mcli("-v", *args, stdout=sink)
            responses = 0
            while responses < 4:  # groups 0, 2, 3 and 4 answered, group 1 still waiting
                responses += read_line(proc.stderr).startswith(b"< 200")
            time.sleep(0.2)  # let the last answer reach its future
            proc.send_signal(signal.SIGINT)
            assert read_line(proc.stderr).startswith(b"waiting up to 10 s for 1 request(s) in flight")
            release.set()  # group 1's answer comes after Ctrl-C: it is kept too
            hint = b""
            while not hint.startswith(b"interrupted:"):
                hint = read_line(proc.stderr)
            _, err = proc.communicate(timeout=30)
    finally:
        release.set()
    assert proc.returncode == 130, err
    stderr = hint.decode()
    assert stderr.startswith("interrupted: every input before input 3 was written; resume with --skip 2; "
                             "4 answered group(s) are kept"), stderr
    before = len(api.requests_to("POST", EMBEDDINGS))
    resumed = cli(*args, "--skip", str(skip_of(stderr)))
    assert resumed.exit_code == 0, resumed
    assert len(api.requests_to("POST", EMBEDDINGS)) == before == 5  # each group paid for once
    assert "used 4 kept answer(s)" in resumed.stderr
    assert [json.loads(line)["index"] for line in out.read_text().splitlines()] + indexes(resumed) == list(range(10))


# -- an OCR answer that could not be written ------------------------------------------------------


def test_an_ocr_answer_refused_by_its_folder_is_kept_and_the_same_command_writes_it(api, cli, tmp_path):
    from tests.ocr_helpers import ocr_body, page, pdf_bytes

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_bytes())
    api.add("POST", "/v1/ocr", json_response(ocr_body(page(0, "# Zero"), page(1, "# One"))), times=1)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    args = ["ocr", pdf, "--output-dir", blocker / "out", "--delete-upload"]
    refused = cli(*args)
    assert refused.exit_code == 2 and "cannot create" in refused.stderr, refused
    assert "the answer is kept (it was paid for): the same command writes it" in refused.stderr
    blocker.unlink()
    blocker.mkdir()
    again = cli(*args)
    assert again.exit_code == 0, again
    assert (blocker / "out" / "page-001.md").read_text() == "# One\n"
    assert "used 1 kept answer(s)" in again.stderr
    assert len(api.requests_to("POST", "/v1/ocr")) == 1 and len(api.requests_to("POST", "/v1/files")) == 1
    assert kept_files() == []


def test_an_ocr_answer_lost_to_a_full_disk_is_kept_and_the_same_command_prints_it(api, cli, tmp_path):
    from tests.ocr_helpers import png_bytes

    png = tmp_path / "scan.png"
    png.write_bytes(png_bytes())
    full = run_with(["ocr", str(png)], b"", FullDisk(0))
    assert full.exit_code == 1 and "No space left on device" in full.stderr, full
    assert "the answer is kept" in full.stderr
    again = cli("ocr", png)
    assert again.exit_code == 0 and again.stdout == "# Page 1\n\nHello.\n", again
    assert len(api.requests_to("POST", "/v1/ocr")) == 1


def test_a_malformed_ocr_answer_is_not_kept(api, cli, tmp_path):
    from tests.ocr_helpers import ocr_body, page, png_bytes

    png = tmp_path / "scan.png"
    png.write_bytes(png_bytes())
    api.add("POST", "/v1/ocr", json_response(ocr_body(page(2, "# Two"), page(2, "# Two?"))), times=1)
    refused = cli("ocr", png, "--output-dir", tmp_path / "out")
    assert refused.exit_code == 1 and "would both be page-002.md" in refused.stderr, refused
    assert "kept" not in refused.stderr and kept_files() == []


def test_a_second_ctrl_c_gives_up_the_requests_in_flight_and_says_so(monkeypatch):
    from mistral_cli.commands.shared import text_groups
    from mistral_cli.env import Env

    release = threading.Event()

    def send(texts):
        if texts[0] == "e":
            release.wait(10)  # in flight when Ctrl-C comes
        return {"data": texts}

    def write(group, body):
        if group.start == 2:
            raise KeyboardInterrupt

    def second_ctrl_c(futures, timeout):
        raise KeyboardInterrupt

    monkeypatch.setattr(text_groups, "wait_for", second_ctrl_c)
    environ = {"MISTRAL_API_KEY": TEST_API_KEY, "MCLI_DATA_DIR": os.environ["MCLI_DATA_DIR"]}
    env = Env(io.StringIO(), io.StringIO(), io.StringIO(), environ=environ)
    blocked = (text_groups.TextGroup(0, ["a", "b"], 4), text_groups.TextGroup(2, ["c", "d"], 4),
               text_groups.TextGroup(4, ["e", "f"], 4))
    try:
        with pytest.raises(KeyboardInterrupt):
            text_groups.run_groups(env, iter(blocked), send, write, concurrency=3, total=None, label="x", model="m")
    finally:
        release.set()
        env.close()
    said = env.stderr.getvalue()
    assert "waiting up to 10 s for 1 request(s) in flight" in said
    assert ("resume with --skip 2; 1 answered group(s) are kept: the resume will not send them again; "
            "1 request(s) in flight were given up: the resume sends them again") in said


def ctrl_c_once_waiting(main: int) -> None:
    """SIGINT to this process once the thread MAIN waits to keep the answers in flight."""
    import sys
    import traceback

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stack = traceback.extract_stack(sys._current_frames()[main])
        if any(frame.name == "keep_answered" for frame in stack):
            os.kill(os.getpid(), signal.SIGINT)
            return
        time.sleep(0.01)


def test_ctrl_c_while_an_error_waits_for_the_requests_in_flight_keeps_what_came():
    from mistral_cli.commands.shared import text_groups
    from mistral_cli.env import Env
    from mistral_cli.errors import MCLIError

    release = threading.Event()

    def send(texts):
        if texts[0] == "a":
            raise MCLIError("refused")
        if texts[0] == "e":
            threading.Thread(target=ctrl_c_once_waiting, args=(threading.main_thread().ident,)).start()
            release.wait(10)
        return {"data": texts}

    environ = {"MISTRAL_API_KEY": TEST_API_KEY, "MCLI_DATA_DIR": os.environ["MCLI_DATA_DIR"]}
    env = Env(io.StringIO(), io.StringIO(), io.StringIO(), environ=environ)
    three = (text_groups.TextGroup(0, ["a", "b"], 4), text_groups.TextGroup(2, ["c", "d"], 4),
             text_groups.TextGroup(4, ["e", "f"], 4))
    try:
        with pytest.raises(MCLIError) as raised:
            text_groups.run_groups(env, iter(three), send, lambda group, body: None, concurrency=3,
                                   total=None, label="x", model="m")
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C while waiting replaced the error and its resume hint")
    finally:
        release.set()
        env.close()
    assert raised.value.details == [
        "stopped at input 1: nothing was written; 1 answered group(s) are kept: the resume will not send them "
        "again; 1 request(s) in flight were given up: the resume sends them again (run the same command again)"]
