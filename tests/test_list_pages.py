"""One page rule: `--page-size N` never shows more than N rows, whatever the filters, and every
list mcli puts together states `total` the one way (api/pages.py: the first page's count;
lists of disjoint queries add theirs up)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mistral_cli.api import raw
from mistral_cli.api.pages import collect_pages
from tests.fakeapi import json_response
from tests.fakeapi.defaults import completion_job

STATUSES = ["QUEUED", "VALIDATED", "RUNNING", "SUCCESS"]
JOBS = [{**completion_job(f"00000000-0000-4000-8000-{i:012d}", STATUSES[i % 4]), "created_at": 1_700_000_000 + i}
        for i in range(11)]


def newest_first(status: str | None) -> list[dict]:
    """The jobs a server holds in STATUS (all without one), newest first as the API lists them."""
    return sorted((job for job in JOBS if status in (None, job["status"])),
                  key=lambda job: job["created_at"], reverse=True)


def respond(request):
    """GET /v1/fine_tuning/jobs over JOBS, honouring status, page and page_size."""
    jobs = newest_first((request.query.get("status") or [None])[0])
    page = int((request.query.get("page") or ["0"])[0])
    size = int((request.query.get("page_size") or ["100"])[0])
    return json_response({"object": "list", "total": len(jobs), "data": jobs[page * size:(page + 1) * size]})


def test_two_statuses_with_page_size_1_show_one_row(api, cli):
    api.add("GET", "/v1/fine_tuning/jobs", respond)
    result = cli("fine-tuning", "list", "--status", "VALIDATED", "--status", "QUEUED", "--page-size", "1",
                 "-o", "json")
    assert result.exit_code == 0, result
    body = json.loads(result.stdout)
    assert [job["id"] for job in body["data"]] == [newest_first("VALIDATED")[0]["id"]]  # the newer one
    assert body["total"] == len(newest_first("VALIDATED")) + len(newest_first("QUEUED"))


@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statuses=st.lists(st.sampled_from(STATUSES), min_size=1, max_size=4, unique=True),
       page_size=st.integers(1, 5), page=st.integers(0, 4))
def test_page_size_n_never_shows_more_than_n_rows(api, cli, statuses, page_size, page):
    api.add("GET", "/v1/fine_tuning/jobs", respond, times=None, optional=True)
    args = [arg for status in statuses for arg in ("--status", status)]
    result = cli("fine-tuning", "list", *args, "--page", str(page), "--page-size", str(page_size), "-o", "json")
    assert result.exit_code == 0, result
    rows = json.loads(result.stdout)["data"]
    union = sorted((job for job in JOBS if job["status"] in statuses),
                   key=lambda job: job["created_at"], reverse=True)
    assert len(rows) <= page_size
    assert [job["id"] for job in rows] == [job["id"] for job in union[page * page_size:(page + 1) * page_size]]


def test_a_later_page_total_never_replaces_the_first_pages():
    pages = [({"object": "list", "data": [1, 2], "total": 3}, [1, 2]),
             ({"object": "list", "data": [3], "total": 9}, [3])]
    assert raw.combine(pages)["total"] == 3
    bodies = iter(body for body, _new in pages)
    assert collect_pages(lambda page: next(bodies))["total"] == 3


@pytest.mark.parametrize("total", [None, -1, True, "3"])
def test_without_a_usable_total_the_items_read_are_counted(total):
    body = {"object": "list", "data": [{"id": "a"}], "total": total}
    assert collect_pages(lambda page: body)["total"] == 1
