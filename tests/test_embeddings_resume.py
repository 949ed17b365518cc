"""`mcli embeddings` interrupted: after SIGINT or SIGTERM at any moment, the printed `--skip N`
equals the number of complete inputs in the output, so resuming as told neither duplicates nor
loses a line. Real subprocesses."""

from __future__ import annotations

import json
import re
import signal
import time

import pytest

from tests.fakeapi import json_response
from tests.process_helpers import start_mcli

PATH = "/v1/embeddings"
DIMENSIONS = 3000  # long lines: writing a batch takes long enough to be interrupted in the middle


def wide_answer(req) -> object:
    """An EmbeddingResponse with a long vector per input."""
    return json_response({"id": "emb-1", "object": "list", "model": req.json["model"],
                          "data": [{"object": "embedding", "index": i, "embedding": [0.123456789] * DIMENSIONS}
                                   for i in range(len(req.json["input"]))],
                          "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}})


def complete_lines(path) -> int:
    """How many whole JSON lines the file at PATH holds (a cut last line is not counted)."""
    count = 0
    for line in path.read_bytes().split(b"\n"):
        try:
            json.loads(line)
        except ValueError:
            continue
        count += 1
    return count


def wait_for_bytes(path, size: int) -> None:
    deadline = time.monotonic() + 60
    while not path.exists() or path.stat().st_size < size:
        assert time.monotonic() < deadline, "the output never grew"
        time.sleep(0.005)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_resume_hint_equals_the_complete_lines_written_at_any_moment(api, tmp_path, signum):
    api.add("POST", PATH, wide_answer, times=10_000)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"t{n}\n" for n in range(3000)), encoding="utf-8")
    for moment, threshold in enumerate([1, 150_000, 400_000, 900_000, 1_500_000, 2_300_000]):
        out = tmp_path / f"out{moment}.jsonl"
        with out.open("wb") as sink:
            proc = start_mcli("embeddings", "-f", corpus, "--per-request", "25", "-j", "2", stdout=sink)
            try:
                wait_for_bytes(out, threshold)
                proc.send_signal(signum)
                _, err = proc.communicate(timeout=60)
            finally:
                proc.kill()
        assert proc.returncode == 130, err
        hint = re.search(rb"resume with --skip (\d+)", err)
        assert hint, err
        written = complete_lines(out)
        assert out.read_bytes().endswith(b"\n"), "a cut line was left in the output"
        assert int(hint.group(1)) == written, (moment, err)
