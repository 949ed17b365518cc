"""Nothing from the network is trusted: bounded numbers, bodies, pages and polls; every secret
mcli sends kept off the screen and off other origins; an open credentials file named.

Every case runs against the real local fake server (tests/fakeapi), which counts what it
received, so "nothing sent" and "the other origin received nothing" are measured.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import stat
import sys
import zlib
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY
from tests.fakeapi import FakeAPI, error_400, error_empty, json_response, text_response
from tests.fakeapi.defaults import BATCH_ID, FILE_ID, JOB_ID, batch_job, completion_job, file_obj
from tests.fakeapi.responses import Response

MiB = 1024 * 1024
WANDB_KEY = "wandbSECRETwandbSECRETwandbSECRETwandb01"  # 40 characters, as the spec wants
GITHUB_TOKEN = "ghp_TokenSecret0123456789abcdefGHIJ"
URL_PASSWORD = "pw-Hunter2-URLsecret"


# -- the global numbers are bounded where parsed -----------------------------------------------


@pytest.mark.parametrize("args", [
    ["--timeout", "1e23"], ["--timeout", "nan"], ["--timeout", "inf"], ["--timeout", "-1"],
    ["--timeout", "-inf"], ["--timeout", "1e400"], ["--timeout=86401"],
    ["--max-retries", "99999999999999999999999"], ["--max-retries", "101"], ["--max-retries", "-1"],
])
def test_an_out_of_range_global_number_is_a_usage_error_and_nothing_is_sent(api, cli, args):
    result = cli(*args, "models", "list")
    assert result.exit_code == 2, result
    assert args[0].split("=")[0] in result.stderr and "internal error" not in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("key, value", [("timeout", "1e23"), ("timeout", "86401"),
                                        ("max_retries", "1000000")])
def test_config_set_refuses_an_out_of_range_number(cli, key, value):
    result = cli("config", "set", key, value)
    assert result.exit_code == 2, result
    assert f"bad value for '{key}'" in result.stderr and "at most" in result.stderr


@pytest.mark.parametrize("line", ["timeout = 1e23", "timeout = inf", "timeout = nan",
                                  "max_retries = 99999999999999"])
def test_an_out_of_range_number_in_the_config_file_is_refused_before_sending(api, cli, line):
    config = Path(os.environ["MCLI_CONFIG_DIR"]) / "config.toml"
    config.write_text(f"[profiles.default]\n{line}\n", encoding="utf-8")
    result = cli("models", "list")
    assert result.exit_code == 2, result
    assert "internal error" not in result.stderr and line.split()[0] in result.stderr
    assert api.requests == []


def test_the_largest_allowed_numbers_work(api, cli):
    result = cli("--timeout", "86400", "--max-retries", "100", "models", "list", "-o", "json")
    assert result.exit_code == 0, result


# -- an open credentials file is named, with the chmod -----------------------------------------


def credentials_file(mode: int) -> Path:
    path = Path(os.environ["MCLI_CONFIG_DIR"]) / "credentials.toml"
    path.write_text(f'default = "{TEST_API_KEY}"\n', encoding="utf-8")
    os.chmod(path, mode)
    return path


needs_posix_modes = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@needs_posix_modes
@pytest.mark.parametrize("mode", [0o644, 0o666, 0o640, 0o604, 0o620])
def test_a_credentials_file_open_to_others_is_used_with_a_warning(api, cli, monkeypatch, mode):
    monkeypatch.delenv("MISTRAL_API_KEY")
    path = credentials_file(mode)
    result = cli("models", "list", "-o", "json")
    assert result.exit_code == 0, result
    assert f"chmod 600 {path}" in result.stderr
    assert f"{stat.S_IMODE(mode):04o}" in result.stderr
    assert result.stderr.count("chmod 600") == 1
    assert TEST_API_KEY not in result.stderr
    assert api.last().headers["Authorization"] == f"Bearer {TEST_API_KEY}"


@needs_posix_modes
def test_a_private_credentials_file_gives_no_warning(api, cli, monkeypatch):
    monkeypatch.delenv("MISTRAL_API_KEY")
    credentials_file(0o600)
    result = cli("models", "list", "-o", "json")
    assert result.exit_code == 0, result
    assert result.stderr == ""


@needs_posix_modes
def test_auth_status_warns_about_an_open_credentials_file(api, cli, monkeypatch):
    monkeypatch.delenv("MISTRAL_API_KEY")
    path = credentials_file(0o644)
    result = cli("auth", "status", "--no-verify", "-o", "json")
    assert result.exit_code == 0, result
    assert f"chmod 600 {path}" in result.stderr


# -- pages end at an empty or short page, whatever `total` says ----------------------------------

FILE_IDS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(200)]


def lying_pages(sizes: list[int], then: int = 2, give_up_at: int = 12):
    """A files list that claims 10^9 files: page N holds SIZES[N] new files (THEN new files a
    page after the list), and a page past GIVE_UP_AT is refused, so a walk that does not stop
    fails instead of running for 10,000 pages."""
    files = iter(file_obj(fid=fid) for fid in FILE_IDS)

    def respond(request):
        page = int(request.query["page"][0])
        if page > give_up_at:
            return error_400("the client did not stop")
        size = sizes[page] if page < len(sizes) else then
        return json_response({"object": "list", "data": [next(files) for _ in range(size)],
                              "total": 10 ** 9})

    return respond


@pytest.mark.parametrize("sizes, then, requests", [
    ([5, 5, 2], 2, 3),        # a short page is the last, whatever the total
    ([5, 5], 0, 3),           # an empty page is the last
    ([3, 3, 3, 1], 1, 4),     # the server gives 3 a page (it caps page_size): shorter than 3 ends it
    ([3], 0, 2),              # a short first page: one more request finds the end
])
def test_a_lying_total_does_not_keep_the_walk_going(api, cli, sizes, then, requests):
    api.add("GET", "/v1/files", lying_pages(sizes, then))
    result = cli("files", "list", "--all", "--page-size", "5", "-o", "json")
    assert result.exit_code == 0, result
    assert len(api.requests) == requests
    listed = [item["id"] for item in json.loads(result.stdout)["data"]]
    assert listed == FILE_IDS[:sum(sizes)]


def test_paginate_stops_at_a_short_page_whatever_the_total(api, cli):
    api.add("GET", "/v1/files", lying_pages([5, 4], then=4))
    result = cli("api", "GET", "/v1/files", "-f", "page_size=5", "--paginate", "-o", "jsonl")
    assert result.exit_code == 0, result
    assert len(result.stdout.splitlines()) == 9 and len(api.requests) == 2


def test_a_list_that_never_ends_is_stopped_at_the_page_bound_with_an_error(api, cli, monkeypatch):
    from mistral_cli.api import pages

    monkeypatch.setattr(pages, "MAX_PAGES", 4)
    api.add("GET", "/v1/files", lying_pages([], then=5))
    result = cli("files", "list", "--all", "--page-size", "5", "-o", "json")
    assert result.exit_code == 1, result
    assert "4 pages" in result.stderr and "internal error" not in result.stderr
    assert len(api.requests) == 4


# -- a watch stops after a few malformed answers in a row ----------------------------------------

BAD_ANSWERS = [json_response([]), json_response("RUNNING"), json_response({"object": "job"}),
               json_response({"id": JOB_ID, "status": ["RUNNING"]})]


@pytest.fixture
def quick_polls(monkeypatch):
    """Watches sleep no real time."""
    from mistral_cli.commands.shared import watching
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=lambda _seconds: None))


@pytest.mark.parametrize("bad", BAD_ANSWERS, ids=["list", "string", "no-id", "status-not-text"])
def test_fine_tuning_watch_stops_after_three_malformed_answers(api, cli, quick_polls, bad):
    path = f"/v1/fine_tuning/jobs/{JOB_ID}"
    api.add("GET", path, bad, times=10)  # then a finished job: a watch that never stops exits 0
    api.add("GET", path, json_response(completion_job(status="SUCCESS")), optional=True)
    result = cli("fine-tuning", "watch", JOB_ID)
    assert result.exit_code == 1, result
    assert len(api.requests) == 3
    assert "3 answers in a row" in result.stderr and "internal error" not in result.stderr
    assert result.stderr.count("mcli: error:") == 1


def test_batch_watch_stops_after_three_malformed_answers(api, cli, quick_polls):
    path = f"/v1/batch/jobs/{BATCH_ID}"
    api.add("GET", path, json_response([1, 2]), times=10)
    api.add("GET", path, json_response(batch_job(status="SUCCESS")), optional=True)
    result = cli("batch", "watch", BATCH_ID)
    assert result.exit_code == 1, result
    assert len(api.requests) == 3 and "3 answers in a row" in result.stderr


def test_a_good_answer_resets_the_count_of_malformed_ones(api, cli, quick_polls):
    path = f"/v1/fine_tuning/jobs/{JOB_ID}"
    for status in ("RUNNING", "SUCCESS"):
        api.add("GET", path, json_response([]), times=2)
        api.add("GET", path, json_response(completion_job(status=status)), times=1)
    result = cli("fine-tuning", "watch", JOB_ID)
    assert result.exit_code == 0, result
    assert len(api.requests) == 6
    assert result.stderr.count("still watching, next try in") == 4


def test_the_poller_counts_malformed_states_and_resets_on_a_good_one():
    from mistral_cli.api.poll import MAX_MALFORMED, poll
    from mistral_cli.errors import MCLIError

    answers = iter([None, {"id": "j"}, {"id": "j", "status": "RUNNING"}] + [[]] * MAX_MALFORMED)
    seen, errors = [], []
    with pytest.raises(MCLIError, match=f"{MAX_MALFORMED} answers in a row"):
        for state in poll(lambda: next(answers), done=lambda _s: False, interval=1, max_interval=1,
                          on_error=lambda exc, _delay: errors.append(exc), sleep=lambda _s: None):
            seen.append(state)
    assert seen == [{"id": "j", "status": "RUNNING"}]
    assert len(errors) == 2 + MAX_MALFORMED - 1


# -- what is decoded is capped, however the body is compressed ----------------------------------

LIST_TAIL = b'{"object": "list", "data": []}'


def gzip_bomb(spaces_mib: int, tail: bytes = LIST_TAIL) -> bytes:
    """A gzip body that inflates to SPACES_MIB MiB of spaces and then TAIL (valid JSON as a
    whole), built from one compressed MiB repeated (a full flush makes the pieces independent),
    so a 1 GiB bomb is made in a moment and weighs about 1 MB."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = deflate.compress(b" " * MiB) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.compress(tail) + deflate.flush()
    crc = 0
    for _ in range(spaces_mib):
        crc = zlib.crc32(b" " * MiB, crc)
    crc = zlib.crc32(tail, crc)
    size = (spaces_mib * MiB + len(tail)) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + piece * spaces_mib + end + crc.to_bytes(4, "little") + size.to_bytes(4, "little")


def compressed(body: bytes, encoding: str = "gzip", status: int = 200) -> Response:
    return Response(status, body, {"Content-Encoding": encoding})


@pytest.fixture
def cap_1_mib(monkeypatch):
    """MAX_BODY at 1 MiB, so a small bomb crosses it in a moment."""
    from mistral_cli.http import body

    monkeypatch.setattr(body, "MAX_BODY", MiB)


def test_the_bomb_helper_makes_what_it_says():
    assert gzip.decompress(gzip_bomb(3)) == b" " * 3 * MiB + LIST_TAIL


def test_a_body_under_the_cap_is_read_whole(api, cli, cap_1_mib):
    body = b" " * (MiB - 100) + LIST_TAIL
    api.add("GET", "/v1/models", compressed(gzip.compress(body)))
    result = cli("models", "list", "-o", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == {"object": "list", "data": []}


@pytest.mark.parametrize("args", [["models", "list"], ["api", "GET", "/v1/models"]])
def test_a_gzip_bomb_is_a_one_line_error(api, cli, cap_1_mib, args):
    api.add("GET", "/v1/models", compressed(gzip_bomb(8)))
    result = cli(*args)
    assert result.exit_code == 1, result
    assert "larger than 1 MiB once decoded" in result.stderr and "GET /v1/models" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


def test_a_bomb_inside_a_bomb_is_capped_too(api, cli, cap_1_mib):
    api.add("GET", "/v1/models", compressed(gzip.compress(gzip_bomb(64)), "gzip, gzip"))
    result = cli("models", "list")
    assert result.exit_code == 1, result
    assert "larger than 1 MiB once decoded" in result.stderr


@pytest.mark.parametrize("encoding, reason", [("br", "did not ask for"), ("gzip, gzip, gzip", "3 times")])
def test_an_encoding_mcli_did_not_ask_for_is_refused(api, cli, encoding, reason):
    api.add("GET", "/v1/models", compressed(b"\x00" * 100, encoding))
    result = cli("models", "list")
    assert result.exit_code == 1, result
    assert reason in result.stderr and "internal error" not in result.stderr


def test_mcli_asks_only_for_encodings_it_bounds(api, cli):
    assert cli("models", "list").exit_code == 0
    assert api.last().headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize("raw", [False, True], ids=["zlib", "raw-deflate"])
def test_a_deflate_body_is_read(api, cli, raw):
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15 if raw else 15)
    api.add("GET", "/v1/models", compressed(deflate.compress(LIST_TAIL) + deflate.flush(), "deflate"))
    result = cli("models", "list", "-o", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == {"object": "list", "data": []}


def test_an_error_body_bomb_is_cut_and_its_status_reported(api, cli):
    api.add("GET", "/v1/models", compressed(gzip_bomb(64, b'{"message": "too late"}'), status=400))
    result = cli("models", "list")
    assert result.exit_code == 1, result
    assert result.stderr.startswith("mcli: error: HTTP 400") and "internal error" not in result.stderr
    assert len(result.stderr) < 3000


def test_a_stream_line_past_the_cap_ends_the_stream(api, cli, cap_1_mib):
    from tests.fakeapi.responses import SSEResponse

    api.add("POST", "/v1/chat/completions", SSEResponse(["data: " + "x" * (2 * MiB) + "\n\n"]))
    result = cli("chat", "--no-log", "hi")
    assert result.exit_code == 1, result
    assert "longer than 1 MiB" in result.stderr


def test_a_download_is_not_capped_but_decoded(api, cli, cap_1_mib, tmp_path):
    data = bytes(range(256)) * (3 * MiB // 256)
    api.add("GET", f"/v1/files/{FILE_ID}/content", compressed(gzip.compress(data)))
    result = cli("files", "download", FILE_ID, "-o", str(tmp_path / "out.bin"))
    assert result.exit_code == 0, result
    assert (tmp_path / "out.bin").read_bytes() == data


@pytest.mark.skipif(sys.platform == "win32", reason="peak RSS")
@pytest.mark.parametrize("status, said", [(200, b"larger than 64 MiB once decoded"), (400, b"HTTP 400")])
def test_a_1_gib_gzip_bomb_keeps_a_real_process_small(api, tmp_path, status, said):
    from tests.memory_helpers import LIMIT, run_measured

    api.add("GET", "/v1/models", compressed(gzip_bomb(1024), status=status))
    proc, peak = run_measured(tmp_path, "models", "list")
    print(f"peak RSS against a 1 GiB gzip bomb (HTTP {status}): {peak / MiB:.1f} MiB")
    assert proc.returncode == 1, proc.stderr.decode()
    assert said in proc.stderr
    assert peak < LIMIT, f"peak RSS {peak / MiB:.1f} MiB"


# -- no body follows a redirect to another origin -----------------------------------------------

CREATE_WITH_WANDB = ["fine-tuning", "create", "-m", "open-mistral-7b", "--training-file", FILE_ID,
                     "--wandb-project", "ft"]


@pytest.fixture
def other_origin():
    """A second server on another port (another origin), counting what reaches it."""
    server = FakeAPI(validate=False).start()
    try:
        yield server
    finally:
        server.stop()


def redirect_to(location: str, status: int) -> Response:
    return Response(status, b"", {"Location": location}, None)


@pytest.mark.parametrize("status", [307, 308, 302, 301])
def test_a_job_create_redirected_to_another_origin_is_reported_and_not_sent_there(
        api, cli, other_origin, monkeypatch, status):
    monkeypatch.setenv("WANDB_API_KEY", WANDB_KEY)
    target = f"{other_origin.url}/collect?from=mcli"
    api.add("POST", "/v1/fine_tuning/jobs", redirect_to(target, status))
    result = cli(*CREATE_WITH_WANDB)
    assert result.exit_code == 1, result
    assert other_origin.requests == []
    assert target in result.stderr and "another origin" in result.stderr
    assert WANDB_KEY not in result.stderr
    assert len(api.requests_to("POST", "/v1/fine_tuning/jobs")) == 1


def test_a_chat_redirected_to_another_origin_is_reported(api, cli, other_origin):
    api.add("POST", "/v1/chat/completions", redirect_to(f"{other_origin.url}/v1/chat/completions", 307))
    result = cli("chat", "--no-log", "hi")
    assert result.exit_code == 1, result
    assert other_origin.requests == [] and "another origin" in result.stderr


def test_a_redirect_within_the_origin_is_followed_with_its_body(api, cli):
    api.add("POST", "/v1/chat/completions", redirect_to("/v1/chat/completions", 307), times=1)
    result = cli("chat", "--no-log", "--no-stream", "hi")
    assert result.exit_code == 0, result
    first, second = api.requests_to("POST", "/v1/chat/completions")
    assert second.json == first.json and second.headers["Authorization"] == f"Bearer {TEST_API_KEY}"


def test_a_get_redirected_to_another_origin_goes_without_the_key(api, cli, other_origin):
    api.add("GET", "/v1/models", redirect_to(f"{other_origin.url}/v1/models", 302))
    result = cli("-v", "models", "list", "-o", "json")
    assert result.exit_code == 0, result
    (request,) = other_origin.requests
    assert "Authorization" not in request.headers
    assert f"redirected (302) to {other_origin.url}/v1/models" in result.stderr


# -- every secret mcli sends is kept off the screen ----------------------------------------------


def echo(status: int = 400):
    """An error that quotes the whole request body back, as some servers and proxies do."""
    return lambda request: text_response(f"bad request: {request.body.decode()}", status)


@pytest.mark.parametrize("verbose", [[], ["-v"], ["--debug"]])
def test_wandb_and_github_secrets_echoed_in_an_error_are_masked(api, cli, monkeypatch, verbose):
    monkeypatch.setenv("WANDB_API_KEY", WANDB_KEY)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    api.add("POST", "/v1/fine_tuning/jobs", echo())
    result = cli(*verbose, *CREATE_WITH_WANDB, "--repository", "mistralai/cookbook")
    assert result.exit_code == 1, result
    sent = api.last("POST", "/v1/fine_tuning/jobs").json
    assert sent["integrations"][0]["api_key"] == WANDB_KEY and sent["repositories"][0]["token"] == GITHUB_TOKEN
    assert "bad request" in result.stderr and "****" in result.stderr
    for secret in (WANDB_KEY, GITHUB_TOKEN, "wandbSECRET", "TokenSecret"):
        assert secret not in result.stderr and secret not in result.stdout


def test_secrets_from_a_body_file_echoed_in_an_error_are_masked(api, cli, tmp_path):
    body = tmp_path / "job.json"
    body.write_text(json.dumps({"integrations": [{"type": "wandb", "project": "p", "api_key": WANDB_KEY}],
                                "repositories": [{"type": "github", "owner": "o", "name": "n",
                                                  "token": GITHUB_TOKEN}]}))
    api.add("POST", "/v1/fine_tuning/jobs", echo(500))
    result = cli("fine-tuning", "create", "-m", "open-mistral-7b", "--training-file", FILE_ID,
                 "--body", str(body))
    assert result.exit_code == 1, result
    assert WANDB_KEY not in result.stderr and GITHUB_TOKEN not in result.stderr
    assert "****" in result.stderr


def test_a_password_in_the_server_url_is_never_printed(api, cli, monkeypatch):
    url = api.url.replace("http://", f"http://mcli:{URL_PASSWORD}@")
    monkeypatch.setenv("MISTRAL_SERVER_URL", url)
    api.add("GET", "/v1/models", error_empty(500), times=1)
    api.add("GET", "/v1/models", lambda request: text_response(f"no: {request.headers}", 400))
    api.ignore_violations()  # httpx sends the URL's user:password as Basic auth, not the key
    result = cli("-v", "--max-retries", "1", "models", "list")
    assert result.exit_code == 1, result
    assert "> GET http://mcli:****@127.0.0.1" in result.stderr  # the trace still shows where
    basic = base64.b64encode(f"mcli:{URL_PASSWORD}".encode()).decode()
    assert URL_PASSWORD not in result.stderr and basic not in result.stderr


def test_a_password_in_the_server_url_is_not_in_a_connection_error(cli, monkeypatch):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MISTRAL_API_KEY", TEST_API_KEY)
    result = cli("--server-url", f"http://u:{URL_PASSWORD}@127.0.0.1:{port}", "--max-retries", "0",
                 "--debug", "models", "list")
    assert result.exit_code == 1, result
    assert "cannot connect" in result.stderr and URL_PASSWORD not in result.stderr


@pytest.mark.parametrize("text, expected", [
    ("GET https://me:pa%40ss@host/v1", "GET https://me:****@host/v1"),
    ("to http://:only-pass@127.0.0.1:8/x failed", "to http://:****@127.0.0.1:8/x failed"),
    ("https://user@host/ has no password", "https://user@host/ has no password"),
])
def test_redact_masks_a_url_password(text, expected):
    from mistral_cli.errors import redact

    assert redact(text) == expected


def test_a_result_line_past_the_cap_ends_batch_results(api, cli, cap_1_mib):
    api.add("GET", f"/v1/batch/jobs/{BATCH_ID}",
            json_response({**batch_job(status="SUCCESS"), "output_file": FILE_ID}))
    api.add("GET", f"/v1/files/{FILE_ID}/content", compressed(gzip_bomb(8, b'"x"\n')))
    result = cli("batch", "results", BATCH_ID, "--answers")
    assert result.exit_code == 1, result
    assert "longer than 1 MiB" in result.stderr
