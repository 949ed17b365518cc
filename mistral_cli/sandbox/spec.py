"""Load the Mistral OpenAPI spec bundled with the package (openapi.json), mend its known defects
in memory, and validate requests against it (with openapi-core, the `sandbox` extra; without
it the sandbox routes requests by the spec and validates nothing: `validator_missing`).

Public API:
    load_spec() -> dict                 mended spec (cached; never edits the file)
    operations() -> list[Operation]     the 30 (method, path template, operationId)
    operation_for(method, path) -> str | None
    validate_request(method, path, query, headers, body, content_type) -> list[str]
    validate_multipart_fields(parts) -> list[str]

Defects mended (see ``mend``):
  * ``type: null`` inside ``anyOf``/``oneOf`` means JSON null: the branch
    becomes ``NULL_ONLY`` (``type: object, nullable: true, enum: [null]``),
    which accepts null and nothing else. (A ``nullable`` flag on the parent
    would not work: OAS 3.0 ties ``nullable`` to a sibling ``type``.)
  * ``type: null`` standing alone (e.g. ``ResponseFormat.json_schema``, the
    files-list ``purpose`` query parameter, job ``metadata``) means ANY type:
    replaced by ``{}`` (keeping ``nullable``).
  * duplicate names in ``required`` lists are de-duplicated.
  * numeric keywords that YAML read as strings (``minimum: 1E-08``) -> float.
  * ``default: null`` on non-nullable schemas (Function.description,
    Prediction.content, ToolCall.id) is dropped: the spec validator rejects it.
  * ``required`` names that no property (in the schema or its ``allOf``
    siblings) defines are dropped (ChatCompletionResponse, EmbeddingResponse).
"""
from __future__ import annotations

import copy
import functools
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlencode

SPEC_PATH = Path(__file__).resolve().parent / "openapi.json"  # tests/contract/openapi.yaml links here
EXTRA = "pip install 'mistral-cli[sandbox]'"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_NUMERIC_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                 "multipleOf")


@dataclass(frozen=True)
class Operation:
    """One API operation from the spec."""

    method: str          # upper case
    path: str            # template, e.g. /v1/files/{file_id}
    operation_id: str
    regex: re.Pattern

    def match(self, path: str) -> dict[str, str] | None:
        """Return path params if ``path`` matches this template, else None."""
        m = self.regex.fullmatch(path)
        return m.groupdict() if m else None


# OAS 3.0 has no `type: null`; this schema accepts JSON null and nothing else.
NULL_ONLY = {"type": "object", "nullable": True, "enum": [None]}


def _is_type_null(schema: Any) -> bool:
    return isinstance(schema, dict) and "type" in schema and schema["type"] is None


def _resolve(root: dict, schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        node: Any = root
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _all_props(root: dict, schema: Any, seen: set[int] | None = None) -> set[str]:
    """Names of properties a schema defines, following $ref and allOf."""
    seen = seen if seen is not None else set()
    schema = _resolve(root, schema)
    if not isinstance(schema, dict) or id(schema) in seen:
        return set()
    seen.add(id(schema))
    names = set(schema.get("properties", {}) or {})
    for sub in schema.get("allOf", []) or []:
        names |= _all_props(root, sub, seen)
    return names


def mend(spec: dict) -> dict:
    """Return a deep copy of ``spec`` with the known defects fixed."""
    spec = copy.deepcopy(spec)

    def fix(node: Any) -> Any:
        if isinstance(node, list):
            return [fix(x) for x in node]
        if not isinstance(node, dict):
            return node
        # anyOf / oneOf branches that are `type: null` -> nullable parent
        for key in ("anyOf", "oneOf"):
            branches = node.get(key)
            if isinstance(branches, list):
                node[key] = [dict(NULL_ONLY) if _is_type_null(b) else b
                             for b in branches]
        # standalone `type: null` -> any type
        if "type" in node and node["type"] is None:
            del node["type"]
        if "default" in node and node["default"] is None and not node.get("nullable"):
            del node["default"]
        req = node.get("required")
        if isinstance(req, list):
            node["required"] = list(dict.fromkeys(req))
        for k in _NUMERIC_KEYS:
            if isinstance(node.get(k), str):
                node[k] = float(node[k])
        for k, v in list(node.items()):
            if k in ("example", "default", "enum"):
                continue
            node[k] = fix(v)
        return node

    spec = fix(spec)
    # `required` names that no property defines (allOf members).
    for schema in spec.get("components", {}).get("schemas", {}).values():
        members = schema.get("allOf")
        if not isinstance(members, list):
            continue
        known = _all_props(spec, schema)
        for m in members:
            if isinstance(m, dict) and isinstance(m.get("required"), list):
                m["required"] = [r for r in m["required"] if r in known]
                if not m["required"]:
                    del m["required"]
    # Nullable schemas with no `type` are accepted by OAS 3.0 tools as "any";
    # nothing else to do for them.
    return spec


@functools.lru_cache(maxsize=1)
def load_spec() -> dict:
    """The mended spec as a dict (cached; do not mutate)."""
    with open(SPEC_PATH, encoding="utf-8") as fh:
        raw = json.load(fh)
    return mend(raw)


def validator_missing() -> bool:
    """Whether openapi-core (the `sandbox` extra, EXTRA) is absent: requests then go unchecked."""
    return importlib.util.find_spec("openapi_core") is None


@functools.cache
def schemas() -> dict[str, Any]:
    """The spec's component schemas (defects mended as the fake server mends them)."""
    return load_spec()["components"]["schemas"]


def resolve(schema: Any) -> Any:
    """SCHEMA with a top-level $ref followed."""
    while isinstance(schema, dict) and "$ref" in schema:
        schema = schemas()[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


@functools.lru_cache(maxsize=1)
def operations() -> tuple[Operation, ...]:
    """All operations in the spec, in file order."""
    ops = []
    for path, item in load_spec()["paths"].items():
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
        for method, op in item.items():
            if method in HTTP_METHODS:
                ops.append(Operation(method.upper(), path, op["operationId"],
                                     re.compile(pattern)))
    return tuple(ops)


def find_operation(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """Find the operation for a concrete request path (templates with fewer
    placeholders win, so literal segments take precedence)."""
    candidates = []
    for op in operations():
        if op.method != method.upper():
            continue
        params = op.match(path)
        if params is not None:
            candidates.append((len(params), op, params))
    if not candidates:
        return None
    candidates.sort(key=lambda c: c[0])
    return candidates[0][1], candidates[0][2]


def operation_for(method: str, path: str) -> str | None:
    """operationId for a request, or None if the spec has no such operation."""
    found = find_operation(method, path.split("?", 1)[0])
    return found[0].operation_id if found else None


@functools.lru_cache(maxsize=1)
def _openapi():
    from openapi_core import OpenAPI

    return OpenAPI.from_dict(load_spec())


def _file_purposes() -> list[str]:
    return list(load_spec()["components"]["schemas"]["FilePurpose"]["enum"])


class _Request:
    """Adapter implementing openapi-core's Request protocol."""

    host_url = "https://api.mistral.ai"

    def __init__(self, method: str, path: str, query: Mapping[str, list[str]],
                 headers: Mapping[str, str], body: bytes | None, content_type: str):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.method = method.lower()
        self.path = path
        self.body = body
        self.content_type = (content_type or "").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict([(k, v) for k, vs in query.items() for v in vs]),
            header=Headers(list(headers.items())),
        )

    @property
    def full_url_pattern(self) -> str:  # pragma: no cover - informative only
        return self.host_url + self.path


def _describe(exc: BaseException) -> list[str]:
    """Flatten an openapi-core exception into short readable lines."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        schema_errors = getattr(e, "schema_errors", None)
        if schema_errors:
            where = getattr(exc, "name", None)
            head = f"{where}: " if where else "body: "
            return [f"{head}at {'/'.join(str(p) for p in err.absolute_path) or '<root>'}: "
                    f"{err.message}" for err in schema_errors]
    lines = []
    for e in chain:
        text = f"{type(e).__name__}: {e}"
        if len(text) > 300:
            text = text[:300] + "..."
        if text not in lines:
            lines.append(text)
    return [" <- ".join(lines)]


def validate_multipart_fields(parts: Iterable[Mapping[str, Any]]) -> list[str]:
    """Validate POST /v1/files multipart parts (already stream-parsed).

    Each part is a mapping with ``name``, ``filename`` (or None) and, for
    small text fields, ``value``.
    """
    parts = list(parts)
    names = [p.get("name") for p in parts]
    errors = []
    file_parts = [p for p in parts if p.get("name") == "file"]
    if not file_parts:
        errors.append("multipart: required part 'file' is missing")
    elif not file_parts[0].get("filename"):
        errors.append("multipart: part 'file' has no filename")
    if len(file_parts) > 1:
        errors.append("multipart: more than one 'file' part")
    allowed = {"file", "purpose"}
    for n in names:
        if n not in allowed:
            errors.append(f"multipart: unexpected part {n!r}")
    for p in parts:
        if p.get("name") == "purpose":
            value = p.get("value")
            if value not in _file_purposes():
                errors.append(f"multipart: purpose {value!r} is not one of {_file_purposes()}")
    return errors


def validate_request(method: str, path: str, query: Mapping[str, list[str]] | None = None,
                     headers: Mapping[str, str] | None = None, body: bytes | None = None,
                     content_type: str | None = None,
                     multipart_parts: Iterable[Mapping[str, Any]] | None = None) -> list[str]:
    """Validate one request; return human-readable violations (empty if valid).

    For multipart uploads pass ``multipart_parts`` (the stream-parsed fields)
    instead of a body; the body schema is then checked field by field.
    """
    query = dict(query or {})
    headers = dict(headers or {})
    path = path.split("?", 1)[0]
    found = find_operation(method, path)
    if found is None:
        return [f"{method.upper()} {path}: no such operation in the OpenAPI spec"]
    op, _ = found
    label = f"{method.upper()} {path} ({op.operation_id})"
    ctype = content_type or ""
    is_multipart = ctype.lower().startswith("multipart/form-data")
    errors: list[str] = []
    if is_multipart or multipart_parts is not None:
        if "multipart/form-data" not in _content_types(op):
            errors.append(f"{label}: multipart body not accepted by this operation")
        else:
            errors += [f"{label}: {e}" for e in validate_multipart_fields(multipart_parts or [])]
        # Validate everything else (params, security) with an empty JSON-less body
        # by temporarily pretending there is no body; body errors are filtered out.
        body, ctype = None, ""
    declared = _query_param_names(op)
    for name in query:
        if name not in declared:
            errors.append(f"{label}: unknown query parameter {name!r} "
                          f"(declared: {sorted(declared) or 'none'})")
    req = _Request(method, path, query, headers, body, ctype)
    for exc in _openapi().iter_request_errors(req):
        if is_multipart and _is_body_error(exc):
            continue
        errors += [f"{label}: {line}" for line in _describe(exc)]
    return errors


def _query_param_names(op: Operation) -> set[str]:
    item = load_spec()["paths"][op.path]
    params = list(item.get("parameters", [])) + list(item[op.method.lower()].get("parameters", []))
    return {p["name"] for p in params if p.get("in") == "query"}


def _content_types(op: Operation) -> list[str]:
    item = load_spec()["paths"][op.path][op.method.lower()]
    return list(item.get("requestBody", {}).get("content", {}))


def _is_body_error(exc: BaseException) -> bool:
    from openapi_core.validation.request.exceptions import RequestBodyValidationError

    return isinstance(exc, RequestBodyValidationError)


def build_query(query: Mapping[str, list[str]]) -> str:
    """Helper: encode a dict-of-lists query string."""
    return urlencode([(k, v) for k, vs in query.items() for v in vs])


class _Response:
    """Adapter implementing openapi-core's Response protocol."""

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes | None,
                 content_type: str):
        from werkzeug.datastructures import Headers

        self.status_code = status
        self.headers = Headers(list(headers.items()))
        self.data = data
        self.content_type = (content_type or "").lower()


def validate_response(method: str, path: str, status: int, headers: Mapping[str, str],
                      body: bytes | None, content_type: str) -> list[str]:
    """Validate a (non-streaming) response against the mended spec. Used to
    keep FakeAPI's defaults honest; the CLI is never judged by this."""
    path = path.split("?", 1)[0]
    found = find_operation(method, path)
    if found is None:
        return [f"{method.upper()} {path}: no such operation in the OpenAPI spec"]
    req = _Request(method, path, {}, {"Authorization": "Bearer x"}, None, "")
    resp = _Response(status, headers, body, content_type)
    label = f"{method.upper()} {path} -> {status}"
    return [f"{label}: {line}" for exc in _openapi().iter_response_errors(req, resp)
            for line in _describe(exc)]
