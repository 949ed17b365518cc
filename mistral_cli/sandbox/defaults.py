"""Schema-plausible default responses for every operation in the spec.

``DEFAULTS`` maps operationId -> ``handler(api, request) -> response``.
Objects created by the fake (uploaded files) are remembered in
``api.files`` so list/retrieve see them.
"""
from __future__ import annotations

import time
import uuid

from .responses import bytes_response, json_response, sse_response

CREATED = 1718000000
FILE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
JOB_ID = "7ad642c1-fc6f-4a4a-8ab3-45e3d3c9f0b1"
BATCH_ID = "b2c5a1d4-2f8e-4f0c-9b1a-6d3e8f7a9c10"
FT_MODEL = "ft:open-mistral-7b:587a6b29:20240514:7e773925"
USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
INPUT_USAGE = {"prompt_tokens": 7, "completion_tokens": 0, "total_tokens": 7}  # embeddings, classifiers
BATCH_BODY = {"input_files": [FILE_ID], "endpoint": "/v1/chat/completions",  # a valid job create
              "model": "mistral-small-latest"}
STREAM_PIECES = ["Hello", " from", " the fake API", "!"]


def base_model(mid="mistral-small-latest"):
    return {"id": mid, "object": "model", "created": CREATED, "owned_by": "mistralai",
            "type": "base", "name": mid, "description": "A base model",
            "max_context_length": 32768, "aliases": [mid.replace("-latest", "-2409")],
            "deprecation": None, "default_model_temperature": 0.3,
            "capabilities": {"completion_chat": True, "completion_fim": False,
                             "function_calling": True, "fine_tuning": True,
                             "vision": False}}


def ft_model(mid=FT_MODEL):
    return {"id": mid, "object": "model", "created": CREATED + 100, "owned_by": "org-123",
            "type": "fine-tuned", "name": None, "description": None,
            "max_context_length": 32768, "aliases": [], "deprecation": None,
            "default_model_temperature": None, "job": JOB_ID, "root": "open-mistral-7b",
            "archived": False,
            "capabilities": {"completion_chat": True, "completion_fim": False,
                             "function_calling": False, "fine_tuning": False,
                             "vision": False}}


def file_obj(fid=FILE_ID, filename="train.jsonl", purpose="fine-tune", size=1234):
    return {"id": fid, "object": "file", "bytes": size, "created_at": CREATED,
            "filename": filename, "purpose": purpose, "sample_type": "instruct",
            "source": "upload", "num_lines": 10}


def completion_job(jid=JOB_ID, status="QUEUED", detailed=False):
    job = {"id": jid, "object": "job", "job_type": "completion", "auto_start": False,
           "model": "open-mistral-7b", "status": status, "created_at": CREATED,
           "modified_at": CREATED + 60, "training_files": [FILE_ID],
           "validation_files": [], "hyperparameters": {"learning_rate": 0.0001,
                                                       "training_steps": 10},
           "fine_tuned_model": None, "suffix": None, "integrations": [],
           "repositories": [], "trained_tokens": None, "metadata": None}
    if detailed:
        job["events"] = [{"name": "status-updated", "created_at": CREATED,
                          "data": {"status": status}}]
        job["checkpoints"] = []
    return job


def batch_job(bid=BATCH_ID, status="QUEUED"):
    return {"id": bid, "object": "batch", "input_files": [FILE_ID],
            "endpoint": "/v1/chat/completions", "model": "mistral-small-latest",
            "metadata": None, "errors": [], "status": status, "created_at": CREATED,
            "total_requests": 2, "completed_requests": 0, "succeeded_requests": 0,
            "failed_requests": 0, "output_file": None, "error_file": None,
            "started_at": None, "completed_at": None}


def chat_completion(model="mistral-small-latest", text="Hello from the fake API!"):
    return {"id": "cmpl-fake-1", "object": "chat.completion", "created": CREATED,
            "model": model, "usage": USAGE,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text,
                                     "tool_calls": None, "prefix": False}}]}


def chat_chunks(model="mistral-small-latest", pieces=STREAM_PIECES):
    """chat.completion.chunk events (role first, finish_reason + usage last)."""
    events = []
    for i, piece in enumerate(pieces):
        delta = {"content": piece}
        if i == 0:
            delta["role"] = "assistant"
        last = i == len(pieces) - 1
        ev = {"id": "cmpl-fake-1", "object": "chat.completion.chunk", "created": CREATED,
              "model": model,
              "choices": [{"index": 0, "delta": delta,
                           "finish_reason": "stop" if last else None}]}
        if last:
            ev["usage"] = USAGE
        events.append(ev)
    return events


def _completion(api, req, default_model):
    body = req.json if isinstance(req.json, dict) else {}
    model = body.get("model") or default_model
    if body.get("stream"):
        return sse_response(chat_chunks(model))
    return json_response(chat_completion(model))


def _upload(api, req):
    f = req.file("file")
    purpose = (req.form or {}).get("purpose") or "fine-tune"
    obj = file_obj(str(uuid.uuid4()), f.filename if f else "upload.bin", purpose,
                   f.size if f else 0)
    obj["created_at"] = int(time.time())
    obj["num_lines"] = None
    api.files[obj["id"]] = obj
    return json_response(obj)


def _list_files(api, req):
    files = [file_obj()] + list(api.files.values())
    return json_response({"object": "list", "data": files, "total": len(files)})


def _retrieve_file(api, req):
    fid = req.path_params.get("file_id", FILE_ID)
    return json_response({**api.files.get(fid, file_obj(fid)), "deleted": False})


def _classification(api, req):
    model = (req.json or {}).get("model", "mistral-moderation-latest")
    return json_response({"id": "cls-fake-1", "model": model, "usage": INPUT_USAGE, "results": [
        {"sentiment": {"scores": {"positive": 0.9, "negative": 0.1}}}]})


def _moderation(api, req):
    model = (req.json or {}).get("model", "mistral-moderation-latest")
    return json_response({"id": "mod-fake-1", "model": model, "usage": INPUT_USAGE, "results": [
        {"categories": {"sexual": False, "hate_and_discrimination": False,
                        "violence_and_threats": False, "selfharm": False},
         "category_scores": {"sexual": 0.001, "hate_and_discrimination": 0.002,
                             "violence_and_threats": 0.003, "selfharm": 0.0}}]})


def _embeddings(api, req):
    body = req.json or {}
    inputs = body.get("input", "")
    inputs = [inputs] if isinstance(inputs, str) else list(inputs)
    return json_response({"id": "emb-fake-1", "object": "list",
                          "model": body.get("model", "mistral-embed"), "usage": INPUT_USAGE,
                          "data": [{"object": "embedding", "index": i,
                                    "embedding": [0.1, -0.2, 0.3]}
                                   for i in range(len(inputs))]})


def _ocr(api, req):
    return json_response({"model": (req.json or {}).get("model") or "mistral-ocr-latest",
                          "pages": [{"index": 0, "markdown": "# Page 1\n\nHello.",
                                     "images": [],
                                     "dimensions": {"dpi": 200, "height": 2200,
                                                    "width": 1700}}],
                          "usage_info": {"pages_processed": 1, "doc_size_bytes": 1024}})


def _p(req, name, fallback):
    return req.path_params.get(name, fallback)


DEFAULTS = {
    "agents_completion_v1_agents_completions_post":
        lambda api, r: _completion(api, r, "mistral-small-latest"),
    "chat_completion_v1_chat_completions_post":
        lambda api, r: _completion(api, r, "mistral-small-latest"),
    "fim_completion_v1_fim_completions_post":
        lambda api, r: _completion(api, r, "codestral-latest"),
    "jobs_api_routes_batch_get_batch_jobs":
        lambda api, r: json_response({"object": "list", "data": [batch_job()], "total": 1}),
    "jobs_api_routes_batch_create_batch_job": lambda api, r: json_response(batch_job()),
    "jobs_api_routes_batch_get_batch_job":
        lambda api, r: json_response(batch_job(_p(r, "job_id", BATCH_ID), "RUNNING")),
    "jobs_api_routes_batch_cancel_batch_job":
        lambda api, r: json_response(batch_job(_p(r, "job_id", BATCH_ID),
                                               "CANCELLATION_REQUESTED")),
    "chat_classifications_v1_chat_classifications_post": _classification,
    "classifications_v1_classifications_post": _classification,
    "chat_moderations_v1_chat_moderations_post": _moderation,
    "moderations_v1_moderations_post": _moderation,
    "embeddings_v1_embeddings_post": _embeddings,
    "files_api_routes_list_files": _list_files,
    "files_api_routes_upload_file": _upload,
    "files_api_routes_delete_file":
        lambda api, r: (api.files.pop(_p(r, "file_id", FILE_ID), None), json_response(
            {"id": _p(r, "file_id", FILE_ID), "object": "file", "deleted": True}))[1],
    "files_api_routes_retrieve_file": _retrieve_file,
    "files_api_routes_download_file": lambda api, r: bytes_response(1000),
    "files_api_routes_get_signed_url": lambda api, r: json_response(
        {"url": f"https://files.example.invalid/{_p(r, 'file_id', FILE_ID)}?sig=abc"}),
    "jobs_api_routes_fine_tuning_get_fine_tuning_jobs":
        lambda api, r: json_response({"object": "list", "data": [completion_job()],
                                      "total": 1}),
    "jobs_api_routes_fine_tuning_create_fine_tuning_job":
        lambda api, r: json_response(
            {"object": "job.metadata", "details": "dry run", "deprecated": True,
             "expected_duration_seconds": 300, "cost": 1.5, "cost_currency": "EUR",
             "train_tokens_per_step": 1000, "train_tokens": 10000, "data_tokens": 1000,
             "epochs": 1.0, "training_steps": 10, "estimated_start_time": None}
            if (r.query.get("dry_run") or ["false"])[0].lower() == "true"
            else completion_job()),
    "jobs_api_routes_fine_tuning_get_fine_tuning_job":
        lambda api, r: json_response(completion_job(_p(r, "job_id", JOB_ID), "RUNNING",
                                                    detailed=True)),
    "jobs_api_routes_fine_tuning_cancel_fine_tuning_job":
        lambda api, r: json_response(completion_job(_p(r, "job_id", JOB_ID),
                                                    "CANCELLATION_REQUESTED", detailed=True)),
    "jobs_api_routes_fine_tuning_start_fine_tuning_job":
        lambda api, r: json_response(completion_job(_p(r, "job_id", JOB_ID), "STARTED",
                                                    detailed=True)),
    "jobs_api_routes_fine_tuning_update_fine_tuned_model":
        lambda api, r: json_response({
            "id": _p(r, "model_id", FT_MODEL), "object": "model", "model_type": "completion",
            "created": CREATED, "owned_by": "org-123", "root": "open-mistral-7b",
            "archived": False, "job": JOB_ID, "aliases": [], "max_context_length": 32768,
            "name": (r.json or {}).get("name"), "description": (r.json or {}).get("description"),
            "capabilities": {"completion_chat": True, "completion_fim": False,
                             "function_calling": False, "fine_tuning": False,
                             "classification": False}}),
    "jobs_api_routes_fine_tuning_unarchive_fine_tuned_model":
        lambda api, r: json_response({"id": _p(r, "model_id", FT_MODEL), "object": "model",
                                      "archived": False}),
    "jobs_api_routes_fine_tuning_archive_fine_tuned_model":
        lambda api, r: json_response({"id": _p(r, "model_id", FT_MODEL), "object": "model",
                                      "archived": True}),
    "list_models_v1_models_get":
        lambda api, r: json_response({"object": "list", "data": [base_model(), ft_model()]}),
    "delete_model_v1_models__model_id__delete":
        lambda api, r: json_response({"id": _p(r, "model_id", FT_MODEL), "object": "model",
                                      "deleted": True}),
    "retrieve_model_v1_models__model_id__get":
        lambda api, r: json_response(ft_model(_p(r, "model_id", FT_MODEL))
                                     if _p(r, "model_id", "").startswith("ft:")
                                     else base_model(_p(r, "model_id", "mistral-small-latest"))),
    "ocr_v1_ocr_post": _ocr,
}
