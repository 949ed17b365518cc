"""Simulated fine-tuning jobs for FakeAPI: jobs move through their states on a clock the test
controls, answering the five /v1/fine_tuning/jobs operations through ``api.add`` callables
(so every request is still validated against the spec).

    sim = FineTuningSim(api).install()
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=sim.clock.advance))   # polls move time
    ... mcli fine-tuning create ... / watch ...
    sim.jobs[job_id]                                                      # what was created

A job's timeline is laid when it is created (``schedule``: seconds after creation, status);
without auto-start it stops at VALIDATED until ``start``; ``cancel`` replaces the rest of it
with CANCELLATION_REQUESTED then CANCELLED. While RUNNING it gains a checkpoint every
``checkpoint_every`` seconds with falling losses. ``fail_next(n, response)`` answers the next
n job GETs with RESPONSE (a 503, say) before the job is seen again. The jobs list honours
`status`, `model` and `created_after` (a job's `created_at` is ``epoch`` plus its clock time).
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime
from dataclasses import dataclass, field
from typing import Any

from .defaults import CREATED
from .responses import json_response

QUEUED, VALIDATING, VALIDATED, RUNNING = "QUEUED", "VALIDATING", "VALIDATED", "RUNNING"
SUCCESS, FAILED, CANCELLED = "SUCCESS", "FAILED", "CANCELLED"
CANCELLATION_REQUESTED = "CANCELLATION_REQUESTED"

DEFAULT_SCHEDULE = ((0, QUEUED), (10, VALIDATING), (20, VALIDATED), (30, RUNNING), (90, SUCCESS))
ESTIMATE = {"object": "job.metadata", "details": "", "deprecated": True,
            "expected_duration_seconds": 420, "cost": 2.75, "cost_currency": "EUR",
            "train_tokens_per_step": 131072, "train_tokens": 1310720, "data_tokens": 305375,
            "epochs": 4.29, "training_steps": 10, "estimated_start_time": None}


class Clock:
    """Seconds since the test began; only the test (or a fake sleep) moves it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def advance(self, seconds: float) -> None:
        """Move time forward (usable as a `sleep`)."""
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class SimJob:
    """One simulated job: its request, its timeline and what happened to it."""

    body: dict
    born: float
    timeline: list[tuple[float, str]]
    failure: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


class FineTuningSim:
    """The fine-tuning jobs of one FakeAPI, on one clock."""

    def __init__(self, api, *, schedule=DEFAULT_SCHEDULE, final: str = SUCCESS,
                 failure: str = "the training data ran out of memory", checkpoint_every: float = 20,
                 clock: Clock | None = None):
        self.api = api
        self.clock = clock or Clock()
        self.schedule = [(t, s) for t, s in schedule[:-1]] + [(schedule[-1][0], final)]
        self.failure = failure if final != SUCCESS else None
        self.checkpoint_every = checkpoint_every
        self.jobs: dict[str, SimJob] = {}
        self.epoch = CREATED  # the Unix time of the clock's 0 (a test may set the real time)
        self.gets = 0
        self._failures: list[Any] = []
        self._lock = threading.Lock()

    def install(self) -> "FineTuningSim":
        """Answer the five job operations (each stub optional: a test uses what it needs)."""
        base = "/v1/fine_tuning/jobs"
        self.api.add("POST", base, self._create, optional=True)
        self.api.add("GET", base, self._list, optional=True)
        self.api.add("GET", base + "/{job_id}", self._get, optional=True)
        self.api.add("POST", base + "/{job_id}/cancel", self._cancel, optional=True)
        self.api.add("POST", base + "/{job_id}/start", self._start, optional=True)
        return self

    def add_job(self, **body: Any) -> str:
        """A job created now without a request (for watch tests); returns its id."""
        return self._new(dict({"model": "open-mistral-7b", "hyperparameters": {"training_steps": 10},
                               "training_files": []}, **body)).id

    def fail_next(self, count: int, response) -> None:
        """Answer the next COUNT job GETs with RESPONSE."""
        self._failures.extend([response] * count)

    # -- handlers ---------------------------------------------------------------------------

    def _create(self, req):
        if (req.query.get("dry_run") or ["false"])[0] == "true":
            return json_response(ESTIMATE)
        job = self._new(req.json if isinstance(req.json, dict) else {})
        return json_response(self.body(job, detailed=False))

    def _list(self, req):
        status, model, after = ((req.query.get(key) or [None])[0] for key in ("status", "model", "created_after"))
        since = datetime.fromisoformat(after).timestamp() if after else None
        jobs = [self.body(job, detailed=False) for job in self.jobs.values()]
        jobs = [job for job in jobs if status in (None, job["status"]) and model in (None, job["model"])
                and (since is None or job["created_at"] >= since)]
        page = int((req.query.get("page") or ["0"])[0])
        size = int((req.query.get("page_size") or ["100"])[0])
        return json_response({"object": "list", "total": len(jobs),
                              "data": jobs[page * size:(page + 1) * size]})

    def _get(self, req):
        with self._lock:
            self.gets += 1
            if self._failures:
                return self._failures.pop(0)
        job = self.jobs.get(req.path_params["job_id"])
        if job is None:
            return json_response({"detail": "Job not found"}, 404)
        return json_response(self.body(job))

    def _cancel(self, req):
        job = self.jobs[req.path_params["job_id"]]
        now = self.clock.now
        job.timeline = [(t, s) for t, s in job.timeline if t <= now] + [
            (now, CANCELLATION_REQUESTED), (now + 5, CANCELLED)]
        return json_response(self.body(job))

    def _start(self, req):
        job = self.jobs[req.path_params["job_id"]]
        now, validated = self.clock.now, self._validated_at()
        job.timeline = self._reached(job) + [(now + t - validated, s)
                                             for t, s in self.schedule if t > validated]
        return json_response(self.body(job))

    # -- state ------------------------------------------------------------------------------

    def _validated_at(self) -> float:
        return dict((s, t) for t, s in self.schedule)[VALIDATED]

    def _new(self, request: dict) -> SimJob:
        now = self.clock.now
        auto = request.get("auto_start", True)
        steps = [(now + t, s) for t, s in self.schedule if auto or t <= self._validated_at()]
        if not auto:
            steps.append((float("inf"), "waiting"))
        job = SimJob(request, now, steps, self.failure)
        self.jobs[job.id] = job
        return job

    def status(self, job: SimJob) -> str:
        """JOB's status at the clock's time."""
        reached = [s for t, s in job.timeline if t <= self.clock.now and s != "waiting"]
        return reached[-1] if reached else QUEUED

    def body(self, job: SimJob, detailed: bool = True) -> dict:
        """JOB as the API shows it now (DetailedJobOut, or JobOut in lists and creates)."""
        request, status = job.body, self.status(job)
        out = {
            "id": job.id, "object": "job", "job_type": request.get("job_type") or "completion",
            "auto_start": request.get("auto_start", True), "model": request.get("model"),
            "status": status, "created_at": self.epoch + int(job.born),
            "modified_at": self.epoch + int(max(t for t, _ in self._reached(job)) if self._reached(job) else job.born),
            "training_files": [f.get("file_id") for f in request.get("training_files") or []],
            "validation_files": request.get("validation_files") or [],
            "hyperparameters": {"learning_rate": 0.0001, **(request.get("hyperparameters") or {})},
            "fine_tuned_model": (f"ft:{request.get('model')}:{request.get('suffix') or 'x'}:{job.id[:8]}"
                                 if status == SUCCESS else None),
            "suffix": request.get("suffix"), "metadata": None,
            "integrations": [{k: v for k, v in i.items() if k != "api_key"}
                             for i in request.get("integrations") or []],
            "repositories": [{**{k: v for k, v in r.items() if k != "token"}, "commit_id": "0" * 40}
                             for r in request.get("repositories") or []],
            "trained_tokens": 1310720 if status == SUCCESS else None,
        }
        if request.get("classifier_targets"):
            out["classifier_targets"] = [{"weight": 1, "loss_function": "single_class", **t}
                                         for t in request["classifier_targets"]]
        if detailed:
            out["events"] = self._events(job)
            out["checkpoints"] = self._checkpoints(job)
        return out

    def _reached(self, job: SimJob) -> list[tuple[float, str]]:
        return [(t, s) for t, s in job.timeline if t <= self.clock.now and s != "waiting"]

    def _events(self, job: SimJob) -> list[dict]:
        events = []
        for t, status in self._reached(job):
            data: dict[str, Any] = {"status": status}
            if status == FAILED and job.failure:
                data["error"] = job.failure
            events.append({"name": "status-updated", "created_at": self.epoch + int(t), "data": data})
        return events[::-1]  # newest first, as the API lists them

    def _checkpoints(self, job: SimJob) -> list[dict]:
        reached = self._reached(job)
        start = next((t for t, s in reached if s == RUNNING), None)
        if start is None:
            return []
        after = [t for t, _s in job.timeline if t > start]
        end = min(self.clock.now, after[0] if after else self.clock.now)
        points, k = [], 1
        while start + k * self.checkpoint_every <= end:
            points.append({"step_number": 10 * k, "created_at": self.epoch + int(start + k * self.checkpoint_every),
                           "metrics": {"train_loss": round(2.0 * 0.8 ** k, 4),
                                       "valid_loss": round(2.1 * 0.82 ** k, 4),
                                       "valid_mean_token_accuracy": round(1 - 0.5 * 0.8 ** k, 4)}})
            k += 1
        return points[::-1]
