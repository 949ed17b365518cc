"""One page iterator (api/pages.py) behind `files list --all`, `batch list --all` and
`mcli api --paginate`: the same stop rule wherever a list is followed to its end."""

from __future__ import annotations

import json

import pytest

from mistral_cli.api.pages import collect_pages, walk_pages
from mistral_cli.errors import MCLIError
from tests.fakeapi import json_response
from tests.fakeapi.defaults import batch_job, completion_job, file_obj

IDS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(7)]


def capped_server(make, cap: int = 2, total: bool = True):
    """A list endpoint that gives at most CAP items a page, whatever page_size asks."""
    items = [make(item_id) for item_id in IDS]

    def respond(request):
        page = int(request.query.get("page", ["0"])[0])
        body = {"object": "list", "data": items[page * cap:(page + 1) * cap]}
        return json_response({**body, "total": len(items)} if total else body)

    return items, respond


COMMANDS = [
    ("/v1/files", lambda i: file_obj(fid=i), ["files", "list", "--all", "--page-size", "5", "-o", "json"]),
    ("/v1/batch/jobs", lambda i: batch_job(bid=i), ["batch", "list", "--all", "--page-size", "5", "-o", "json"]),
    ("/v1/files", lambda i: file_obj(fid=i), ["api", "GET", "/v1/files", "-f", "page_size=5", "--paginate"]),
    ("/v1/batch/jobs", lambda i: batch_job(bid=i), ["api", "GET", "/v1/batch/jobs", "-f", "page_size=5",
                                                    "--paginate"]),
]


@pytest.mark.parametrize("path, make, args", COMMANDS)
def test_short_pages_do_not_end_the_walk(api, cli, path, make, args):
    items, respond = capped_server(make)
    api.add("GET", path, respond)
    result = cli(*args)
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["data"] == items
    assert [r.query["page"] for r in api.requests] == [[str(n)] for n in range(4)]


@pytest.mark.parametrize("path, make, args", COMMANDS)
def test_without_a_total_the_walk_ends_at_a_page_with_nothing_new(api, cli, path, make, args):
    items, respond = capped_server(make, total=False)
    api.add("GET", path, respond)
    result = cli(*args)
    assert json.loads(result.stdout)["data"] == items
    assert len(api.requests) == 4  # pages 0-3: page 3, shorter than page 0, is the last


def test_paginate_jsonl_prints_a_repeated_item_once(api, cli):
    api.add("GET", "/v1/batch/jobs", json_response({"object": "list", "data": [batch_job()], "total": 3}))
    result = cli("api", "GET", "/v1/batch/jobs", "--paginate", "-o", "jsonl")
    assert result.stdout.splitlines() == [json.dumps(batch_job(), separators=(",", ":"))]
    assert len(api.requests) == 2


def test_paginate_starts_at_the_page_given(api, cli):
    items, respond = capped_server(lambda i: file_obj(fid=i))
    api.add("GET", "/v1/files", respond)
    result = cli("api", "GET", "/v1/files", "-f", "page=2", "--paginate", "-o", "jsonl")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == IDS[4:]
    assert [r.query["page"] for r in api.requests] == [["2"], ["3"]]  # page 3 is short: the last


def test_walk_pages_stops_at_the_total_and_collect_keeps_the_first_shape():
    pages = {0: {"object": "list", "data": [{"id": 1}, {"id": 2}], "total": 3},
             1: {"object": "list", "data": [{"id": 2}, {"id": 3}], "total": 3}}
    assert [new for _body, new in walk_pages(pages.__getitem__)] == [[{"id": 1}, {"id": 2}], [{"id": 3}]]
    assert collect_pages(pages.__getitem__) == {"object": "list", "data": [{"id": 1}, {"id": 2}, {"id": 3}],
                                                 "total": 3}


def test_walk_pages_gives_up_after_max_pages(monkeypatch):
    from mistral_cli.api import pages

    monkeypatch.setattr(pages, "MAX_PAGES", 5)
    calls = []
    endless = lambda page: calls.append(page) or {"data": [{"id": page}]}  # noqa: E731
    walked = []
    with pytest.raises(MCLIError, match="stopped after 5 pages"):
        walked.extend(walk_pages(endless))
    assert len(walked) == 5 and calls == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("path, make, command", [
    ("/v1/batch/jobs", lambda i: batch_job(bid=i), ["batch", "list"]),
    ("/v1/fine_tuning/jobs", lambda i: completion_job(jid=i), ["fine-tuning", "list"]),
])
def test_one_page_of_several_says_so_on_a_terminal(api, cli, monkeypatch, path, make, command):
    monkeypatch.setenv("TERM", "xterm-256color")
    _items, respond = capped_server(make)
    api.add("GET", path, respond)
    result = cli(*command, "--page-size", "2", tty=True)
    assert result.exit_code == 0, result
    assert f"2 of {len(IDS)}; --all for every page" in result.stderr
