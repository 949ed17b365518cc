"""Helpers for the sandbox tests: an httpx client on an in-process sandbox over a folder, and
the requests that exercise every operation of the spec once."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Callable

import httpx

from mistral_cli.sandbox.transport import BASE_URL, SandboxTransport
from mistral_cli.sandbox.world import build

AUTH = {"Authorization": "Bearer sandbox"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Pages >>\n2 0 obj << /Type /Page >>\n3 0 obj << /Type /Page >>\n%%EOF"
CHAT = [{"role": "user", "content": "hello"}]


def sandbox_client(root: Path, environ: dict | None = None, warn: Callable[[str], None] = print) -> httpx.Client:
    """An httpx client whose requests the sandbox over ROOT answers in this process."""
    api = build(root, environ or {}, warn, listen=False)
    return httpx.Client(base_url=BASE_URL, transport=SandboxTransport(api), headers=AUTH)


def upload(client: httpx.Client, content: bytes, name: str = "requests.jsonl", purpose: str = "batch") -> dict:
    """Upload CONTENT as a file; its object."""
    reply = client.post("/v1/files", files={"file": (name, content)}, data={"purpose": purpose})
    assert reply.status_code == 200, reply.text
    return reply.json()


def every_operation(client: httpx.Client) -> list[tuple[str, str, Any]]:
    """Send one valid request to each of the 30 operations, in an order that makes each
    answerable; (method, path, response) for each."""
    sent: list[tuple[str, str, Any]] = []

    def send(method: str, path: str, **kw: Any) -> Any:
        reply = client.request(method, path, **kw)
        sent.append((method, path, reply))
        return reply

    line = b'{"custom_id": "1", "body": {"messages": [{"role": "user", "content": "hi"}]}}\n'
    reply = client.post("/v1/files", files={"file": ("b.jsonl", line)}, data={"purpose": "batch"})
    sent.append(("POST", "/v1/files", reply))
    file_id = reply.json()["id"]
    send("GET", "/v1/files")
    send("GET", f"/v1/files/{file_id}")
    send("GET", f"/v1/files/{file_id}/url")
    send("GET", f"/v1/files/{file_id}/content")
    send("POST", "/v1/chat/completions", json={"model": "mistral-small-latest", "messages": CHAT})
    send("POST", "/v1/fim/completions", json={"model": "codestral-latest", "prompt": "def f(", "suffix": "):"})
    send("POST", "/v1/agents/completions", json={"agent_id": "ag-1", "messages": CHAT})
    send("POST", "/v1/embeddings", json={"model": "mistral-embed", "input": ["a", "b"]})
    send("POST", "/v1/moderations", json={"model": "mistral-moderation-latest", "input": ["I hate it"]})
    send("POST", "/v1/chat/moderations", json={"model": "mistral-moderation-latest", "input": CHAT})
    send("POST", "/v1/classifications", json={"model": "m", "input": ["good"]})
    send("POST", "/v1/chat/classifications", json={"model": "m", "input": {"messages": CHAT}})
    document = "data:application/pdf;base64," + base64.b64encode(PDF).decode()
    send("POST", "/v1/ocr", json={"model": "mistral-ocr-latest",
                                  "document": {"type": "document_url", "document_url": document}})
    job = send("POST", "/v1/batch/jobs", json={"input_files": [file_id], "endpoint": "/v1/chat/completions",
                                               "model": "mistral-small-latest"}).json()
    send("GET", "/v1/batch/jobs")
    send("GET", f"/v1/batch/jobs/{job['id']}")
    send("POST", f"/v1/batch/jobs/{job['id']}/cancel")
    tuning = {"model": "open-mistral-7b", "training_files": [{"file_id": file_id}],
              "hyperparameters": {"training_steps": 1}, "auto_start": False}
    send("POST", "/v1/fine_tuning/jobs", params={"dry_run": "true"}, json=tuning)
    ft_job = send("POST", "/v1/fine_tuning/jobs", json=tuning).json()
    send("GET", "/v1/fine_tuning/jobs")
    send("GET", f"/v1/fine_tuning/jobs/{ft_job['id']}")
    send("POST", f"/v1/fine_tuning/jobs/{ft_job['id']}/start")
    send("POST", f"/v1/fine_tuning/jobs/{ft_job['id']}/cancel")
    model = "ft:open-mistral-7b:x:1234abcd"
    send("GET", "/v1/models")
    send("GET", "/v1/models/mistral-small-latest")
    send("PATCH", f"/v1/fine_tuning/models/{model}", json={"name": "renamed"})
    send("POST", f"/v1/fine_tuning/models/{model}/archive")
    send("DELETE", f"/v1/fine_tuning/models/{model}/archive")
    send("DELETE", f"/v1/models/{model}")
    send("DELETE", f"/v1/files/{file_id}")
    return sent


def chunk_problems(events: list[dict]) -> list[str]:
    """What the spec's CompletionChunk schema finds wrong with each streamed event (a nullable
    enum accepts null here, as the API sends it: OAS 3.0 validators want null in the enum too)."""
    import copy

    from openapi_schema_validator import OAS30Validator

    from mistral_cli.sandbox.spec import load_spec

    components = copy.deepcopy(load_spec()["components"])

    def allow_null(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("nullable") and isinstance(node.get("enum"), list) and None not in node["enum"]:
                node["enum"].append(None)
            for value in node.values():
                allow_null(value)
        elif isinstance(node, list):
            for value in node:
                allow_null(value)

    allow_null(components)
    validator = OAS30Validator({"$ref": "#/components/schemas/CompletionChunk", "components": components})
    return [error.message for event in events for error in validator.iter_errors(event)]
