"""Fields and values the API takes beyond the spec mcli was built from: `-F/--field` on every
request command, `--body` fields the spec does not know sent with one warning, typos refused."""

from __future__ import annotations

import json

import pytest

from tests.fakeapi import json_response
from tests.fakeapi.defaults import FILE_ID
from tests.fine_tuning_helpers import sim  # noqa: F401 (fixture)
from tests.ocr_helpers import ocr_body, page, png_bytes
from tests.generation_helpers import chat_requests, completion

CHAT = "/v1/chat/completions"


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("mcli: warning:")]


# -- chat, agents, fim -----------------------------------------------------------------------------

def test_chat_sends_newer_fields_from_body_and_field_with_one_warning(api, cli, tmp_path):
    api.add("POST", CHAT, json_response(completion("ok")), extra_fields={"reasoning_effort", "prompt_mode"})
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"reasoning_effort": "high"}))
    result = cli("chat", "hi", "--no-stream", "--body", body, "-F", "prompt_mode=reasoning",
                 "--field", "temperature=0.2")
    assert result.exit_code == 0, result
    sent = chat_requests(api)[-1].json
    assert sent["reasoning_effort"] == "high" and sent["prompt_mode"] == "reasoning"
    assert sent["temperature"] == 0.2
    assert warnings(result.stderr) == [
        "mcli: warning: sending prompt_mode, reasoning_effort, not in the spec of chat: the API decides"]


def test_a_field_within_a_typo_of_a_known_one_is_refused(api, cli):
    result = cli("chat", "hi", "-F", "temprature=0.2")
    assert result.exit_code == 2, result
    assert "'temprature' is not a field of chat; did you mean 'temperature'?" in result.stderr
    assert api.requests == []


def test_options_go_on_top_of_fields(api, cli):
    api.add("POST", CHAT, json_response(completion("ok")))
    result = cli("chat", "hi", "--no-stream", "-F", "temperature=0.9", "--temperature", "0.1",
                 "-F", "response_format.type=json_object")
    assert result.exit_code == 0, result
    sent = chat_requests(api)[-1].json
    assert sent["temperature"] == 0.1 and sent["response_format"] == {"type": "json_object"}
    assert warnings(result.stderr) == []


def test_a_field_without_a_value_is_refused(api, cli):
    result = cli("fim", "def f(", "-F", "reasoning_effort")
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.stderr


def test_fim_sends_a_newer_field(api, cli):
    api.add("POST", "/v1/fim/completions", json_response(completion("x")), extra_fields={"prompt_cache_key"})
    result = cli("fim", "def f(", "--no-stream", "-F", "prompt_cache_key=k1")
    assert result.exit_code == 0, result
    assert api.last().json["prompt_cache_key"] == "k1"
    assert len(warnings(result.stderr)) == 1


# -- the other request commands ------------------------------------------------------------------

def embedding_answer(count: int) -> dict:
    return {"id": "e", "object": "list", "model": "mistral-embed",
            "data": [{"object": "embedding", "index": i, "embedding": [0.5, 0.25]} for i in range(count)],
            "usage": {"prompt_tokens": 1, "total_tokens": 1}}


def test_embeddings_send_output_dimension_and_dtype(api, cli):
    api.add("POST", "/v1/embeddings", json_response(embedding_answer(1)),
            extra_fields={"output_dimension", "output_dtype"})
    result = cli("embeddings", "hello", "-F", "output_dimension=2", "-F", "output_dtype=float", "-o", "json")
    assert result.exit_code == 0, result
    assert api.last().json == {"model": "mistral-embed", "input": ["hello"], "output_dimension": 2,
                               "output_dtype": "float"}
    assert warnings(result.stderr) == [
        "mcli: warning: sending output_dimension, output_dtype, not in the spec of embeddings: the API decides"]


def test_fine_tuning_create_sends_an_unknown_body_field_with_a_warning(api, cli, sim, tmp_path):
    base = tmp_path / "job.json"
    base.write_text(json.dumps({"zz_bogus": 1}))
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", FILE_ID,
                 "--body", base, "-F", "hyperparameters.epochs=2", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result
    sent = api.last("POST", "/v1/fine_tuning/jobs").json
    assert sent["zz_bogus"] == 1 and sent["hyperparameters"] == {"epochs": 2}
    assert warnings(result.stderr) == [
        "mcli: warning: sending zz_bogus, not in the spec of fine-tuning create: the API decides"]


def test_fine_tuning_create_refuses_a_typo(api, cli):
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", FILE_ID,
                 "-F", "sufix=mine")
    assert result.exit_code == 2 and "did you mean 'suffix'?" in result.stderr
    assert api.requests == []


def test_ocr_sends_its_newer_fields(api, cli, tmp_path):
    image = tmp_path / "scan.png"
    image.write_bytes(png_bytes())
    api.add("POST", "/v1/ocr", json_response(ocr_body(page(0, "Hi."))),
            extra_fields={"include_blocks", "table_format"})
    result = cli("ocr", image, "-F", "include_blocks=true", "-F", "table_format=markdown", "--image-limit", "2")
    assert result.exit_code == 0, result
    sent = api.last("POST", "/v1/ocr").json
    assert sent["include_blocks"] is True and sent["table_format"] == "markdown" and sent["image_limit"] == 2
    assert warnings(result.stderr) == [
        "mcli: warning: sending include_blocks, table_format, not in the spec of ocr: the API decides"]


# -- values beyond the spec's enums -------------------------------------------------------------

def test_batch_create_sends_an_endpoint_beyond_the_five_with_one_warning(api, cli):
    from tests.fakeapi.batch_jobs import BatchJobs

    BatchJobs(api).install()
    result = cli("batch", "create", "--input", FILE_ID, "--endpoint", "/v1/ocr", "-o", "json")
    assert result.exit_code == 0, result
    assert api.last("POST", "/v1/batch/jobs").json["endpoint"] == "/v1/ocr"
    assert api.last("POST", "/v1/batch/jobs").json["model"] == "mistral-ocr-latest"
    assert warnings(result.stderr) == [
        "mcli: warning: --endpoint /v1/ocr is not one of the spec's (/v1/chat/completions, /v1/embeddings, "
        "/v1/fim/completions, /v1/moderations, /v1/chat/moderations): sending it as given"]
    assert all("endpoint" in violation for violation in api.violations())
    api.ignore_violations()


def test_batch_create_needs_a_model_for_an_endpoint_it_has_no_default_for(api, cli):
    result = cli("batch", "create", "--input", FILE_ID, "--endpoint", "/v1/classifications")
    assert result.exit_code == 2 and "--model is required with --endpoint /v1/classifications" in result.stderr
    assert api.requests == []


def test_moderation_sends_a_newer_field_and_a_model_from_the_body(api, cli, tmp_path):
    answer = {"id": "m", "model": "mistral-moderation-2411",
              "results": [{"categories": {"pii": False}, "category_scores": {"pii": 0.01}}]}
    api.add("POST", "/v1/moderations", json_response(answer), extra_fields={"guardrails"})
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"model": "mistral-moderation-2411"}))
    result = cli("classifiers", "moderate", "hello", "--body", body, "-F", 'guardrails={"pii": true}',
                 "-o", "json")
    assert result.exit_code == 0, result
    assert api.last().json == {"model": "mistral-moderation-2411", "input": ["hello"], "guardrails": {"pii": True}}
    assert len(warnings(result.stderr)) == 1


def test_batch_create_sends_job_fields_beyond_the_spec_and_refuses_those_the_options_set(api, cli):
    from tests.fakeapi.batch_jobs import BatchJobs

    BatchJobs(api).install()
    result = cli("batch", "create", "--input", FILE_ID, "--endpoint", "/v1/embeddings", "-F", "priority=low",
                 "-o", "json")
    assert result.exit_code == 0, result
    assert api.last("POST", "/v1/batch/jobs").json["priority"] == "low"
    assert warnings(result.stderr) == [
        "mcli: warning: sending priority, not in the spec of batch create: the API decides"]
    refused = cli("batch", "create", "--input", FILE_ID, "--endpoint", "/v1/embeddings", "-F", "model=x")
    assert refused.exit_code == 2 and "model: set by the options" in refused.stderr
