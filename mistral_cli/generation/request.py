"""The request body of a generation call, built from --body and the options on top of it.

Everything here is local: files are read and values checked against the spec's bounds and
enums before any request, with errors that name the option (exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.errors import UsageError
from mistral_cli.generation.args import OPTION_FIELDS, RANGES, TOOL_CHOICES, GenArgs, given_fields
from mistral_cli.generation.endpoints import GenerationEndpoint
from mistral_cli.inputs import check_bound, read_json, read_json_object, read_text, request_base

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

FUNCTION_KEYS = frozenset({"name", "description", "parameters", "strict"})
WRAPPER_KEYS = frozenset({"name", "schema", "strict", "description"})
EMPTY_PARAMETERS = {"type": "object", "properties": {}}


def read_base_body(env: "Env", path: Path | None, endpoint: GenerationEndpoint,
                   specs: list[str] | None = None) -> dict:
    """The --body object (or {}) with the -F/--field fields on top, under the one rule for
    fields the endpoint's spec does not know (inputs.request_base); a field of a sibling
    endpoint (`model` for agents) is refused."""
    return request_base(env, path, specs, endpoint.fields, endpoint.kind, endpoint.sibling_fields)


def sampling_fields(args: GenArgs, endpoint: GenerationEndpoint) -> dict[str, Any]:
    """The request fields set by sampling options (only those given)."""
    fields = {key: value for key, value in given_fields(args, OPTION_FIELDS).items() if key in endpoint.fields}
    if args.stop:
        fields["stop"] = list(args.stop)
    if args.safe_prompt:
        fields["safe_prompt"] = True
    if args.no_parallel_tool_calls:
        fields["parallel_tool_calls"] = False
    return fields


def resolve_model(env: "Env", endpoint: GenerationEndpoint, option: str | None, body: dict,
                  saved: str | None = None) -> str | None:
    """-m, else --body's model, else the conversation's, else the profile's, else the default."""
    if not endpoint.has_model or endpoint.model_setting is None:
        return None
    return env.model(endpoint.model_setting, option, body.get("model"), saved)


# -- response format -----------------------------------------------------------------------

def response_format(env: "Env", args: GenArgs) -> dict | None:
    """--json-mode or --schema as a ResponseFormat, or None."""
    if args.json_mode:
        return {"type": "json_object"}
    if args.schema is None:
        return None
    return {"type": "json_schema", "json_schema": json_schema(env, args)}


def json_schema(env: "Env", args: GenArgs) -> dict:
    """The JsonSchema object from --schema (bare or wrapped), --schema-name and --strict."""
    loaded = read_json_object(env, args.schema, "--schema")
    wrapped = isinstance(loaded.get("schema"), dict) and set(loaded) <= WRAPPER_KEYS
    spec = dict(loaded) if wrapped else {"schema": loaded}
    spec["name"] = args.schema_name or spec.get("name") or schema_title(spec["schema"])
    if args.strict:
        spec["strict"] = True
    if not isinstance(spec["name"], str) or not spec["name"]:
        raise UsageError("--schema: the schema's name must be a non-empty string")
    return spec


def schema_title(schema: dict) -> str:
    """A name for a bare schema: its title made identifier-safe, else 'response'."""
    title = schema.get("title")
    if isinstance(title, str):
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", title).strip("_")
        if safe:
            return safe[:64]
    return "response"


# -- prediction ------------------------------------------------------------------------------

def prediction(env: "Env", args: GenArgs) -> dict | None:
    """--prediction / --prediction-file as a Prediction, or None."""
    if args.prediction_file is not None:
        return {"type": "content", "content": read_text(env, args.prediction_file, "--prediction-file")}
    if args.prediction is not None:
        return {"type": "content", "content": args.prediction}
    return None


# -- tools ---------------------------------------------------------------------------------------

def load_tools(env: "Env", args: GenArgs) -> list[dict] | None:
    """--tool files and the --tools array as Tool objects, or None when neither is given."""
    if not args.tool and args.tools is None:
        return None
    tools: list[dict] = []
    for path in args.tool:
        tools.append(as_tool(read_json(env, path, "--tool"), f"--tool {path}"))
    if args.tools is not None:
        items = read_json(env, args.tools, "--tools")
        if not isinstance(items, list):
            raise UsageError(f"--tools: {args.tools} must hold a JSON array of tools")
        tools += [as_tool(item, f"--tools {args.tools} item {i}") for i, item in enumerate(items)]
    check_unique_names(tools)
    return tools


def as_tool(item: Any, where: str) -> dict:
    """A Tool object from a Tool or a bare function definition; refuse anything else."""
    if not isinstance(item, dict):
        raise UsageError(f"{where}: a tool must be a JSON object")
    if "function" in item:
        if set(item) - {"type", "function"} or item.get("type", "function") != "function":
            raise UsageError(f"{where}: a Tool object has only type (\"function\") and function")
        function = item["function"]
    else:
        function = item
    return {"type": "function", "function": as_function(function, where)}


def as_function(function: Any, where: str) -> dict:
    """Check a function definition: a name, parameters (default: no parameters), known keys."""
    if not isinstance(function, dict):
        raise UsageError(f"{where}: the function must be a JSON object")
    unknown = sorted(set(function) - FUNCTION_KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)} "
                         f"(a function has {', '.join(sorted(FUNCTION_KEYS))})")
    if not isinstance(function.get("name"), str) or not function["name"]:
        raise UsageError(f"{where}: the function needs a name")
    parameters = function.get("parameters", EMPTY_PARAMETERS)
    if not isinstance(parameters, dict):
        raise UsageError(f"{where}: parameters must be a JSON Schema object")
    return {**function, "parameters": parameters}


def check_unique_names(tools: list[dict]) -> None:
    """Refuse two tools with the same function name."""
    seen: set[str] = set()
    for tool in tools:
        name = tool["function"]["name"]
        if name in seen:
            raise UsageError(f"tool {name!r} is defined twice")
        seen.add(name)


def tool_choice(value: str, tools: list[dict] | None) -> str | dict:
    """--tool-choice as the enum value, or a ToolChoice naming a function (one of TOOLS, when
    tools are sent; an agent may name one of its own)."""
    if value in TOOL_CHOICES:
        return value
    names = [tool.get("function", {}).get("name") for tool in tools or [] if isinstance(tool, dict)]
    if names and value not in names:
        known = ", ".join([*TOOL_CHOICES, *names])
        raise UsageError(f"--tool-choice: {value!r} is neither a mode nor a tool's name (choose from {known})")
    return {"type": "function", "function": {"name": value}}


# -- the whole body --------------------------------------------------------------------------------

def options_body(env: "Env", args: GenArgs, endpoint: GenerationEndpoint, base: dict,
                 saved_tools: list[dict] | None = None) -> dict:
    """BASE (from --body) with every field the options set, except messages and stream."""
    body = {**base, **sampling_fields(args, endpoint)}
    for key, value in (("response_format", response_format(env, args)),
                       ("prediction", prediction(env, args))):
        if value is not None:
            body[key] = value
    tools = load_tools(env, args)
    if tools is None and "tools" not in body and saved_tools:
        tools = saved_tools
    if tools is not None:
        body["tools"] = tools
    if args.tool_choice is not None:
        body["tool_choice"] = tool_choice(args.tool_choice, body.get("tools"))
    return body


def check_body(body: dict, given: Iterable[str]) -> None:
    """Check the merged body's numbers against the spec's bounds, and its stop: an error names
    the option for a field in GIVEN (set by an option), else the --body field."""
    given = set(given)
    for request_field, bound in RANGES.items():
        label = bound.option if request_field in given else f"--body field {request_field}"
        check_bound(body.get(request_field), bound, label)
    stop = body.get("stop")
    if stop is not None and not (isinstance(stop, str) or
                                 isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise UsageError("--body field stop must be a string or a list of strings")

