"""`mcli models`: list (with client-side filters), get, delete, update, archive, unarchive.
Every request is validated against the spec by the fake server."""

from __future__ import annotations

import io
import json
import os

import pytest

from mistral_cli.app import main
from mistral_cli.commands.models import filter_models
from mistral_cli.env import Env
from tests.fakeapi import error_401_detail, json_response
from tests.fakeapi.defaults import FT_MODEL, base_model, ft_model

FT_OTHER = "ft:mistral-small-latest:587a6b29:20240601:0badc0de"


def vision_model() -> dict:
    model = base_model("pixtral-large-latest")
    model["capabilities"] = {**model["capabilities"], "vision": True}
    return model


@pytest.fixture
def catalogue(api):
    """Three base models and two fine-tuned ones, served on GET /v1/models."""
    body = {"object": "list",
            "data": [base_model(), vision_model(), base_model("codestral-latest"),
                     ft_model(), ft_model(FT_OTHER)]}
    body["data"][2]["capabilities"] = {**body["data"][2]["capabilities"],
                                       "completion_fim": True, "function_calling": False}
    api.add("GET", "/v1/models", json_response(body))
    return body


def ids(stdout: str) -> list[str]:
    return stdout.splitlines()


# -- list ---------------------------------------------------------------------------------


def test_list_all(api, cli, catalogue):
    result = cli("models", "list", "-o", "text")
    assert result.exit_code == 0
    assert ids(result.stdout) == [m["id"] for m in catalogue["data"]]
    request = api.last()
    assert (request.method, request.path, request.query) == ("GET", "/v1/models", {})


def test_list_type_fine_tuned(cli, catalogue):
    result = cli("models", "list", "--type", "fine-tuned", "-o", "text")
    assert ids(result.stdout) == [FT_MODEL, FT_OTHER]


def test_list_type_base(cli, catalogue):
    result = cli("models", "list", "--type", "base", "-o", "text")
    assert ids(result.stdout) == ["mistral-small-latest", "pixtral-large-latest",
                                  "codestral-latest"]


def test_list_one_capability(cli, catalogue):
    result = cli("models", "list", "--capability", "vision", "-o", "text")
    assert ids(result.stdout) == ["pixtral-large-latest"]


def test_list_capabilities_are_all_required(cli, catalogue):
    result = cli("models", "list", "--capability", "completion_chat",
                 "--capability", "function_calling", "-o", "text")
    assert ids(result.stdout) == ["mistral-small-latest", "pixtral-large-latest"]


def test_list_capability_takes_the_words_the_table_shows(cli, catalogue):
    short = cli("models", "list", "--capability", "chat", "--capability", "tools", "-o", "text")
    assert short.exit_code == 0, short.stderr
    assert ids(short.stdout) == ["mistral-small-latest", "pixtral-large-latest"]
    assert ids(cli("models", "list", "--capability", "fim", "-o", "text").stdout) == ["codestral-latest"]


def test_list_capability_embeddings_finds_a_model_with_no_flag_by_its_id(api, cli):
    embed = {**base_model("mistral-embed"), "capabilities": {"completion_chat": False, "function_calling": False}}
    api.add("GET", "/v1/models", json_response({"object": "list", "data": [base_model(), embed]}))
    result = cli("models", "list", "--capability", "embeddings", "-o", "text")
    assert ids(result.stdout) == ["mistral-embed"]


def test_list_type_and_capability_together(cli, catalogue):
    result = cli("models", "list", "--type", "base", "--capability", "completion_fim",
                 "-o", "text")
    assert ids(result.stdout) == ["codestral-latest"]


def test_list_filtered_json_keeps_the_list_shape(cli, catalogue):
    result = cli("models", "list", "--type", "fine-tuned", "-o", "json")
    body = json.loads(result.stdout)
    assert body == {"object": "list", "data": catalogue["data"][3:]}


def test_list_unfiltered_json_is_the_body(cli, catalogue):
    assert json.loads(cli("models", "list", "-o", "json").stdout) == catalogue


def test_list_filtered_jsonl(cli, catalogue):
    result = cli("models", "list", "--capability", "vision", "-o", "jsonl")
    assert [json.loads(line) for line in ids(result.stdout)] == [catalogue["data"][1]]


def test_list_filter_matching_nothing(cli, catalogue):
    result = cli("models", "list", "--capability", "vision", "--type", "fine-tuned",
                 "-o", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"object": "list", "data": []}


def test_list_unknown_capability_is_exit_2_before_any_request(api, cli):
    result = cli("models", "list", "--capability", "telepathy")
    assert result.exit_code == 2
    assert "--capability" in result.stderr
    assert "telepathy" in result.stderr and "chat, tools, vision" in result.stderr
    assert api.requests == []


def test_list_bad_type_is_exit_2_before_any_request(api, cli):
    result = cli("models", "list", "--type", "huge")
    assert result.exit_code == 2
    assert api.requests == []


def test_filter_models_treats_missing_type_as_base():
    models = [{"id": "a"}, {"id": "b", "type": "fine-tuned"}, {"id": "c", "capabilities": None}]
    assert [m["id"] for m in filter_models(models, "base", [])] == ["a", "c"]
    assert filter_models(models, None, ["vision"]) == []


# -- get ----------------------------------------------------------------------------------


def test_get(api, cli):
    result = cli("models", "get", "mistral-small-latest", "-o", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["id"] == "mistral-small-latest"
    request = api.last()
    assert (request.method, request.path) == ("GET", "/v1/models/mistral-small-latest")
    assert request.operation_id == "retrieve_model_v1_models__model_id__get"


def test_get_fine_tuned_id_is_quoted_in_the_path(api, cli):
    result = cli("models", "get", FT_MODEL, "-o", "text")
    assert result.stdout == FT_MODEL + "\n"
    assert api.last().path_params == {"model_id": FT_MODEL}


def test_get_id_with_a_slash_stays_one_path_segment(api, cli):
    result = cli("models", "get", "org/model", "-o", "json")
    assert result.exit_code == 0
    assert api.last().path == "/v1/models/org%2Fmodel"


def test_delete_sends_a_fine_tuned_id_with_its_colons_raw(api, cli):
    result = cli("models", "delete", FT_MODEL, "--yes")
    assert result.exit_code == 0, result
    assert ":" in FT_MODEL and api.last().path == f"/v1/models/{FT_MODEL}"


@pytest.mark.parametrize("verb", [["get"], ["delete", "--yes"], ["archive"]])
def test_an_empty_id_is_refused_before_any_request(api, cli, verb):
    result = cli("models", verb[0], "", *verb[1:])
    assert result.exit_code == 2, result
    assert "model id is empty" in result.stderr
    assert api.requests == []


def test_get_table_off_terminal(api, cli):
    result = cli("models", "get", FT_MODEL)
    assert f"id\t{FT_MODEL}" in ids(result.stdout)
    assert "type\tfine-tuned" in ids(result.stdout)


# -- delete -------------------------------------------------------------------------------


def test_delete_with_yes(api, cli):
    result = cli("models", "delete", FT_MODEL, "--yes")
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert f"deleted {FT_MODEL}" in result.stderr
    request = api.last()
    assert request.method == "DELETE"
    assert request.path_params == {"model_id": FT_MODEL}


def test_delete_json_is_the_body(api, cli):
    result = cli("models", "delete", FT_MODEL, "-y", "-o", "json")
    assert json.loads(result.stdout) == {"id": FT_MODEL, "object": "model", "deleted": True}


def test_delete_several_json_is_a_list(api, cli):
    result = cli("models", "delete", FT_MODEL, FT_OTHER, "-y", "-o", "json")
    body = json.loads(result.stdout)
    assert [item["id"] for item in body] == [FT_MODEL, FT_OTHER]


def test_delete_refused_off_terminal_without_yes(api, cli):
    result = cli("models", "delete", FT_MODEL)
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert api.requests == []


def run_on_terminal(args: list[str], answer: str) -> tuple[int, str]:
    stderr = io.StringIO()
    env = Env(stdin=io.StringIO(answer), stdout=io.StringIO(), stderr=stderr,
              stdin_isatty=True, stdout_isatty=True, stderr_isatty=True,
              environ={**os.environ, "NO_COLOR": "1"})
    return main(args, env), stderr.getvalue()


def test_delete_on_terminal_asks_and_proceeds_on_yes(api):
    code, stderr = run_on_terminal(["models", "delete", FT_MODEL], "y\n")
    assert code == 0
    assert "[y/N]" in stderr
    assert len(api.requests) == 1


def test_delete_on_terminal_cancelled_on_no(api):
    code, stderr = run_on_terminal(["models", "delete", FT_MODEL], "\n")
    assert code == 2
    assert "cancelled" in stderr
    assert api.requests == []


def test_delete_several_with_one_missing_reports_each_and_exits_4(api, cli):
    api.add("DELETE", "/v1/models/{model_id}",
            json_response({"detail": "Model not found"}, 404), times=1)
    result = cli("models", "delete", "ft:gone:1", FT_MODEL, "--yes")
    assert result.exit_code == 4
    assert "Model not found" in result.stderr
    assert f"deleted {FT_MODEL}" in result.stderr
    assert [r.path_params["model_id"] for r in api.requests] == ["ft:gone:1", FT_MODEL]
    assert "Traceback" not in result.stderr


def test_delete_several_exits_with_the_worst_code(api, cli):
    api.add("DELETE", "/v1/models/{model_id}", error_401_detail(), times=1)
    api.add("DELETE", "/v1/models/{model_id}",
            json_response({"detail": "Model not found"}, 404), times=1)
    result = cli("models", "delete", "ft:a:1", "ft:b:2", FT_MODEL, "--yes")
    assert result.exit_code == 4
    assert "authentication failed" in result.stderr
    assert "not found" in result.stderr
    assert f"deleted {FT_MODEL}" in result.stderr
    assert len(api.requests) == 3


# -- update -------------------------------------------------------------------------------


def test_update_name_and_description(api, cli):
    result = cli("models", "update", FT_MODEL, "--name", "support bot v2",
                 "--description", "answers tickets", "-o", "json")
    assert result.exit_code == 0, result
    request = api.last()
    assert (request.method, request.operation_id) == (
        "PATCH", "jobs_api_routes_fine_tuning_update_fine_tuned_model")
    assert request.path_params == {"model_id": FT_MODEL}
    assert request.json == {"name": "support bot v2", "description": "answers tickets"}
    assert json.loads(result.stdout)["name"] == "support bot v2"


def test_update_only_description(api, cli):
    assert cli("models", "update", FT_MODEL, "--description", "").exit_code == 0
    assert api.last().json == {"description": ""}


def test_update_nothing_is_exit_2_before_any_request(api, cli):
    result = cli("models", "update", FT_MODEL)
    assert result.exit_code == 2
    assert "--name" in result.stderr
    assert api.requests == []


# -- archive / unarchive ------------------------------------------------------------------


def test_archive(api, cli):
    result = cli("models", "archive", FT_MODEL, "-o", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["archived"] is True
    request = api.last()
    assert request.method == "POST"
    assert request.operation_id == "jobs_api_routes_fine_tuning_archive_fine_tuned_model"
    assert request.path_params == {"model_id": FT_MODEL}


def test_unarchive(api, cli):
    result = cli("models", "unarchive", FT_MODEL, "-o", "text")
    assert result.stdout == FT_MODEL + "\n"
    request = api.last()
    assert request.method == "DELETE"
    assert request.operation_id == "jobs_api_routes_fine_tuning_unarchive_fine_tuned_model"


def test_archive_not_found_is_exit_4(api, cli):
    api.add("POST", "/v1/fine_tuning/models/{model_id}/archive",
            json_response({"detail": "Model not found"}, 404))
    assert cli("models", "archive", "ft:nope:1").exit_code == 4


@pytest.mark.parametrize("command", ["get", "delete", "update", "archive", "unarchive"])
def test_model_id_is_required(api, cli, command):
    result = cli("models", command)
    assert result.exit_code == 2
    assert api.requests == []


def test_delete_several_with_one_failure_still_prints_what_was_deleted(api, cli):
    api.add("DELETE", "/v1/models/{model_id}",
            json_response({"detail": "Model not found"}, 404), times=1)
    result = cli("models", "delete", "ft:gone:1", FT_MODEL, "--yes", "-o", "json")
    assert result.exit_code == 4
    assert json.loads(result.stdout) == {"id": FT_MODEL, "object": "model", "deleted": True}
