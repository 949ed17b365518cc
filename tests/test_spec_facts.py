"""Every fact mcli copies from the spec (ranges, enums, choice lists) is checked against it.

A command module that copies an enum or a bound adds one line to ENUMS or BOUNDS here;
the test then fails the day the copy and `tests/contract/openapi.yaml` disagree.
"""

from __future__ import annotations

import importlib
from enum import Enum
from typing import Any

import pytest

from tests.fakeapi.spec import load_spec, resolve, schemas


def enum_values(path: str) -> set[Any]:
    """The enum at PATH: `Schema` or `Schema.property` (through anyOf and array items);
    `A.x|B.y` is the union of several."""
    if "|" in path:
        return set().union(*(enum_values(part) for part in path.split("|")))
    name, _, prop = path.partition(".")
    schema = resolve(schemas()[name])
    if prop:
        schema = resolve(schema["properties"][prop])
    return _collect_enum(schema)


def _collect_enum(schema: Any) -> set[Any]:
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return set()
    if "enum" in schema:
        return set(schema["enum"])
    found: set[Any] = set()
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, ()):
            found |= _collect_enum(option)
    if "items" in schema:
        found |= _collect_enum(schema["items"])
    return found


def bounds(path: str) -> tuple[Any, Any]:
    """(minimum, maximum) of `Schema.property` (None where the spec sets none)."""
    name, _, prop = path.partition(".")
    schema = resolve(resolve(schemas()[name])["properties"][prop])
    for option in [schema, *schema.get("anyOf", ())]:
        option = resolve(option)
        if "minimum" in option or "maximum" in option:
            return _number(option.get("minimum")), _number(option.get("maximum"))
    return None, None


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, str) else value  # `1E-08` reads as a string


def attribute(dotted: str) -> Any:
    """The object at `package.module:NAME[.attr]`."""
    module, _, name = dotted.partition(":")
    value: Any = importlib.import_module(module)
    for part in name.split("."):
        value = getattr(value, part)
    return value


def values_of(constant: Any) -> set[Any]:
    """A copied enum as a set: an Enum class, a mapping's keys, or a sequence."""
    if isinstance(constant, type) and issubclass(constant, Enum):
        return {member.value for member in constant}
    return set(constant)


# (where mcli keeps it, the spec's enum it copies)
ENUMS = [
    ("mistral_cli.api.batch:BatchEndpoint", "ApiEndpoint"),
    ("mistral_cli.bodies.batch_status:BatchStatus", "BatchJobStatus"),
    ("mistral_cli.generation.args:TOOL_CHOICES", "ToolChoiceEnum"),
    ("mistral_cli.commands.files:Purpose", "FilePurpose"),
    ("mistral_cli.commands.files:SampleType", "SampleType"),
    ("mistral_cli.commands.files:Source", "Source"),
    ("mistral_cli.commands.models:ModelType", "BaseModelCard.type|FTModelCard.type"),
    ("mistral_cli.generation.messages:ROLES",
     "SystemMessage.role|UserMessage.role|AssistantMessage.role|ToolMessage.role"),
    ("mistral_cli.commands.ocr.group:DOCUMENT_CHUNK_TYPES", "DocumentURLChunk.type"),
    ("mistral_cli.commands.ocr.group:IMAGE_CHUNK_TYPES", "ImageURLChunk.type"),
    ("mistral_cli.commands.fine_tuning.parse:FineTuneableModel", "FineTuneableModel"),
    ("mistral_cli.bodies.fine_tuning_enums:JobStatus", "CompletionJobOut.status"),
    ("mistral_cli.bodies.fine_tuning_enums:JobStatus", "ClassifierDetailedJobOut.status"),
    ("mistral_cli.bodies.fine_tuning:JOB_STATUSES", "CompletionDetailedJobOut.status"),
    ("mistral_cli.commands.fine_tuning.parse:LOSS_FUNCTIONS", "FTClassifierLossFunction"),
]

# (where mcli keeps the properties it copies, the spec schema they belong to)
PROPERTY_SETS = [
    ("mistral_cli.commands.models:CAPABILITIES", "ModelCapabilities"),
    ("mistral_cli.generation.request:FUNCTION_KEYS", "Function"),
    ("mistral_cli.generation.request:WRAPPER_KEYS", "JsonSchema"),
    ("mistral_cli.generation.endpoints:CHAT_FIELDS", "ChatCompletionRequest"),
    ("mistral_cli.generation.endpoints:AGENTS_FIELDS", "AgentsCompletionRequest"),
    ("mistral_cli.generation.endpoints:FIM_FIELDS", "FIMCompletionRequest"),
    ("mistral_cli.commands.embeddings:REQUEST_FIELDS", "EmbeddingRequest"),
    ("mistral_cli.commands.classifiers.group:TEXT_FIELDS", "ClassificationRequest"),
    ("mistral_cli.commands.classifiers.group:CHAT_FIELDS", "ChatModerationRequest"),
    ("mistral_cli.commands.classifiers.group:CHAT_FIELDS", "ChatClassificationRequest"),
    ("mistral_cli.commands.ocr.group:REQUEST_FIELDS", "OCRRequest"),
    ("mistral_cli.bodies.fields:FINE_TUNING_FIELDS", "JobIn"),
    ("mistral_cli.bodies.fields:BATCH_FIELDS", "BatchJobIn"),
]


@pytest.mark.parametrize("where, spec", ENUMS)
def test_copied_enum_matches_the_spec(where, spec):
    assert values_of(attribute(where)) == enum_values(spec)


@pytest.mark.parametrize("where, spec", PROPERTY_SETS)
def test_copied_property_names_match_the_spec(where, spec):
    assert values_of(attribute(where)) == set(resolve(schemas()[spec])["properties"])


def generation_ranges() -> list[tuple[str, str, tuple[Any, Any]]]:
    """(request schema, field, the copied bounds) for every RANGES field each schema has
    (agents take no temperature or top_p)."""
    from mistral_cli.generation.args import RANGES

    return [(schema, field, (low, high))
            for schema in ("ChatCompletionRequest", "FIMCompletionRequest", "AgentsCompletionRequest")
            for field, (_option, low, high, _int, _exclusive) in RANGES.items()
            if field in resolve(schemas()[schema])["properties"]]


@pytest.mark.parametrize("schema, field, copied", generation_ranges())
def test_generation_ranges_match_each_request_schema(schema, field, copied):
    assert bounds(f"{schema}.{field}") == copied


def test_every_range_is_checked_somewhere():
    from mistral_cli.generation.args import RANGES

    assert {field for _schema, field, _copied in generation_ranges()} == set(RANGES)


def test_api_tags_are_the_spec_tags_each_with_one_of_its_operations():
    from mistral_cli.api.tags import API_TAGS

    spec = load_spec()
    assert set(API_TAGS) == {tag["name"] for tag in spec["tags"]}
    for tag, operation in API_TAGS.items():
        method, path = operation.split(" ")
        assert tag in spec["paths"][path][method.lower()]["tags"], operation


def test_a_wrong_copy_would_fail():
    assert values_of(("auto", "none")) != enum_values("ToolChoiceEnum")
    assert bounds("ChatCompletionRequest.temperature") != (0, 2)


# -- fine-tuning: the job types, the list filter's statuses, the hyperparameter bounds --------


def test_fine_tuning_job_types_match_the_spec():
    from mistral_cli.bodies.fine_tuning import JOB_TYPES
    from mistral_cli.bodies.fine_tuning_enums import JobType

    spec = enum_values("CompletionJobOut.job_type") | enum_values("ClassifierJobOut.job_type")
    assert values_of(JobType) == set(JOB_TYPES) == spec


def test_fine_tuning_status_filter_matches_the_list_parameter():
    from mistral_cli.bodies.fine_tuning_enums import JobStatus

    operation = load_spec()["paths"]["/v1/fine_tuning/jobs"]["get"]
    status = next(p for p in operation["parameters"] if p["name"] == "status")
    assert values_of(JobStatus) == set(status["schema"]["enum"])


def hyperparameter_bounds() -> list[tuple[str, str, tuple[Any, ...]]]:
    """(schema, field, the copied bounds) for every hyperparameter each parameters schema has."""
    from mistral_cli.commands.fine_tuning.parse import HYPERPARAMETERS

    return [(schema, field, (low, high, exclusive, integer))
            for schema in ("CompletionTrainingParametersIn", "ClassifierTrainingParametersIn")
            for field, (_option, low, high, integer, exclusive) in HYPERPARAMETERS.items()
            if field in resolve(schemas()[schema])["properties"]]


@pytest.mark.parametrize("schema, field, copied", hyperparameter_bounds())
def test_hyperparameter_bounds_match_the_spec(schema, field, copied):
    low, high, exclusive, integer = copied
    prop = resolve(resolve(schemas()[schema])["properties"][field])
    assert bounds(f"{schema}.{field}") == (low, high)
    assert bool(prop.get("exclusiveMinimum")) == exclusive
    assert (prop["type"] == "integer") == integer


def test_every_hyperparameter_is_checked_and_completion_only_ones_are_right():
    from mistral_cli.commands.fine_tuning.parse import COMPLETION_ONLY, HYPERPARAMETERS

    completion = set(resolve(schemas()["CompletionTrainingParametersIn"])["properties"])
    classifier = set(resolve(schemas()["ClassifierTrainingParametersIn"])["properties"])
    assert set(HYPERPARAMETERS) == completion
    assert set(COMPLETION_ONLY) == completion - classifier


def test_job_in_bounds_match_the_spec():
    from mistral_cli.commands.fine_tuning import parse

    job_in = resolve(schemas()["JobIn"])["properties"]
    assert bounds("JobIn.invalid_sample_skip_percentage") == (parse.SKIP.low, parse.SKIP.high)
    assert job_in["suffix"]["maxLength"] == parse.SUFFIX_MAX
    wandb_key = resolve(schemas()["WandbIntegration"])["properties"]["api_key"]
    assert wandb_key["minLength"] == wandb_key["maxLength"] == parse.WANDB_KEY_LENGTH
    assert bounds("ClassifierTargetIn.weight") == (0, None)
    for schema in ("TrainingFile", "GithubRepositoryIn"):  # weights over 0
        weight = resolve(schemas()[schema])["properties"]["weight"]
        assert (weight["minimum"], weight.get("exclusiveMinimum")) == (0, True)


# -- the operation table (api/operations.py) ------------------------------------------------

CREATES = {"files.upload", "fine_tuning.create", "batch.create"}  # leaves a thing stored or billed
IDEMPOTENT_POSTS = {"fine_tuning.cancel", "batch.cancel", "models.archive"}  # asking twice is asking once


def spec_operation(operation) -> dict:
    """The spec's entry for a table OPERATION."""
    return load_spec()["paths"][operation.template][operation.method.lower()]


def test_the_table_has_exactly_the_spec_operations():
    from mistral_cli.api.operations import OPERATIONS
    from tests.fakeapi.spec import operations

    table = {(op.method, op.template) for op in OPERATIONS.values()}
    assert len(OPERATIONS) == len(table) == 30
    assert table == {(op.method, op.path) for op in operations()}


def test_each_operation_sits_under_its_spec_tag():
    from mistral_cli.api.operations import OPERATIONS

    for op in OPERATIONS.values():
        assert spec_operation(op)["tags"] == [op.tag], op.name


def test_paged_operations_are_those_with_page_and_page_size():
    from mistral_cli.api.operations import OPERATIONS

    for op in OPERATIONS.values():
        names = {parameter["name"] for parameter in spec_operation(op).get("parameters", ())}
        assert op.paged == ({"page", "page_size"} <= names), op.name


def test_each_list_carries_the_spec_filters_and_pages_as_the_spec_does():
    from mistral_cli.api.operations import OPERATIONS
    from mistral_cli.numbers import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PAGE_SIZE

    for op in OPERATIONS.values():
        parameters = {p["name"]: p for p in spec_operation(op).get("parameters", ()) if p["in"] == "query"}
        if not op.paged:
            assert (op.query, op.largest_page) == ((), 0), op.name
            continue
        assert set(op.query) == set(parameters) - {"page", "page_size"}, op.name
        assert parameters["page_size"]["schema"]["default"] == DEFAULT_PAGE_SIZE, op.name
        assert op.largest_page == MAX_PAGE_SIZE == PAGE_SIZE.high, op.name


def test_multipart_operations_are_those_whose_body_is_a_form():
    from mistral_cli.api.operations import OPERATIONS

    for op in OPERATIONS.values():
        content = spec_operation(op).get("requestBody", {}).get("content", {})
        assert op.multipart == ("multipart/form-data" in content), op.name


def test_effects_follow_one_rule():
    from mistral_cli.api.operations import OPERATIONS
    from mistral_cli.http.effect import Effect

    for op in OPERATIONS.values():
        if op.method != "POST":
            expected = Effect.REPEATABLE
        elif op.name in CREATES:
            expected = Effect.CREATE
        else:
            expected = Effect.REPEATABLE if op.name in IDEMPOTENT_POSTS else Effect.COMPUTE
        assert op.effect is expected, op.name


def object_values(schema: Any) -> set[Any]:
    """The `object` values (default, enum, example) a response SCHEMA may carry, list items included."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return set()
    found: set[Any] = set()
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, ()):
            found |= object_values(option)
    properties = schema.get("properties", {})
    obj = resolve(properties.get("object", {}))
    found |= {obj[key] for key in ("default", "example") if key in obj} | set(obj.get("enum", ()))
    data = resolve(properties.get("data", {}))
    if data.get("type") == "array":
        found |= object_values(data.get("items"))
    return found


def test_the_kind_of_id_each_operation_returns_is_the_object_its_answer_names():
    from mistral_cli.api.operations import KIND_OBJECTS, OPERATIONS

    for op in OPERATIONS.values():
        content = spec_operation(op)["responses"]["200"].get("content", {})
        named = set().union(*(object_values(media.get("schema")) for media in content.values()))
        kinds = {kind for kind, obj in KIND_OBJECTS.items() if obj in named}
        assert kinds == ({op.returns} if op.returns else set()), op.name


def test_operation_paths_quote_ids_and_match_back():
    from mistral_cli.api.operations import OPERATIONS, find

    archive = OPERATIONS["models.archive"]
    quoted = "/v1/fine_tuning/models/ft:open-mistral-7b:a%2Fb%3F%23%20/archive"
    assert archive.path("ft:open-mistral-7b:a/b?# ") == quoted
    assert find("post", "/v1/fine_tuning/jobs/abc/cancel/?x=1") is OPERATIONS["fine_tuning.cancel"]
    assert find("GET", "/v1/files/abc") is OPERATIONS["files.retrieve"]
    assert find("POST", "/v1/files/abc") is None and find("GET", "/v1/nothing") is None
    with pytest.raises(TypeError):
        archive.path()
    with pytest.raises(TypeError):
        OPERATIONS["models.list"].path("extra")


def test_an_operation_describes_itself_for_messages_with_its_ids_as_given():
    from mistral_cli.api.operations import OPERATIONS, describe

    archive = OPERATIONS["models.archive"]
    assert archive.describe() == "POST /v1/fine_tuning/models/{model_id}/archive"
    assert describe("models.archive", "ft:a/b") == "POST /v1/fine_tuning/models/ft:a/b/archive"
    assert describe("files.list") == "GET /v1/files"
    with pytest.raises(TypeError):
        OPERATIONS["models.list"].describe("extra")


def test_the_id_cache_and_the_tab_rules_use_the_table_kinds():
    from mistral_cli.api.operations import KIND_OBJECTS, id_kinds
    from mistral_cli.docgen import live
    from mistral_cli.store import ids

    assert set(ids.KINDS) == set(id_kinds()) == set(KIND_OBJECTS)
    local = {live.CONVERSATION, live.MODERATION_CATEGORY, live.CONFIG_KEY, live.PROFILE, live.API_PATH,
             *(f"model-{use}" for use in live.MODEL_USES)}  # kinds that come from this machine, not the API
    assert set(live.kinds()) - local == set(id_kinds())


def test_moderation_categories_match_the_spec_where_it_lists_them():
    """The spec leaves ModerationObject.categories open (no property names), so the copied
    MODERATION_CATEGORIES come from the docs; the day the spec names them, they must agree."""
    from mistral_cli.commands.classifiers.verdicts import MODERATION_CATEGORIES

    for field in ("categories", "category_scores"):
        listed = set(resolve(resolve(schemas()["ModerationObject"])["properties"][field]).get("properties", ()))
        assert not listed or listed == set(MODERATION_CATEGORIES)
    assert len(set(MODERATION_CATEGORIES)) == len(MODERATION_CATEGORIES)
