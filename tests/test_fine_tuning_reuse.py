"""`fine-tuning create` uploads the same bytes once: a `--dry-run` and the real create share the
upload, confirmed by one GET before reuse; a file gone or changed on the server is sent again."""

from __future__ import annotations

import json

import pytest

from tests.fakeapi import json_response
from tests.fine_tuning_helpers import CHAT_LINE, sim, train  # noqa: F401 (fixtures)

CREATE = ("fine-tuning", "create", "--model", "open-mistral-7b", "--training-steps", "10")


def uploads(api) -> int:
    return len(api.requests_to("POST", "/v1/files"))


def training_ids(api) -> list[str]:
    body = api.last("POST", "/v1/fine_tuning/jobs").json
    return [entry["file_id"] for entry in body["training_files"]]


def test_a_dry_run_then_the_create_upload_once(api, cli, sim, train):
    dry = cli(*CREATE, "--training-file", train, "--dry-run")
    assert dry.exit_code == 0, dry
    [file_id] = api.files
    real = cli(*CREATE, "--training-file", train, "-o", "text")
    assert real.exit_code == 0, real
    assert uploads(api) == 1
    assert [r.target for r in api.requests[2:]] == [f"GET /v1/files/{file_id}", "POST /v1/fine_tuning/jobs"]
    assert training_ids(api) == [file_id]
    assert f"reusing the earlier upload of {train} (3 examples) as {file_id}" in real.stderr


@pytest.mark.parametrize("purpose", [[], ["--purpose", "fine-tune"]])
def test_a_file_uploaded_by_files_upload_is_reused(api, cli, sim, train, purpose):
    assert cli("files", "upload", train, *purpose).exit_code == 0
    [file_id] = api.files
    assert cli(*CREATE, "--training-file", train).exit_code == 0
    assert uploads(api) == 1 and training_ids(api) == [file_id]


def test_a_file_gone_from_the_server_is_uploaded_again_and_the_log_corrected(api, cli, sim, train):
    assert cli(*CREATE, "--training-file", train, "--dry-run").exit_code == 0
    [gone] = api.files
    api.add("GET", f"/v1/files/{gone}", json_response({"detail": "File not found"}, 404), times=1)
    assert cli(*CREATE, "--training-file", train, "--dry-run").exit_code == 0
    assert uploads(api) == 2
    fresh = [file_id for file_id in api.files if file_id != gone]
    assert training_ids(api) == fresh
    assert cli(*CREATE, "--training-file", train).exit_code == 0
    assert uploads(api) == 2 and training_ids(api) == fresh


def test_a_file_of_another_size_on_the_server_is_not_reused(api, cli, sim, train):
    assert cli(*CREATE, "--training-file", train, "--dry-run").exit_code == 0
    next(iter(api.files.values()))["bytes"] += 1
    assert cli(*CREATE, "--training-file", train).exit_code == 0
    assert uploads(api) == 2


def test_other_bytes_are_uploaded(api, cli, sim, train):
    assert cli(*CREATE, "--training-file", train, "--dry-run").exit_code == 0
    train.write_text((json.dumps(CHAT_LINE) + "\n") * 4)
    assert cli(*CREATE, "--training-file", train).exit_code == 0
    assert uploads(api) == 2


def test_the_same_bytes_under_two_names_are_uploaded_once(api, cli, sim, train, tmp_path):
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(train.read_bytes())
    result = cli(*CREATE, "--training-file", train, "--validation-file", copy)
    assert result.exit_code == 0, result
    assert uploads(api) == 1
    body = api.last("POST", "/v1/fine_tuning/jobs").json
    assert body["validation_files"] == training_ids(api)


def test_one_example_is_said_in_the_singular(api, cli, sim, tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps(CHAT_LINE) + "\n")
    result = cli(*CREATE, "--training-file", one, "--dry-run")
    assert result.exit_code == 0, result
    assert f"{one} (1 example) as" in result.stderr and "1 examples" not in result.stderr
