"""The one operation table: each of the spec's 30 operations with what mcli needs to know of it.

For each operation: its tag, method and path template, its Effect (what it does on the
server, which decides its retries: http/effect.py), whether it is a paged list
(`page`/`page_size`: it has a `largest_page`), whether its body is a multipart form, and the kind of id its answer
carries (what the id cache behind Tab files it under; '' for none); for a list, the filters
it takes (`query`) and the largest page it serves (`largest_page`), from which api/lists.py
builds every list request. Everything else reads this table: the commands and the `api/`
functions (by name: `call(client, "files.retrieve", file_id)`, or `fetch_object`, which also
refuses an answer that is not a JSON object), every message that names a request (`describe`:
"GET /v1/files/ID"), the generation commands (`generate`, `generate_stream` by operation name),
the batch endpoints (api/batch.py),
`mcli api` (by method and path, `find`), the id cache's kinds (store/ids.py), the Tab rules
(docgen/live.py), the tag list (api/tags.py) and the ledger (`bills`: which answers cost money,
store/ledger.py). tests/test_spec_facts.py checks it
against the spec.

Effects, one rule: GET, DELETE and PATCH are REPEATABLE; a POST that creates nothing lasting is COMPUTE
(chat, fim, agents, embeddings, classifiers, ocr, and a job's `start`, which cannot start
it twice); a POST that only asks for a state any repeat leaves unchanged (a job's cancel,
a model's archive) is REPEATABLE; uploads and job creates are CREATE, never repeated once sent.
No typer, rich or httpx here: the table is cheap to import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from mistral_cli.bodies.shape import need_object
from mistral_cli.errors import UsageError
from mistral_cli.http.effect import Effect
from mistral_cli.numbers import MAX_PAGE_SIZE

if TYPE_CHECKING:  # pragma: no cover - only for annotations: the table never loads httpx
    from mistral_cli.http.client import HTTPClient

# The kinds of id the id cache keeps, each with the `object` value the API gives it.
MODEL = "model"
FILE = "file"
FINE_TUNING_JOB = "fine-tuning-job"
BATCH_JOB = "batch-job"
KIND_OBJECTS: dict[str, str] = {MODEL: "model", FILE: "file", FINE_TUNING_JOB: "job", BATCH_JOB: "batch"}

_PARAMETER = re.compile(r"\{[a-z_]+\}")


class Operation(NamedTuple):
    """One API operation: where it is, what it does on the server, what its answer holds."""

    name: str
    tag: str
    method: str
    template: str
    effect: Effect
    returns: str = ""  # the kind of id in the answer (store/ids.py), '' for none
    multipart: bool = False  # the body is a multipart form, not JSON
    bills: str = ""  # what its answer bills, for the ledger: TOKENS, PAGES, JOB (when ended), '' nothing
    query: tuple[str, ...] = ()  # a list's filters: the query parameters it takes besides page, page_size
    largest_page: int = 0  # a paged list (`page`/`page_size`): the largest page_size it serves, what `--all` asks

    @property
    def paged(self) -> bool:
        """Whether it is a paged list (it has a largest page)."""
        return self.largest_page > 0

    def path(self, *ids: str) -> str:
        """The template with IDS put in its `{...}` slots in order, each percent-quoted whole."""
        return self._filled(ids, path_segment)

    def describe(self, *ids: str) -> str:
        """"METHOD /v1/path" for messages: IDS, as given, in the `{...}` slots (none: the template)."""
        return f"{self.method} " + (self._filled(ids, lambda value, _slot: str(value)) if ids else self.template)

    def _filled(self, ids: tuple[str, ...], fill: Callable[[str, str], str]) -> str:
        """The template with FILL(id, slot) in each `{...}` slot, IDS in order (as many as slots)."""
        slots = len(_PARAMETER.findall(self.template))
        if len(ids) != slots:
            raise TypeError(f"{self.name}: {self.template} takes {slots} id(s), got {len(ids)}")
        values = iter(ids)
        return _PARAMETER.sub(lambda slot: fill(next(values), slot.group(0)), self.template)

    def matches(self, method: str, path: str) -> bool:
        """Whether METHOD on PATH (no query string) is this operation."""
        return method.upper() == self.method and _pattern(self.template).fullmatch(path) is not None


def path_segment(value: str, slot: str) -> str:
    """VALUE as one path segment, as the API's own clients send it: `:` and `@` raw (model ids
    such as `ft:open-mistral-7b:...`), `/`, `?`, `#`, `%` and spaces quoted; an empty id refused."""
    if not value.strip():
        raise UsageError(f"the {slot.strip('{}').replace('_', ' ')} is empty: give one")
    return quote(value, safe=":@")


def _pattern(template: str) -> re.Pattern:
    """TEMPLATE as a regular expression: each `{...}` slot one non-empty path segment."""
    parts = _PARAMETER.split(template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


REPEATABLE, COMPUTE, CREATE = Effect.REPEATABLE, Effect.COMPUTE, Effect.CREATE
# What an answer bills (store/ledger.py reads it): its `usage` tokens, its OCR pages
# (`usage_info`), or, for a fine-tuning job seen ended, the job's training tokens and cost.
TOKENS, PAGES, JOB = "tokens", "pages", "job"

_TABLE: tuple[Operation, ...] = (
    Operation("chat.complete", "chat", "POST", "/v1/chat/completions", COMPUTE, bills=TOKENS),
    Operation("fim.complete", "fim", "POST", "/v1/fim/completions", COMPUTE, bills=TOKENS),
    Operation("agents.complete", "agents", "POST", "/v1/agents/completions", COMPUTE, bills=TOKENS),
    Operation("embeddings.embed", "embeddings", "POST", "/v1/embeddings", COMPUTE, bills=TOKENS),
    Operation("classifiers.moderate", "classifiers", "POST", "/v1/moderations", COMPUTE, bills=TOKENS),
    Operation("classifiers.moderate_chat", "classifiers", "POST", "/v1/chat/moderations", COMPUTE, bills=TOKENS),
    Operation("classifiers.classify", "classifiers", "POST", "/v1/classifications", COMPUTE, bills=TOKENS),
    Operation("classifiers.classify_chat", "classifiers", "POST", "/v1/chat/classifications", COMPUTE, bills=TOKENS),
    Operation("ocr.ocr", "ocr", "POST", "/v1/ocr", COMPUTE, bills=PAGES),
    Operation("files.list", "files", "GET", "/v1/files", REPEATABLE, returns=FILE,
              query=("purpose", "sample_type", "source", "search"), largest_page=MAX_PAGE_SIZE),
    Operation("files.upload", "files", "POST", "/v1/files", CREATE, returns=FILE,
              multipart=True),
    Operation("files.retrieve", "files", "GET", "/v1/files/{file_id}", REPEATABLE, returns=FILE),
    Operation("files.delete", "files", "DELETE", "/v1/files/{file_id}", REPEATABLE, returns=FILE),
    Operation("files.download", "files", "GET", "/v1/files/{file_id}/content", REPEATABLE),
    Operation("files.url", "files", "GET", "/v1/files/{file_id}/url", REPEATABLE),
    Operation("fine_tuning.list", "fine-tuning", "GET", "/v1/fine_tuning/jobs", REPEATABLE,
              returns=FINE_TUNING_JOB, query=("model", "status", "created_after", "created_before",
                                              "created_by_me", "wandb_project", "wandb_name", "suffix"),
              largest_page=MAX_PAGE_SIZE),
    Operation("fine_tuning.create", "fine-tuning", "POST", "/v1/fine_tuning/jobs", CREATE,
              returns=FINE_TUNING_JOB),
    Operation("fine_tuning.get", "fine-tuning", "GET", "/v1/fine_tuning/jobs/{job_id}", REPEATABLE,
              returns=FINE_TUNING_JOB, bills=JOB),
    Operation("fine_tuning.cancel", "fine-tuning", "POST", "/v1/fine_tuning/jobs/{job_id}/cancel", REPEATABLE,
              returns=FINE_TUNING_JOB),
    Operation("fine_tuning.start", "fine-tuning", "POST", "/v1/fine_tuning/jobs/{job_id}/start", COMPUTE,
              returns=FINE_TUNING_JOB),
    Operation("models.list", "models", "GET", "/v1/models", REPEATABLE, returns=MODEL),
    Operation("models.get", "models", "GET", "/v1/models/{model_id}", REPEATABLE, returns=MODEL),
    Operation("models.delete", "models", "DELETE", "/v1/models/{model_id}", REPEATABLE, returns=MODEL),
    Operation("models.update", "models", "PATCH", "/v1/fine_tuning/models/{model_id}", REPEATABLE, returns=MODEL),
    Operation("models.archive", "models", "POST", "/v1/fine_tuning/models/{model_id}/archive", REPEATABLE,
              returns=MODEL),
    Operation("models.unarchive", "models", "DELETE", "/v1/fine_tuning/models/{model_id}/archive", REPEATABLE,
              returns=MODEL),
    Operation("batch.list", "batch", "GET", "/v1/batch/jobs", REPEATABLE, returns=BATCH_JOB,
              query=("model", "metadata", "created_after", "created_by_me", "status"),
              largest_page=MAX_PAGE_SIZE),
    Operation("batch.create", "batch", "POST", "/v1/batch/jobs", CREATE, returns=BATCH_JOB),
    Operation("batch.get", "batch", "GET", "/v1/batch/jobs/{job_id}", REPEATABLE, returns=BATCH_JOB),
    Operation("batch.cancel", "batch", "POST", "/v1/batch/jobs/{job_id}/cancel", REPEATABLE, returns=BATCH_JOB),
)

OPERATIONS: dict[str, Operation] = {operation.name: operation for operation in _TABLE}


def find(method: str, path: str) -> Operation | None:
    """The operation METHOD on PATH is (a query string ignored), or None for a path the spec lacks."""
    bare = path.split("?", 1)[0]
    bare = bare.rstrip("/") or bare
    return next((operation for operation in _TABLE if operation.matches(method, bare)), None)


def id_kinds() -> tuple[str, ...]:
    """Every kind of id an operation returns, in table order."""
    return tuple(dict.fromkeys(operation.returns for operation in _TABLE if operation.returns))


def call(client: HTTPClient, name: str, *ids: str, **kw: Any) -> Any:
    """Send the operation NAME with IDS in its path, retried as its Effect allows; return the
    decoded body (keywords as HTTPClient.call takes them)."""
    operation = OPERATIONS[name]
    body = client.call(operation.method, operation.path(*ids), effect=operation.effect, **kw)
    if operation.bills:
        note_billed(client, name, body)
    return body


def fetch_object(client: HTTPClient, name: str, *ids: str, **kw: Any) -> dict:
    """`call`, then the answer refused (UnexpectedResponse naming the request) unless it is a
    JSON object: what a command that shows one object calls."""
    return need_object(call(client, name, *ids, **kw), describe(name, *ids))


def describe(name: str, *ids: str) -> str:
    """"METHOD /v1/path" of the operation NAME for messages (Operation.describe)."""
    return OPERATIONS[name].describe(*ids)


def note_billed(client: HTTPClient, name: str, body: Any, **facts: Any) -> None:
    """Hand the answer BODY of operation NAME to the client's ledger hook (if it bills)."""
    hook = getattr(client, "on_billed", None)  # a test's stand-in client may have none
    if hook is not None and OPERATIONS[name].bills:
        hook(name, body, facts)


def generate(client: HTTPClient, name: str, body: dict) -> dict:
    """The generation operation NAME (chat, agents, fim) without streaming: the whole body,
    refused (UnexpectedResponse) unless it is a JSON object."""
    return fetch_object(client, name, json_body={**body, "stream": False})


def generate_stream(client: HTTPClient, name: str, body: dict) -> Any:
    """The generation operation NAME with `stream: true`: an iterator of its chunks."""
    operation = OPERATIONS[name]
    return client.events(operation.method, operation.template, json_body={**body, "stream": True},
                         effect=operation.effect)
