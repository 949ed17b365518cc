"""The one list path of `files list`, `batch list` and `fine-tuning list`: `--all` asks the
largest page the API serves (an explicit `--page-size` wins), every page is shape-checked
(a body that is no listing is exit 1 naming the request, never an internal error or an empty
list), and `-o json` written page by page is byte for byte the one body it always was."""

from __future__ import annotations

import json

import pytest

from mistral_cli.api.pages import combined_body
from mistral_cli.render.output import indented_json
from tests.fakeapi import json_response
from tests.fakeapi.defaults import batch_job, completion_job, file_obj

LISTS = [("files", "/v1/files", file_obj), ("batch", "/v1/batch/jobs", batch_job),
         ("fine-tuning", "/v1/fine_tuning/jobs", completion_job)]


def uuid(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def served(make, count: int):
    """A list of COUNT items made by MAKE, honouring `page` and `page_size` (default 100)."""
    def respond(request):
        page = int((request.query.get("page") or ["0"])[0])
        size = int((request.query.get("page_size") or ["100"])[0])
        numbers = range(page * size, min(count, (page + 1) * size))
        return json_response({"object": "list", "data": [make(uuid(n)) for n in numbers], "total": count})

    return respond


@pytest.mark.parametrize("tag, path, make", LISTS, ids=[tag for tag, _path, _make in LISTS])
def test_all_asks_the_largest_page_and_an_explicit_page_size_wins(api, cli, tag, path, make):
    api.add("GET", path, served(make, 1_001), times=None)
    result = cli(tag, "list", "--all", "-o", "text")
    assert result.exit_code == 0, result
    assert result.stdout.split() == [uuid(n) for n in range(1_001)]
    assert [(r.query["page"], r.query["page_size"]) for r in api.requests] == [(["0"], ["1000"]),
                                                                              (["1"], ["1000"])]
    api.requests.clear()
    assert cli(tag, "list", "--all", "--page-size", "500", "-o", "text").stdout == result.stdout
    assert [r.query["page_size"] for r in api.requests] == [["500"]] * 3


def capped(make, count: int, cap: int, by_asked: bool):
    """A list of COUNT items that serves at most CAP a page and counts a page's offset by the
    size asked (BY_ASKED) or by the size it served."""
    def respond(request):
        page = int(request.query["page"][0])
        asked = int(request.query["page_size"][0])
        start = page * (asked if by_asked else min(asked, cap))
        numbers = range(start, min(count, start + min(asked, cap)))
        return json_response({"object": "list", "data": [make(uuid(n)) for n in numbers], "total": count})

    return respond


@pytest.mark.parametrize("by_asked", [True, False], ids=["offset-by-asked", "offset-by-served"])
def test_a_server_that_caps_the_page_size_loses_no_item(api, cli, by_asked):
    api.add("GET", "/v1/files", capped(file_obj, 250, 100, by_asked), times=None)
    result = cli("files", "list", "--all", "-o", "text")
    assert result.exit_code == 0, result
    assert result.stdout.split() == [uuid(n) for n in range(250)]
    assert [r.query["page_size"] for r in api.requests] == [["1000"], ["100"], ["100"]]


@pytest.mark.parametrize("body", [[], {"data": 5}, {"data": [1]}], ids=["list", "number", "item"])
@pytest.mark.parametrize("every", [False, True], ids=["one-page", "all"])
@pytest.mark.parametrize("tag, path, make", LISTS, ids=[tag for tag, _path, _make in LISTS])
def test_a_body_that_is_no_listing_is_an_unexpected_response(api, cli, tag, path, make, body, every):
    api.add("GET", path, json_response(body))
    result = cli(tag, "list", *(["--all"] if every else []), "-o", "json")
    assert result.exit_code == 1, result
    assert result.stderr.startswith(f"mcli: error: unexpected response from GET {path}: "), result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("tag, path, make", LISTS, ids=[tag for tag, _path, _make in LISTS])
def test_a_later_page_that_is_no_listing_is_an_unexpected_response(api, cli, tag, path, make):
    api.add("GET", path, json_response({"object": "list", "data": [make(uuid(0))], "total": 2}),
            query={"page": "0"})
    api.add("GET", path, json_response([]), query={"page": "1"})
    result = cli(tag, "list", "--all", "--page-size", "1", "-o", "jsonl")
    assert result.exit_code == 1, result
    assert f"unexpected response from GET {path}: body: a list, not an object" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("every", [[], ["--all"]], ids=["one-page", "all"])
@pytest.mark.parametrize("body", [{}, {"object": "list", "data": None, "total": 0}], ids=["no-data", "null-data"])
def test_a_listing_without_items_is_an_empty_list(api, cli, body, every):
    api.add("GET", "/v1/batch/jobs", json_response(body))
    result = cli("batch", "list", *every, "-o", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == (combined_body(body, []) if every else body)
    assert cli("batch", "list", *every).exit_code == 0


def test_an_id_that_is_not_a_string_is_an_item_like_any_other(api, cli):
    items = [{**file_obj(uuid(0)), "id": ["not", "an", "id"]}, {**file_obj(uuid(1)), "id": {"a": 1}}]
    api.add("GET", "/v1/files", json_response({"object": "list", "data": items, "total": 2}))
    result = cli("files", "list", "--all", "-o", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["data"] == items


FIRST_PAGES = {
    "data first": lambda items: {"data": items, "object": "list", "total": 3},
    "total first": lambda items: {"total": 3, "object": "list", "data": items},
    "no total": lambda items: {"object": "list", "data": items},
    "unusable total after": lambda items: {"object": "list", "data": items, "total": None},
    "unusable total first": lambda items: {"total": "3", "object": "list", "data": items},
    "odd keys": lambda items: {"objet\u00e9\x7f": {"nested": ["\x1b[31m"]}, "data": items, "total": 3},
}


@pytest.mark.parametrize("shape", list(FIRST_PAGES))
def test_all_as_json_is_byte_for_byte_the_body_one_call_would_give(api, cli, shape):
    files = [file_obj(uuid(n), filename=f"n\u00e9\u009b{n}.jsonl") for n in range(3)]
    pages = [FIRST_PAGES[shape](files[:2]), FIRST_PAGES[shape](files[2:])]
    for number, body in enumerate(pages):
        api.add("GET", "/v1/files", json_response(body), query={"page": str(number)})
    result = cli("files", "list", "--all", "--page-size", "2", "-o", "json")
    assert result.exit_code == 0, result
    assert result.stdout == indented_json(combined_body(pages[0], files)) + "\n"


def test_an_empty_list_as_json_is_the_empty_body(api, cli):
    api.add("GET", "/v1/files", json_response({"data": [], "object": "list", "total": 0}))
    result = cli("files", "list", "--all", "-o", "json")
    assert result.stdout == indented_json({"data": [], "object": "list", "total": 0}) + "\n"
