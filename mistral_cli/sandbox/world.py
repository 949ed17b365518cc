"""The sandbox's world: every operation answered from state kept in a folder (the data folder's
sandbox/ for `--server-url sandbox`), so a job created by one command is watched by the next.

    ROOT/files/ID.json, ID.bin     an uploaded (or result) file: its object, its content
    ROOT/batch/ID.json             a batch job: its body, its requests, its wall-clock birth
    ROOT/fine_tuning/ID.json       a fine-tuning job: its request and timeline

Jobs move on the wall clock, their status derived from their age: a batch job waits QUEUED for
a second, then runs its requests over about two seconds; a fine-tuning job is QUEUED,
VALIDATING, VALIDATED, RUNNING (a checkpoint a second), SUCCESS within six seconds. Each request
loads the state under a lock (threads and processes), answers through the same simulators the
project's tests drive (batch_jobs.py, ft_jobs.py) and writes the state back.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import answers
from . import spec as specmod
from .batch_jobs import BatchJobs, Job
from .defaults import DEFAULTS, base_model, ft_model
from .faults import Faults
from .ft_jobs import DEFAULT_SCHEDULE, SimJob, FineTuningSim
from .responses import Response, invalid_request, json_response
from .server import FakeAPI

SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
KEEP = 256 * 1024 * 1024  # the bytes of an upload the sandbox keeps
BASE_MODELS = ("mistral-small-latest", "mistral-medium-latest", "mistral-large-latest", "codestral-latest",
               "open-mistral-7b", "mistral-embed", "mistral-moderation-latest", "mistral-ocr-latest")
NO_FLAGS = {"completion_chat": False, "completion_fim": False, "function_calling": False, "fine_tuning": False,
            "vision": False}  # what the API sends for embedding, OCR and moderation models
CAPABILITIES = {"mistral-medium-latest": {"vision": True}, "mistral-large-latest": {"vision": True},
                "codestral-latest": {"completion_fim": True}, "mistral-embed": NO_FLAGS,
                "mistral-moderation-latest": NO_FLAGS, "mistral-ocr-latest": NO_FLAGS}
SCHEDULE = tuple((t / 15, status) for t, status in DEFAULT_SCHEDULE)  # 0, 0.7, 1.3, 2, 6 seconds
def now() -> float:
    """The sandbox's clock: the wall clock (tests move it)."""
    return time.time()


UNCHECKED = ("the sandbox does not check requests against the API spec (openapi-core is not installed); "
             f"to have them checked: {specmod.EXTRA}")


class Folder(MutableMapping):
    """ID -> JSON object, one file ROOT/ID.json each (an unsafe ID is never a path)."""

    def __init__(self, root: Path, suffix: str = ".json") -> None:
        self.root, self.suffix = root, suffix

    def _path(self, key: str) -> Path:
        if not isinstance(key, str) or not SAFE_ID.fullmatch(key):
            raise KeyError(key)
        return self.root / (key + self.suffix)

    def __getitem__(self, key: str) -> Any:
        try:
            return self._load(self._path(key).read_bytes())
        except FileNotFoundError:
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(key)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(self._dump(value))
        os.replace(temporary, path)

    def __delitem__(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        paths = sorted(self.root.glob("*" + self.suffix), key=lambda p: (p.stat().st_mtime_ns, p.name))
        return iter([p.name[: -len(self.suffix)] for p in paths])

    def __len__(self) -> int:
        return len(list(self.root.glob("*" + self.suffix)))

    def _load(self, data: bytes) -> Any:
        return json.loads(data)

    def _dump(self, value: Any) -> bytes:
        return json.dumps(value).encode()


class Contents(Folder):
    """File id -> content bytes (ROOT/ID.bin)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, ".bin")

    def _load(self, data: bytes) -> bytes:
        return data

    def _dump(self, value: bytes) -> bytes:
        return value


class FileTable(Folder):
    """File id -> file object; deleting one deletes its content too."""

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        Contents(self.root).pop(key, None)


class SandboxBatch(BatchJobs):
    """BatchJobs on the wall clock, its results answered as the online endpoints answer."""

    def state(self, job_id: str) -> dict:
        """The job now; its timestamps on the wall clock."""
        job = self.jobs[job_id]
        self.per_request = min(0.5, 2.0 / max(1, len(job.requests)))
        ended = job.ended
        body = super().state(job_id)
        if not ended and body.get("started_at") is not None:
            body["started_at"] = int(job.created + self.queued_for)
        if not ended and job.ended:
            body["completed_at"] = int(self.now)
        return body

    def _store(self, lines: list[dict]) -> str | None:
        file_id = super()._store(lines)
        if file_id is not None:
            self.api.files[file_id] = {
                "id": file_id, "object": "file", "bytes": len(self.contents[file_id]),
                "created_at": int(self.now), "filename": f"batch-results-{file_id[:8]}.jsonl",
                "purpose": "batch", "sample_type": "batch_result", "source": "mistral", "num_lines": len(lines)}
        return file_id

    def _result(self, job: Job, custom_id: str, body: Any) -> dict:
        endpoint, model = job.body["endpoint"], job.body["model"]
        request = {**body, "model": model} if isinstance(body, dict) else {}
        line: dict[str, Any] = {"id": f"batchreq-{custom_id}", "custom_id": custom_id, "error": None}
        problems = specmod.validate_request("POST", endpoint, body=json.dumps(request).encode(),
                                            content_type="application/json",
                                            headers={"Authorization": "Bearer batch"}) if self.api.validate else []
        if problems:
            line["response"] = {"status_code": 422, "body": invalid_request(problems).json}
        else:
            line["response"] = {"status_code": 200, "body": answer(endpoint, request, self.contents.get)}
        return line


def answer(endpoint: str, body: dict, content_of: Callable[[str], bytes | None]) -> dict:
    """The body an online ENDPOINT answers BODY with (a batch line's answer)."""
    if endpoint == "/v1/embeddings":
        return answers.embeddings(body)
    if endpoint in ("/v1/moderations", "/v1/chat/moderations"):
        return answers.moderations(body)
    if endpoint in ("/v1/classifications", "/v1/chat/classifications"):
        return answers.classifications(body)
    if endpoint == "/v1/ocr":
        return answers.ocr(body, content_of)
    return answers.completion({**body, "stream": False}, "mistral-small-latest").json


class WallClock:
    """The fine-tuning simulator's clock: the wall clock (Unix seconds)."""

    @property
    def now(self) -> float:
        """Seconds since the epoch."""
        return now()

    def advance(self, seconds: float) -> None:
        """Time moves by itself."""


class World:
    """Answers every operation from the state in ROOT (see the module docstring)."""

    def __init__(self, root: Path, api: FakeAPI) -> None:
        self.root, self.api = root, api
        self._lock = threading.Lock()
        api.files = FileTable(root / "files")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the state for one request, against other threads and processes."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock, open(self.root / "lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def respond(self, req: Any) -> Any:
        """The answer to REQ (a RecordedRequest)."""
        handler = HANDLERS.get(req.operation_id or "")
        if handler is None:
            return json_response({"detail": "Not Found"}, 404)
        if any(not SAFE_ID.fullmatch(value) and key != "model_id" for key, value in req.path_params.items()):
            return json_response({"detail": "Not Found"}, 404)
        with self._locked():
            try:
                return handler(self, req)
            except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:  # a request it cannot use
                return json_response({"object": "error", "type": "invalid_request_error", "param": None, "code": None,
                                      "message": f"the sandbox cannot use this request: {type(exc).__name__}: {exc}"},
                                     400)

    # -- the simulators over the state ----------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[SandboxBatch]:
        """The batch simulator loaded from ROOT/batch, saved back after use."""
        jobs = Folder(self.root / "batch")
        sim = SandboxBatch(self.api, queued_for=1.0, shuffle=False, dims=answers.DIMS, now=now())
        sim._rng = None  # type: ignore[assignment] - never shuffles
        sim.contents = Contents(self.root / "files")  # type: ignore[assignment]
        sim.jobs = {key: Job(key, **{k: v for k, v in value.items() if k != "id"}) for key, value in jobs.items()}
        for job in sim.jobs.values():
            job.requests = [tuple(item) for item in job.requests]
        yield sim
        for key, job in sim.jobs.items():
            jobs[key] = {"id": key, "body": job.body, "requests": job.requests, "created": job.created,
                         "cancelled_at": job.cancelled_at, "ended": job.ended}

    @contextmanager
    def fine_tuning(self) -> Iterator[FineTuningSim]:
        """The fine-tuning simulator loaded from ROOT/fine_tuning, saved back after use."""
        jobs = Folder(self.root / "fine_tuning")
        sim = FineTuningSim(self.api, schedule=SCHEDULE, checkpoint_every=1, clock=WallClock())  # type: ignore[arg-type]
        sim.epoch = 0
        sim.jobs = {key: SimJob(value["body"], value["born"], [tuple(step) for step in value["timeline"]],
                                value.get("failure"), key) for key, value in jobs.items()}
        yield sim
        for key, job in sim.jobs.items():
            jobs[key] = {"body": job.body, "born": job.born, "timeline": job.timeline, "failure": job.failure}


def _not_found(what: str) -> Response:
    return json_response({"detail": f"{what} not found"}, 404)


def _files(world: World, req: Any, name: str) -> Any:
    """The file operations."""
    file_id = req.path_params.get("file_id", "")
    if name != "upload" and name != "list" and file_id not in world.api.files:
        return _not_found("File")
    if name == "retrieve":
        return json_response({**world.api.files[file_id], "deleted": False})
    if name == "delete":
        del world.api.files[file_id]
        return json_response({"id": file_id, "object": "file", "deleted": True})
    if name == "url":
        return json_response({"url": f"{world.api.url}/v1/files/{file_id}/content"})
    with world.batch() as sim:
        if name == "download" and file_id not in sim.contents:
            return _not_found("File content")
        return {"upload": sim._upload, "list": sim._list_files, "download": sim._content}[name](req)


def _batch(world: World, req: Any, name: str) -> Any:
    """The batch job operations."""
    with world.batch() as sim:
        if name in ("get", "cancel") and req.path_params["job_id"] not in sim.jobs:
            return _not_found("Batch job")
        if name == "create":
            missing = [f for f in req.json.get("input_files", []) if f not in sim.contents]
            if missing:
                return _not_found(f"Input file {missing[0]}")
        return {"create": sim._create, "list": sim._list, "get": sim._get, "cancel": sim._cancel}[name](req)


def _fine_tuning(world: World, req: Any, name: str) -> Any:
    """The fine-tuning job operations."""
    with world.fine_tuning() as sim:
        if name in ("get", "cancel", "start") and req.path_params["job_id"] not in sim.jobs:
            return _not_found("Job")
        return {"create": sim._create, "list": sim._list, "get": sim._get, "cancel": sim._cancel,
                "start": sim._start}[name](req)


def _models(world: World, req: Any) -> Any:
    """The models list and get: the base models and every fine-tuned model made here."""
    with world.fine_tuning() as sim:
        tuned = [body["fine_tuned_model"] for body in (sim.body(job, detailed=False) for job in sim.jobs.values())
                 if body["fine_tuned_model"]]
    models = [_base_model(name) for name in BASE_MODELS] + [ft_model(name) for name in tuned]
    if req.operation_id == "list_models_v1_models_get":
        return json_response({"object": "list", "data": models})
    found = [model for model in models if model["id"] == req.path_params.get("model_id")]
    return json_response(found[0]) if found else _not_found("Model")


def _base_model(name: str) -> dict:
    """The card of base model NAME, with the capabilities the API gives it."""
    model = base_model(name)
    model["capabilities"] = {**model["capabilities"], **CAPABILITIES.get(name, {})}
    return model


def _online(kind: str) -> Callable[[World, Any], Any]:
    """The handler of an online endpoint that answers from its request alone."""
    def handle(world: World, req: Any) -> Any:
        body = req.json if isinstance(req.json, dict) else {}
        if kind in ("chat", "agents", "fim"):
            return answers.completion(body, "codestral-latest" if kind == "fim" else "mistral-small-latest")
        with world.batch() as sim:
            return json_response(answer(kind, body, sim.contents.get))
    return handle


def _default(operation_id: str) -> Callable[[World, Any], Any]:
    return lambda world, req: DEFAULTS[operation_id](world.api, req)


HANDLERS: dict[str, Callable[[World, Any], Any]] = {
    "chat_completion_v1_chat_completions_post": _online("chat"),
    "agents_completion_v1_agents_completions_post": _online("agents"),
    "fim_completion_v1_fim_completions_post": _online("fim"),
    "embeddings_v1_embeddings_post": _online("/v1/embeddings"),
    "moderations_v1_moderations_post": _online("/v1/moderations"),
    "chat_moderations_v1_chat_moderations_post": _online("/v1/chat/moderations"),
    "classifications_v1_classifications_post": _online("/v1/classifications"),
    "chat_classifications_v1_chat_classifications_post": _online("/v1/chat/classifications"),
    "ocr_v1_ocr_post": _online("/v1/ocr"),
    "files_api_routes_upload_file": lambda w, r: _files(w, r, "upload"),
    "files_api_routes_list_files": lambda w, r: _files(w, r, "list"),
    "files_api_routes_retrieve_file": lambda w, r: _files(w, r, "retrieve"),
    "files_api_routes_delete_file": lambda w, r: _files(w, r, "delete"),
    "files_api_routes_download_file": lambda w, r: _files(w, r, "download"),
    "files_api_routes_get_signed_url": lambda w, r: _files(w, r, "url"),
    "jobs_api_routes_batch_create_batch_job": lambda w, r: _batch(w, r, "create"),
    "jobs_api_routes_batch_get_batch_jobs": lambda w, r: _batch(w, r, "list"),
    "jobs_api_routes_batch_get_batch_job": lambda w, r: _batch(w, r, "get"),
    "jobs_api_routes_batch_cancel_batch_job": lambda w, r: _batch(w, r, "cancel"),
    "jobs_api_routes_fine_tuning_create_fine_tuning_job": lambda w, r: _fine_tuning(w, r, "create"),
    "jobs_api_routes_fine_tuning_get_fine_tuning_jobs": lambda w, r: _fine_tuning(w, r, "list"),
    "jobs_api_routes_fine_tuning_get_fine_tuning_job": lambda w, r: _fine_tuning(w, r, "get"),
    "jobs_api_routes_fine_tuning_cancel_fine_tuning_job": lambda w, r: _fine_tuning(w, r, "cancel"),
    "jobs_api_routes_fine_tuning_start_fine_tuning_job": lambda w, r: _fine_tuning(w, r, "start"),
    "list_models_v1_models_get": _models,
    "retrieve_model_v1_models__model_id__get": _models,
    **{name: _default(name) for name in (
        "delete_model_v1_models__model_id__delete", "jobs_api_routes_fine_tuning_update_fine_tuned_model",
        "jobs_api_routes_fine_tuning_archive_fine_tuned_model",
        "jobs_api_routes_fine_tuning_unarchive_fine_tuned_model")},
}


def build(root: Path, environ: Mapping[str, str], warn: Callable[[str], None], *, listen: bool,
          host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None) -> FakeAPI:
    """The sandbox server over ROOT: requests checked against the spec when openapi-core is
    installed (else WARN says so, once per ROOT), invalid ones answered 422, FAULTS (default:
    the MCLI_SANDBOX_* variables of ENVIRON) applied."""
    checked = not specmod.validator_missing()
    if not checked:
        _note_once(root, warn)
    api = FakeAPI(host, port, validate=checked, listen=listen, reject_invalid=True, keep=KEEP,
                  faults=faults if faults is not None else Faults.from_environ(environ))
    api.fallback = World(root, api).respond
    api.recording = False  # a sandbox may serve for days: it keeps no request in memory
    return api


def _note_once(root: Path, warn: Callable[[str], None]) -> None:
    """Say UNCHECKED the first time ROOT's sandbox runs without the validator."""
    marker = root / "unchecked-noted"
    if marker.exists():
        return
    warn(UNCHECKED)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    marker.touch()
