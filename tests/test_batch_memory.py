"""`batch create --from-prompts` keeps memory flat: the prompts are read, turned into requests
and written to a temporary file line by line, and that file is uploaded streamed.

Measured as the peak RSS of a real mcli process (tests/memory_helpers.py's gauge): a
file of 400,000 prompts must cost the process almost nothing more than a file of 10.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.memory_helpers import MiB, run_measured

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs RSS")

PROMPT = "Summarise the following sentence in five words or fewer: " + "lorem ipsum dolor " * 4


def prompts_file(path, count: int):
    with path.open("w") as handle:
        for number in range(count):
            handle.write(f"{number} {PROMPT}\n")
    return path


def create_from(api, tmp_path, count: int) -> int:
    path = prompts_file(tmp_path / f"prompts-{count}.txt", count)
    proc, peak = run_measured(tmp_path, "batch", "create", "--from-prompts", str(path),
                              "-m", "mistral-small-latest", "-s", "Be brief.", "-o", "text")
    assert proc.returncode == 0, proc.stderr.decode()
    return peak


def test_from_prompts_keeps_memory_flat_however_many_lines(api, tmp_path):
    small = create_from(api, tmp_path, 10)
    big = create_from(api, tmp_path, 200_000)
    upload = api.requests_to("POST", "/v1/files")[-1].file("file")
    assert upload.size > 25 * MiB  # the requests really were written and sent: more than the bound
    assert json.loads(upload.head.split(b"\n", 1)[0])["custom_id"] == "1"
    print(f"peak RSS: {small / MiB:.1f} MiB for 10 prompts, {big / MiB:.1f} MiB for 200,000")
    assert big - small < 20 * MiB, f"{(big - small) / MiB:.1f} MiB more for 200,000 prompts"


def test_checking_unique_custom_ids_keeps_memory_flat(api, tmp_path):
    def measured(count: int) -> int:
        path = tmp_path / f"requests-{count}.jsonl"
        # one json.dumps with the number left to fill: the same bytes as one a line, a sixth of the time
        line = json.dumps({"custom_id": "request-%09d", "body": {"messages": [{"role": "user", "content": PROMPT}]}})
        with path.open("w") as handle:
            for number in range(count):
                handle.write(line % number + "\n")
        proc, peak = run_measured(tmp_path, "batch", "create", "-i", str(path), "--endpoint",
                                  "/v1/chat/completions", "-m", "mistral-small-latest", "-o", "text")
        assert proc.returncode == 0, proc.stderr.decode()
        return peak

    small, big = measured(10), measured(400_000)
    print(f"peak RSS: {small / MiB:.1f} MiB for 10 requests, {big / MiB:.1f} MiB for 400,000")
    assert big - small < 20 * MiB, f"{(big - small) / MiB:.1f} MiB more for 400,000 unique ids"
