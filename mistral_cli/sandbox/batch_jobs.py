"""A batch job simulator for FakeAPI: jobs move QUEUED -> RUNNING -> a final state on a clock
the test controls, and their output and error files can be downloaded.

    sim = BatchJobs(api).install()        # answers through api.add callables
    sim.advance(30)                       # 30 simulated seconds pass
    sim.fail_ids = {"3"}                  # these custom_ids fail
    sim.outcome = "FAILED"                # how a job that ran every request ends

A job waits QUEUED for `queued_for` seconds, then answers one request every `per_request`
seconds while RUNNING; when all are answered it ends with `outcome`, with an output file
(one line per succeeded request) and an error file (one line per failed request).
Cancelling makes it CANCELLATION_REQUESTED, then CANCELLED with what was answered so far at the next advance. `outage` answers chosen job
polls with an error instead. The server still validates every request against the spec.

Each request is answered as its endpoint would answer it (a chat completion whose text is
`answer to <prompt>`; embeddings and moderations from analysis.py, so every
text gets an answer of its own), after checking it against the spec as that endpoint's
request with the job's model (the first `checked_requests` of a job).

As the real service may, a job writes its output lines in an order of its own (`shuffle`,
seeded). `uploads` counts the uploads the server accepted and `jobs` holds every job
created, so a test can prove a run sent each exactly once. `advance_per_poll` moves the
clock on every job poll, for processes that sleep in real time. The files list honours
`search` (part of the name) and `purpose`; the jobs list honours `metadata` (key=value&...),
`created_after` and `status`.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import spec as specmod
from .analysis import embedding_body, moderation_body
from .defaults import CREATED, DEFAULTS, chat_completion
from .responses import Response, json_response

FILE_CONTENT = "files_api_routes_download_file"
UPLOAD = "files_api_routes_upload_file"


@dataclass
class Job:
    """One simulated batch job."""

    id: str
    body: dict
    requests: list[tuple[str, Any]]
    created: float
    cancelled_at: float | None = None
    ended: bool = False


@dataclass
class BatchJobs:
    """Batch jobs for one FakeAPI (see the module docstring)."""

    api: Any
    queued_for: float = 10.0
    per_request: float = 5.0
    outcome: str = "SUCCESS"
    fail_ids: set[str] = field(default_factory=set)
    outage: dict[int, Response] = field(default_factory=dict)  # poll number (from 1) -> reply
    now: float = 0.0
    polls: int = 0
    advance_per_poll: float = 0.0
    shuffle: bool = True
    dims: int = 8  # the length of an embedding the simulator answers
    checked_requests: int = 1000  # a job's first requests checked against the spec (the rest: not)
    seed: int = 0
    uploads: int = 0  # uploads accepted
    jobs: dict[str, Job] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)  # uploaded and result files

    def install(self) -> "BatchJobs":
        """Answer the batch operations, uploads and file downloads through this simulator."""
        add = self.api.add
        self._rng = random.Random(self.seed)
        add("POST", "/v1/files", self._upload, optional=True)
        add("GET", "/v1/files", self._list_files, optional=True)
        add("GET", "/v1/files/{file_id}/content", self._content, optional=True)
        add("POST", "/v1/batch/jobs", self._create, optional=True)
        add("GET", "/v1/batch/jobs", self._list, optional=True)
        add("POST", "/v1/batch/jobs/{job_id}/cancel", self._cancel, optional=True)
        add("GET", "/v1/batch/jobs/{job_id}", self._get, optional=True)
        return self

    def advance(self, seconds: float) -> None:
        """Let SECONDS of simulated time pass (a watch's sleep in tests)."""
        self.now += seconds

    # -- handlers ------------------------------------------------------------------------

    def _upload(self, req) -> Response:
        reply = DEFAULTS[UPLOAD](self.api, req)
        part = req.file("file")
        if part is not None and part.content is not None:
            self.contents[reply.json["id"]] = part.content
        self.uploads += 1
        return reply

    def _list_files(self, req) -> Response:
        search = req.query.get("search", [""])[0]
        purpose = req.query.get("purpose", [None])[0]
        files = [obj for obj in self.api.files.values()
                 if search in obj["filename"] and purpose in (None, obj["purpose"])]
        return json_response(self._page(req, files))

    @staticmethod
    def _page(req, items: list) -> dict:
        page = int(req.query.get("page", ["0"])[0])
        size = int(req.query.get("page_size", ["100"])[0])
        return {"object": "list", "data": items[page * size:(page + 1) * size], "total": len(items)}

    def _content(self, req) -> Response:
        content = self.contents.get(req.path_params["file_id"])
        if content is None:
            return DEFAULTS[FILE_CONTENT](self.api, req)
        return Response(200, content, content_type="application/octet-stream")

    def _create(self, req) -> Response:
        spec = req.json
        requests = [item for file_id in spec["input_files"] for item in self._requests_in(file_id)]
        job_id = str(uuid.uuid4())
        body = {"id": job_id, "object": "batch", "input_files": spec["input_files"],
                "endpoint": spec["endpoint"], "model": spec["model"],
                "metadata": spec.get("metadata"), "errors": [], "status": "QUEUED",
                "created_at": int(time.time()), "total_requests": len(requests), "completed_requests": 0,
                "succeeded_requests": 0, "failed_requests": 0, "output_file": None,
                "error_file": None, "started_at": None, "completed_at": None}
        self.jobs[job_id] = Job(job_id, body, requests, self.now)
        return json_response(body)

    def _requests_in(self, file_id: str) -> list[tuple[str, Any]]:
        lines = self.contents.get(file_id, b"").decode().splitlines()
        return [(str(line["custom_id"]), line["body"]) for line in map(json.loads, lines)]

    def _get(self, req) -> Response:
        self.polls += 1
        if self.polls in self.outage:
            return self.outage[self.polls]
        if req.path_params["job_id"] not in self.jobs:
            return json_response({"detail": "Batch job not found"}, 404)
        body = self.state(req.path_params["job_id"])
        self.advance(self.advance_per_poll)
        return json_response(body)

    def _list(self, req) -> Response:
        wanted = set(req.query.get("status", []))
        pairs = [pair.split("=", 1) for pair in req.query.get("metadata", [""])[0].split("&") if pair]
        after = req.query.get("created_after", [None])[0]
        since = datetime.fromisoformat(after).timestamp() if after else None
        jobs = [self.state(job_id) for job_id in self.jobs]
        jobs = [job for job in jobs if (not wanted or job["status"] in wanted)
                and all((job["metadata"] or {}).get(key) == value for key, value in pairs)
                and (since is None or job["created_at"] >= since)]
        return json_response(self._page(req, jobs))

    def _cancel(self, req) -> Response:
        job = self.jobs[req.path_params["job_id"]]
        if not job.ended:
            job.cancelled_at = self.now
        return json_response(self.state(job.id))

    # -- the clock -----------------------------------------------------------------------

    def state(self, job_id: str) -> dict:
        """The job's body at the current simulated time."""
        job = self.jobs[job_id]
        if job.ended:
            return job.body
        elapsed = self.now - job.created
        running = elapsed - self.queued_for
        done = min(len(job.requests), int(running // self.per_request)) if running >= 0 else 0
        if job.cancelled_at is not None:
            done = min(done, max(0, int((job.cancelled_at - job.created - self.queued_for)
                                        // self.per_request)))
            return self._cancelling(job, done)
        if running < 0:
            return job.body
        self._count(job, done)
        job.body.update(status="RUNNING", started_at=CREATED + int(self.queued_for))
        if done == len(job.requests):
            self._end(job, self.outcome, done)
        return job.body

    def _cancelling(self, job: Job, done: int) -> dict:
        self._count(job, done)
        if self.now > job.cancelled_at:
            self._end(job, "CANCELLED", done)
        else:
            job.body["status"] = "CANCELLATION_REQUESTED"
        return job.body

    def _count(self, job: Job, done: int) -> None:
        failed = sum(1 for custom_id, _body in job.requests[:done] if custom_id in self.fail_ids)
        job.body.update(completed_requests=done, succeeded_requests=done - failed, failed_requests=failed)

    def _end(self, job: Job, status: str, done: int) -> None:
        outputs, errors = [], []
        for custom_id, body in job.requests[:done]:
            (errors if custom_id in self.fail_ids else outputs).append(self._result(job, custom_id, body))
        if self.shuffle:
            self._rng.shuffle(outputs)
            self._rng.shuffle(errors)
        job.body.update(status=status, completed_at=CREATED + int(self.now),
                        output_file=self._store(outputs), error_file=self._store(errors))
        if status == "FAILED":
            job.body["errors"] = [{"message": "simulated failure", "count": 1}]
        job.ended = True

    def _result(self, job: Job, custom_id: str, body: Any) -> dict:
        line = {"id": f"batchreq-{custom_id}", "custom_id": custom_id, "error": None}
        if custom_id in self.fail_ids:
            line["response"] = {"status_code": 400, "body": {"object": "error",
                                                             "message": f"request {custom_id} refused"}}
            return line
        line["response"] = {"status_code": 200, "body": self._answer(job, custom_id, body)}
        return line

    def _answer(self, job: Job, custom_id: str, body: Any) -> dict:
        """The answer to one request of JOB, its body checked against the spec as the endpoint's
        request (with the job's model), as the real service would run it."""
        endpoint, model = job.body["endpoint"], job.body["model"]
        request = {**body, "model": model} if isinstance(body, dict) else body
        checked = int(custom_id) < self.checked_requests if custom_id.isdigit() else True
        for problem in () if not checked else specmod.validate_request("POST", endpoint, body=json.dumps(request).encode(),
                                                content_type="application/json",
                                                headers={"Authorization": "Bearer batch"}):
            self.api.server_errors.append(f"batch request {custom_id}: {problem}")
        if endpoint == "/v1/embeddings":
            return embedding_body(request, self.dims)
        if endpoint in ("/v1/moderations", "/v1/chat/moderations"):
            return moderation_body(request)
        prompt = body["messages"][-1]["content"] if isinstance(body, dict) and body.get("messages") else ""
        return chat_completion(text=f"answer to {prompt}")

    def _store(self, lines: list[dict]) -> str | None:
        if not lines:
            return None
        file_id = str(uuid.uuid4())
        self.contents[file_id] = "".join(json.dumps(line) + "\n" for line in lines).encode()
        return file_id
