"""`--via batch` keeps memory flat (peak RSS of a real mcli process, tests/memory_helpers.py):

- 1,500 inputs whose answers are 1,024-number embeddings (about 31 MiB of result lines),
  written by the server in shuffled order, are printed in input order under 65 MiB: a
  process of this size (about 42 MiB) that held the lines as well could not stay under it;
- 400,000 input lines are turned into a request file (31 MiB) and uploaded under 65 MiB.
"""

from __future__ import annotations

import json
import random
import sys

import pytest

from tests.fakeapi import Stub, error_400, json_response
from tests.fakeapi.batch_jobs import BatchJobs
from tests.fakeapi.responses import _end_chunks, _send_head, _write_chunk
from tests.memory_helpers import MiB, run_measured

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs RSS")

DIMS = 1024
ANSWERS = 1_500
LINE = ('{"id":"batchreq-%d","custom_id":"%d","error":null,"response":{"status_code":200,"body":'
        '{"id":"emb-fake","object":"list","model":"mistral-embed","usage":{"prompt_tokens":3,'
        '"completion_tokens":0,"total_tokens":3},"data":[{"object":"embedding","index":0,'
        '"embedding":[%d.0,%s]}]}}}\n')


class ShuffledVectors:
    """The output file of a job of COUNT embeddings, streamed in shuffled order: input N's
    vector starts with N, then 1,023 numbers written as a real model's are (17 digits)."""

    def __init__(self, count: int):
        self.count = count

    def write(self, handler) -> None:
        _send_head(handler, 200, {"Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"})
        rest = ",".join(repr(-0.0123456789012345 + i * 1.2345678e-7) for i in range(1, DIMS))
        order = list(range(self.count))
        random.Random(3).shuffle(order)
        for number in order:
            _write_chunk(handler, (LINE % (number, number, number, rest)).encode())
        _end_chunks(handler)
        handler.wfile.flush()


@pytest.fixture
def sim(api):
    """The simulator, done at the second poll (the child sleeps for real: --interval 0.5)."""
    return BatchJobs(api, queued_for=0.5, per_request=1e-6, advance_per_poll=1e6, dims=1,
                     checked_requests=50).install()


def corpus(tmp_path, count: int):
    path = tmp_path / f"corpus-{count}.txt"
    with path.open("w") as handle:
        for number in range(count):
            handle.write(f"sentence number {number} of the corpus\n")
    return path


def test_thousands_of_shuffled_embeddings_are_put_in_order_in_less_memory_than_their_lines(api, sim, tmp_path):
    def output_file(req):
        job = next(iter(sim.jobs.values()))
        if req.path_params["file_id"] == job.body["output_file"]:
            return ShuffledVectors(ANSWERS)
        return sim._content(req)

    def create(req):  # the upload is too big for the fake to keep: the job is told its size
        job = sim.jobs[sim._create(req).json["id"]]
        job.requests = [(str(number), {"input": ["text"]}) for number in range(ANSWERS)]
        job.body["total_requests"] = ANSWERS
        return json_response(job.body)

    api.stubs.insert(0, Stub("GET", "/v1/files/{file_id}/content", output_file, optional=True))
    api.stubs.insert(0, Stub("POST", "/v1/batch/jobs", create, times=1))
    out = tmp_path / "vectors.jsonl"
    proc, peak = run_measured(tmp_path, "embeddings", "-f", str(corpus(tmp_path, ANSWERS)), "--via", "batch",
                              "--interval", "0.5", "-o", "jsonl", stdout_file=out)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    saved = next((tmp_path / "mcli-data" / "batch-results").rglob("*.output.jsonl"))
    assert saved.stat().st_size > 30 * MiB  # with the process's own ~42 MiB, holding them passes the bound
    count = 0
    with out.open() as printed:
        for number, line in enumerate(printed):  # {"index": N, "text": ..., "embedding": [N.0, ...]}
            head, vector = line.split(', "embedding": [') if ', "embedding": [' in line else line.split(',"embedding":[')
            assert head.startswith(f'{{"index":{number},') or head.startswith(f'{{"index": {number},'), head[:80]
            assert float(vector.split(",", 1)[0]) == number and vector.count(",") == DIMS - 1, f"line {number}"
            count += 1
    assert count == ANSWERS
    print(f"peak RSS: {peak / MiB:.1f} MiB for {ANSWERS:,} embeddings of {DIMS} numbers "
          f"({saved.stat().st_size / MiB:.0f} MiB of result lines)")
    assert peak < 65 * MiB, f"{peak / MiB:.1f} MiB"


def test_many_input_lines_are_written_and_uploaded_in_flat_memory(api, sim, tmp_path):
    api.stubs.insert(0, Stub("POST", "/v1/batch/jobs", error_400("stop after the upload"), times=1))
    proc, peak = run_measured(tmp_path, "embeddings", "-f", str(corpus(tmp_path, 400_000)), "--via", "batch")
    assert proc.returncode != 0 and b"stop after the upload" in proc.stderr, proc.stderr.decode()[-2000:]
    upload = api.requests_to("POST", "/v1/files")[-1].file("file")
    assert upload.size > 30 * MiB  # with the process's own ~42 MiB, holding it passes the bound
    assert json.loads(upload.head.split(b"\n", 1)[0]) == {"custom_id": "0", "body": {
        "input": ["sentence number 0 of the corpus"]}}
    print(f"peak RSS: {peak / MiB:.1f} MiB to write and upload the requests of 400,000 lines "
          f"({upload.size / MiB:.0f} MiB)")
    assert peak < 65 * MiB, f"{peak / MiB:.1f} MiB"
