"""`mcli files`: upload, list, get, delete, url and download against the fake API."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat

import pytest

from mistral_cli.app import main
from mistral_cli.commands import files as files_cmd
from mistral_cli.env import Env
from tests.fakeapi import (bytes_response, error_400, expected_bytes, json_response)
from tests.fakeapi.defaults import CREATED, FILE_ID, file_obj

OTHER_ID = "0b9c9a38-53b4-4a4e-9a5c-3c1f6a0f7e21"
THIRD_ID = "c6f1d1a2-9b7e-4d44-8f0e-2b8a6f3d5e90"


@pytest.fixture
def styled(monkeypatch):
    """A terminal that allows colour and progress bars."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def jsonl(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"messages": []}\n' * 3)
    return path


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty current folder (tmp_path also holds the isolated config and data dirs)."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def run_on_terminal(args: list[str], answer: str) -> tuple[int, str, str]:
    """Run mcli with every stream on a terminal, typing ANSWER on stdin."""
    out, err = io.StringIO(), io.StringIO()
    env = Env(io.StringIO(answer), out, err, stdin_isatty=True, stdout_isatty=True,
              stderr_isatty=True, environ=dict(os.environ))
    return main(args, env), out.getvalue(), err.getvalue()


def tsv(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines()]


# -- upload ------------------------------------------------------------------------------


def test_upload_streams_the_file_as_multipart(api, cli, jsonl):
    result = cli("files", "upload", jsonl, "--purpose", "batch", "-o", "json")
    assert result.exit_code == 0, result
    request = api.last("POST", "/v1/files")
    part = request.file("file")
    content = jsonl.read_bytes()
    assert (part.filename, part.size, part.sha256) == (
        "train.jsonl", len(content), hashlib.sha256(content).hexdigest())
    assert request.form == {"purpose": "batch"}
    assert request.headers["Authorization"] == "Bearer test-key-1234"
    body = json.loads(result.stdout)
    assert body == api.files[body["id"]]  # the server's body, unchanged
    assert f"uploaded {jsonl} as {body['id']}" in result.stderr


def test_upload_without_purpose_sends_only_the_file(api, cli, jsonl):
    assert cli("files", "upload", jsonl).exit_code == 0
    assert api.last("POST", "/v1/files").form == {}


def test_upload_text_prints_only_the_new_id(api, cli, jsonl):
    result = cli("files", "upload", jsonl, "-o", "text")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines() == list(api.files)


def test_upload_off_a_terminal_prints_raw_key_values_and_no_progress(api, cli, jsonl, styled):
    result = cli("files", "upload", jsonl)
    assert result.exit_code == 0, result
    rows = dict(tsv(result.stdout))
    new_id = next(iter(api.files))
    assert rows["id"] == new_id and rows["bytes"] == str(jsonl.stat().st_size)
    assert rows["filename"] == "train.jsonl"
    assert result.stderr == f"uploaded {jsonl} as {new_id}\n"
    assert "\x1b" not in result.stdout + result.stderr


def test_upload_on_a_terminal_shows_a_panel_and_a_progress_bar(api, cli, jsonl, styled):
    result = cli("files", "upload", jsonl, tty=True)
    assert result.exit_code == 0, result
    assert "uploading train.jsonl" in result.stderr  # the Rich progress bar
    assert "SIZE" in result.stdout and "51 B" in result.stdout
    assert next(iter(api.files)) in result.stdout


def test_upload_bar_and_panel_speak_one_unit(api, cli, tmp_path, styled):
    path = tmp_path / "big.jsonl"
    path.write_text('{"messages": []}\n' * 1300)  # 22,100 bytes: 21.6 KiB, 22.1 kB
    result = cli("files", "upload", path, tty=True)
    assert result.exit_code == 0, result
    assert "21.6 KiB" in result.stdout and "21.6" in result.stderr and "KiB" in result.stderr
    assert " kB" not in result.stderr and " KB" not in result.stdout


def test_upload_name_replaces_the_file_name(api, cli, jsonl):
    assert cli("files", "upload", jsonl, "--name", "v2.jsonl").exit_code == 0
    assert api.last("POST", "/v1/files").file("file").filename == "v2.jsonl"


def test_upload_several_paths_uploads_each(api, cli, tmp_path):
    paths = [tmp_path / f"p{i}.jsonl" for i in range(3)]
    for path in paths:
        path.write_text("{}\n")
    result = cli("files", "upload", *paths, "-o", "json")
    assert result.exit_code == 0, result
    assert [r.file("file").filename for r in api.requests] == ["p0.jsonl", "p1.jsonl", "p2.jsonl"]
    assert [item["id"] for item in json.loads(result.stdout)] == list(api.files)
    assert result.stderr.count("uploaded ") == 3


def test_upload_several_jsonl_and_text(api, cli, tmp_path):
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for path in paths:
        path.write_text("{}\n")
    lines = cli("files", "upload", *paths, "-o", "jsonl").stdout.splitlines()
    assert [json.loads(line)["filename"] for line in lines] == ["a.jsonl", "b.jsonl"]
    ids = cli("files", "upload", *paths, "-o", "text").stdout.split()
    assert ids == list(api.files)[2:]


def test_upload_reports_each_failure_and_exits_with_the_worst(api, cli, tmp_path):
    bad, good = tmp_path / "bad.jsonl", tmp_path / "good.jsonl"
    bad.write_text("x\n")
    good.write_text("{}\n")
    api.add("POST", "/v1/files", error_400("Invalid file format"), times=1)
    result = cli("files", "upload", bad, good, "-o", "text")
    assert result.exit_code == 1
    assert result.stdout.split() == list(api.files)  # the good one's id is still printed
    assert "Invalid file format" in result.stderr and f"uploaded {good} as" in result.stderr


def test_upload_name_with_several_paths_is_refused(api, cli, tmp_path):
    (tmp_path / "a").write_text("1")
    (tmp_path / "b").write_text("2")
    result = cli("files", "upload", tmp_path / "a", tmp_path / "b", "--name", "x.jsonl")
    assert result.exit_code == 2 and "--name" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("make", ["missing", "folder"])
def test_upload_missing_or_unreadable_file_exits_2_before_any_request(api, cli, jsonl, tmp_path, make):
    target = tmp_path / "target"
    if make == "folder":
        target.mkdir()
    result = cli("files", "upload", jsonl, target)
    assert result.exit_code == 2
    assert str(target) in result.stderr
    assert api.requests == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_upload_unreadable_file_exits_2(api, cli, jsonl):
    jsonl.chmod(0)
    result = cli("files", "upload", jsonl)
    assert result.exit_code == 2 and "cannot read" in result.stderr
    assert api.requests == []


def test_upload_a_purpose_within_a_typo_of_a_known_one_exits_2(api, cli, jsonl):
    result = cli("files", "upload", jsonl, "--purpose", "fine_tune")
    assert result.exit_code == 2 and "did you mean 'fine-tune'?" in result.stderr
    assert api.requests == []


def test_upload_a_purpose_beyond_the_spec_is_sent_with_one_warning(api, cli, jsonl):
    result = cli("files", "upload", jsonl, "--purpose", "audio", "-o", "json")
    assert result.exit_code == 0, result
    assert api.last("POST", "/v1/files").form == {"purpose": "audio"}
    assert [line for line in result.stderr.splitlines() if "warning" in line] == [
        "mcli: warning: --purpose audio is not one of the spec's (fine-tune, batch, ocr): sending it as given"]
    api.ignore_violations()


def test_upload_over_the_limit_warns_and_still_sends(api, cli, jsonl, monkeypatch):
    monkeypatch.setattr(files_cmd, "UPLOAD_LIMIT", 10)
    result = cli("files", "upload", jsonl, "-o", "text")
    assert result.exit_code == 0, result
    assert "warning:" in result.stderr and "limit" in result.stderr
    assert api.last("POST", "/v1/files").file("file").size == jsonl.stat().st_size


def test_upload_under_the_limit_does_not_warn(api, cli, jsonl):
    assert "warning" not in cli("files", "upload", jsonl).stderr


# -- list --------------------------------------------------------------------------------


def page(ids: list[str], total: int) -> dict:
    return {"object": "list", "total": total,
            "data": [file_obj(fid, filename=f"{fid[:4]}.jsonl") for fid in ids]}


def test_list_sends_no_filter_by_default(api, cli):
    result = cli("files", "list")
    assert result.exit_code == 0, result
    assert api.last().query == {}


def test_list_off_a_terminal_prints_raw_tab_separated_rows(api, cli):
    result = cli("files", "list")
    assert tsv(result.stdout) == [
        [FILE_ID, "train.jsonl", "fine-tune", "instruct", "1234", str(CREATED)]]


def test_list_on_a_terminal_prints_a_table_with_human_values(api, cli, styled):
    result = cli("files", "list", tty=True)
    assert result.exit_code == 0, result
    assert "NAME" in result.stdout and "train.jsonl" in result.stdout
    assert "1.2 KiB" in result.stdout and "ago" in result.stdout
    assert str(CREATED) not in result.stdout


def test_list_sends_every_filter(api, cli):
    result = cli("files", "list", "--purpose", "batch", "--sample-type", "batch_result",
                 "--sample-type", "batch_error", "--source", "upload", "--source", "mistral",
                 "--search", "results", "--page", "2", "--page-size", "20")
    assert result.exit_code == 0, result
    assert api.last().query == {
        "purpose": ["batch"], "sample_type": ["batch_result", "batch_error"],
        "source": ["upload", "mistral"], "search": ["results"], "page": ["2"],
        "page_size": ["20"]}


@pytest.mark.parametrize("json_format", ["json", "jsonl", "text"])
def test_list_formats(api, cli, json_format):
    body = page([FILE_ID, OTHER_ID], 2)
    api.add("GET", "/v1/files", json_response(body))
    out = cli("files", "list", "-o", json_format).stdout
    if json_format == "json":
        assert json.loads(out) == body
    elif json_format == "jsonl":
        assert [json.loads(line) for line in out.splitlines()] == body["data"]
    else:
        assert out == f"{FILE_ID}\n{OTHER_ID}\n"


@pytest.mark.parametrize("args, option", [
    (["--sample-type", "chat"], "--sample-type"),
    (["--source", "upload", "--source", "hub"], "--source"),
    (["--purpose", "fine_tune"], "--purpose"),
    (["--page", "-1"], "--page"),
    (["--page-size", "0"], "--page-size"),
    (["--all", "--page", "1"], "--page"),
])
def test_list_refuses_bad_filters_before_any_request(api, cli, args, option):
    result = cli("files", "list", *args)
    assert result.exit_code == 2
    assert option in result.stderr
    assert api.requests == []


def test_list_all_follows_every_page(api, cli):
    ids = [FILE_ID, OTHER_ID, THIRD_ID, "5a1f0c52-7f4a-4f0e-8d55-3b8e9d7f1a01",
           "6b2e1d63-8e5b-4a1f-9e66-4c9f0e8a2b12"]
    for number in range(3):
        api.add("GET", "/v1/files", json_response(page(ids[number * 2:number * 2 + 2], 5)),
                query={"page": str(number), "page_size": "2"})
    result = cli("files", "list", "--all", "--page-size", "2", "--purpose", "fine-tune", "-o", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == {"object": "list", "total": 5,
                                         "data": page(ids, 5)["data"]}
    assert [r.query["page"] for r in api.requests] == [["0"], ["1"], ["2"]]
    assert all(r.query["purpose"] == ["fine-tune"] for r in api.requests)


def test_list_one_page_of_several_says_so_on_a_terminal_and_the_hint_works(api, cli, styled):
    ids = [FILE_ID, OTHER_ID, THIRD_ID]
    api.add("GET", "/v1/files", json_response(page(ids[:2], 3)), query={"page_size": "2"}, times=2)
    first = cli("files", "list", "--page-size", "2", tty=True)
    assert "2 of 3; --all for every page" in first.stderr and first.stdout.count(".jsonl") == 2
    assert "of 3" not in cli("files", "list", "--page-size", "2").stderr  # off a terminal: nothing
    for number, chunk in enumerate((ids[:2], ids[2:])):
        api.add("GET", "/v1/files", json_response(page(chunk, 3)), query={"page": str(number), "page_size": "2"})
    every = cli("files", "list", "--page-size", "2", "--all", tty=True)
    assert every.stdout.count(".jsonl") == 3 and "of 3" not in every.stderr
    assert [r.query.get("page") for r in api.requests[-2:]] == [["0"], ["1"]]


def test_list_all_asks_the_largest_page_by_default(api, cli):
    api.add("GET", "/v1/files", json_response(page([FILE_ID], 1)), query={"page": "0", "page_size": "1000"})
    assert cli("files", "list", "--all", "-o", "text").stdout == f"{FILE_ID}\n"


def test_list_all_stops_when_a_page_brings_nothing_new(api, cli):
    # A server that ignores `page` and claims more files than it gives.
    api.add("GET", "/v1/files", json_response(page([FILE_ID, OTHER_ID], 50)))
    result = cli("files", "list", "--all", "--page-size", "2", "-o", "text")
    assert result.exit_code == 0, result
    assert result.stdout.split() == [FILE_ID, OTHER_ID]
    assert len(api.requests) == 2


def test_list_all_stops_on_an_empty_page(api, cli):
    api.add("GET", "/v1/files", json_response(page([FILE_ID], 9)), query={"page": "0", "page_size": "1"})
    api.add("GET", "/v1/files", json_response(page([], 9)), query={"page": "1", "page_size": "1"})
    result = cli("files", "list", "--all", "--page-size", "1", "-o", "json")
    assert json.loads(result.stdout)["data"] == page([FILE_ID], 9)["data"]


# -- get ---------------------------------------------------------------------------------


def test_get_off_a_terminal_prints_every_key_raw(api, cli):
    result = cli("files", "get", FILE_ID)
    assert result.exit_code == 0, result
    assert api.last().path == f"/v1/files/{FILE_ID}"
    rows = dict(tsv(result.stdout))
    assert rows["id"] == FILE_ID and rows["bytes"] == "1234"
    assert rows["created_at"] == str(CREATED) and rows["deleted"] == "false"


def test_get_on_a_terminal_prints_a_panel(api, cli, styled):
    result = cli("files", "get", FILE_ID, tty=True)
    assert result.exit_code == 0, result
    assert "train.jsonl" in result.stdout and "1.2 KiB" in result.stdout
    assert "LINES" in result.stdout and "ago" in result.stdout


@pytest.mark.parametrize("fmt, expected", [
    ("text", f"{FILE_ID}\n"),
    ("json", None),
])
def test_get_formats(api, cli, fmt, expected):
    out = cli("files", "get", FILE_ID, "-o", fmt).stdout
    if expected is None:
        assert json.loads(out) == {**file_obj(), "deleted": False}
    else:
        assert out == expected


def test_get_jsonl_is_one_line(api, cli):
    out = cli("files", "get", FILE_ID, "-o", "jsonl").stdout
    assert out.count("\n") == 1 and json.loads(out)["id"] == FILE_ID


@pytest.mark.parametrize("command", [["get"], ["url"], ["download"], ["delete", "--yes"]])
def test_file_ids_must_be_uuids(api, cli, command):
    result = cli("files", *command, "file-abc")
    assert result.exit_code == 2
    assert "file-abc" in result.stderr and "UUID" in result.stderr
    assert api.requests == []


def test_get_unknown_file_exits_4(api, cli):
    api.add("GET", "/v1/files/{file_id}", json_response({"detail": "File not found"}, 404))
    result = cli("files", "get", OTHER_ID)
    assert result.exit_code == 4 and "File not found" in result.stderr


# -- delete ------------------------------------------------------------------------------


def test_delete_off_a_terminal_refuses_without_yes(api, cli):
    result = cli("files", "delete", FILE_ID)
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert api.requests == []


def test_delete_with_yes(api, cli):
    result = cli("files", "delete", FILE_ID, OTHER_ID, "--yes")
    assert result.exit_code == 0, result
    assert [r.target for r in api.requests] == [f"DELETE /v1/files/{FILE_ID}",
                                                f"DELETE /v1/files/{OTHER_ID}"]
    assert result.stdout == ""
    assert result.stderr == f"deleted {FILE_ID}\ndeleted {OTHER_ID}\n"


def test_delete_json_prints_the_bodies(api, cli):
    one = json.loads(cli("files", "delete", FILE_ID, "--yes", "-o", "json").stdout)
    assert one == {"id": FILE_ID, "object": "file", "deleted": True}
    two = json.loads(cli("files", "delete", FILE_ID, OTHER_ID, "-y", "-o", "json").stdout)
    assert [body["id"] for body in two] == [FILE_ID, OTHER_ID]


def test_delete_asks_on_a_terminal(api):
    code, _out, err = run_on_terminal(["files", "delete", FILE_ID], "y\n")
    assert code == 0, err
    assert "Delete 1 file(s)" in err and api.last().method == "DELETE"


def test_delete_on_a_terminal_stops_unless_confirmed(api):
    code, _out, err = run_on_terminal(["files", "delete", FILE_ID], "n\n")
    assert code == 2 and "cancelled" in err
    assert api.requests == []


def test_delete_reports_each_and_exits_with_the_worst(api, cli):
    api.add("DELETE", f"/v1/files/{OTHER_ID}", json_response({"detail": "File not found"}, 404))
    result = cli("files", "delete", OTHER_ID, FILE_ID, "--yes", "-o", "text")
    assert result.exit_code == 4
    assert result.stdout == f"{FILE_ID}\n"
    assert "File not found" in result.stderr and f"deleted {FILE_ID}" in result.stderr


def test_delete_checks_every_id_before_deleting_any(api, cli):
    result = cli("files", "delete", FILE_ID, "nope", "--yes")
    assert result.exit_code == 2 and api.requests == []


# -- url ---------------------------------------------------------------------------------


def test_url_prints_the_bare_url(api, cli):
    for tty in (False, True):
        result = cli("files", "url", FILE_ID, tty=tty)
        assert result.exit_code == 0, result
        assert result.stdout == f"https://files.example.invalid/{FILE_ID}?sig=abc\n"
    assert api.last().query == {}


def test_url_expiry_and_json(api, cli):
    result = cli("files", "url", FILE_ID, "--expiry", "2", "-o", "json")
    assert json.loads(result.stdout) == {"url": f"https://files.example.invalid/{FILE_ID}?sig=abc"}
    assert api.last().path == f"/v1/files/{FILE_ID}/url" and api.last().query == {"expiry": ["2"]}


def test_url_refuses_a_non_positive_expiry(api, cli):
    result = cli("files", "url", FILE_ID, "--expiry", "0")
    assert result.exit_code == 2 and "--expiry" in result.stderr
    assert api.requests == []


# -- download ----------------------------------------------------------------------------


def test_download_uses_the_file_name_from_the_api(api, cli, workdir):
    result = cli("files", "download", FILE_ID)
    assert result.exit_code == 0, result
    assert (workdir / "train.jsonl").read_bytes() == expected_bytes(1000)
    assert [r.path for r in api.requests] == [f"/v1/files/{FILE_ID}", f"/v1/files/{FILE_ID}/content"]
    assert result.stdout == "" and "saved train.jsonl (1000 bytes)" in result.stderr
    mode = stat.S_IMODE((workdir / "train.jsonl").stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # an ordinary file, not mkstemp's 0600


def test_download_to_a_path(api, cli, workdir):
    dest = workdir / "out" / "results.jsonl"
    dest.parent.mkdir()
    result = cli("files", "download", FILE_ID, "-o", dest)
    assert result.exit_code == 0, result
    assert dest.read_bytes() == expected_bytes(1000)
    assert [r.path for r in api.requests] == [f"/v1/files/{FILE_ID}/content"]
    assert sorted(os.listdir(dest.parent)) == ["results.jsonl"]


def test_download_refuses_a_format_name_but_writes_dot_slash_it(api, cli, workdir):
    result = cli("files", "download", FILE_ID, "-o", "json")
    assert result.exit_code == 2 and "-o ./json" in result.stderr
    assert api.requests == [] and os.listdir(workdir) == []
    assert cli("files", "download", FILE_ID, "-o", "./json").exit_code == 0
    assert (workdir / "json").read_bytes() == expected_bytes(1000)


def test_upload_help_names_the_default_purpose(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert "the API files it as fine-tune" in cli("files", "upload", "--help").stdout


def test_download_into_a_folder_uses_the_file_name(api, cli, workdir):
    assert cli("files", "download", FILE_ID, "--output", workdir).exit_code == 0
    assert (workdir / "train.jsonl").read_bytes() == expected_bytes(1000)


def test_download_keeps_an_unsafe_name_inside_the_folder(api, cli, workdir):
    api.add("GET", "/v1/files/{file_id}", json_response(
        {**file_obj(filename="../../etc/evil.jsonl"), "deleted": False}))
    assert cli("files", "download", FILE_ID).exit_code == 0
    assert os.listdir(workdir) == ["evil.jsonl"]


def test_download_falls_back_to_the_id_without_a_usable_name(api, cli, workdir):
    api.add("GET", "/v1/files/{file_id}", json_response({**file_obj(filename=".."), "deleted": False}))
    assert cli("files", "download", FILE_ID).exit_code == 0
    assert os.listdir(workdir) == [FILE_ID]


@pytest.mark.parametrize("server_name, saved", [
    (".bashrc", "bashrc"),  # never a hidden or dot file from the server's say-so
    ("..\\..\\evil.jsonl", "evil.jsonl"),
    ("\x1b]0;title\x07data\u202e.jsonl", "]0;titledata.jsonl"),
    ("x" * 300 + ".jsonl", FILE_ID),  # longer than a file name can be
])
def test_download_makes_the_servers_file_name_a_plain_local_name(api, cli, workdir, server_name, saved):
    api.add("GET", "/v1/files/{file_id}", json_response({**file_obj(filename=server_name), "deleted": False}))
    result = cli("files", "download", FILE_ID)
    assert result.exit_code == 0, result
    assert os.listdir(workdir) == [saved]


def test_download_keeps_a_file_that_appears_while_downloading(api, cli, workdir):
    dest = workdir / "results.jsonl"

    def content(_request):
        dest.write_text("written meanwhile")
        return bytes_response(1000)

    api.add("GET", "/v1/files/{file_id}/content", content)
    result = cli("files", "download", FILE_ID, "-o", dest)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert dest.read_text() == "written meanwhile"
    assert os.listdir(workdir) == ["results.jsonl"]


def test_download_keeps_a_dangling_symlink_unless_force(api, cli, workdir):
    (workdir / "results.jsonl").symlink_to(workdir.parent / "elsewhere.jsonl")
    refused = cli("files", "download", FILE_ID, "-o", "results.jsonl")
    assert refused.exit_code == 2 and "already exists" in refused.stderr
    assert cli("files", "download", FILE_ID, "-o", "results.jsonl", "--force").exit_code == 0
    assert not (workdir / "results.jsonl").is_symlink()
    assert not (workdir.parent / "elsewhere.jsonl").exists()


def test_download_to_stdout(api, cli):
    result = cli("files", "download", FILE_ID, "-o", "-")
    assert result.exit_code == 0, result
    assert result.stdout_bytes == expected_bytes(1000)
    assert [r.path for r in api.requests] == [f"/v1/files/{FILE_ID}/content"]


def test_download_large_file_to_stdout_with_content_length(api, cli):
    size = 3 * 1024 * 1024 + 17
    api.add("GET", "/v1/files/{file_id}/content", bytes_response(size, content_length=True))
    result = cli("files", "download", FILE_ID, "-o", "-")
    assert result.exit_code == 0, result
    assert hashlib.sha256(result.stdout_bytes).digest() == hashlib.sha256(expected_bytes(size)).digest()


def test_download_refuses_to_overwrite(api, cli, workdir):
    dest = workdir / "results.jsonl"
    dest.write_text("keep me")
    result = cli("files", "download", FILE_ID, "-o", dest)
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert dest.read_text() == "keep me"
    assert api.requests == []


def test_download_force_overwrites(api, cli, workdir):
    dest = workdir / "results.jsonl"
    dest.write_text("old")
    assert cli("files", "download", FILE_ID, "-o", dest, "--force").exit_code == 0
    assert dest.read_bytes() == expected_bytes(1000)


@pytest.mark.parametrize("content_length", [False, True])
def test_interrupted_download_leaves_nothing_behind(api, cli, workdir, content_length):
    api.add("GET", "/v1/files/{file_id}/content",
            bytes_response(5_000_000, cut_after_bytes=1_500_000, content_length=content_length))
    result = cli("files", "download", FILE_ID, "-o", workdir / "data.bin")
    assert result.exit_code == 1
    assert "connection" in result.stderr
    assert os.listdir(workdir) == []


def test_interrupted_download_keeps_the_old_file_with_force(api, cli, workdir):
    dest = workdir / "data.bin"
    dest.write_text("old")
    api.add("GET", "/v1/files/{file_id}/content", bytes_response(3_000_000, cut_after_bytes=1_000_000))
    assert cli("files", "download", FILE_ID, "-o", dest, "--force").exit_code == 1
    assert dest.read_text() == "old"
    assert os.listdir(workdir) == ["data.bin"]


def test_download_says_its_size_for_a_human_on_a_terminal_and_exactly_elsewhere(api, cli, workdir, styled):
    api.add("GET", "/v1/files/{file_id}/content", bytes_response(3_000), times=2)
    on_tty = cli("files", "download", FILE_ID, "-o", workdir / "a", tty=True)
    assert "saved" in on_tty.stderr and "(2.9 KiB)" in on_tty.stderr and "3000 bytes" not in on_tty.stderr
    off_tty = cli("files", "download", FILE_ID, "-o", workdir / "b")
    assert off_tty.stderr == f"saved {workdir / 'b'} (3000 bytes)\n"


def test_download_of_an_unknown_file_exits_4_and_writes_nothing(api, cli, workdir):
    api.add("GET", "/v1/files/{file_id}/content", json_response({"detail": "File not found"}, 404))
    result = cli("files", "download", OTHER_ID, "-o", workdir / "x")
    assert result.exit_code == 4
    assert os.listdir(workdir) == []


def test_download_progress_bar_only_on_a_terminal(api, cli, workdir, styled):
    on_tty = cli("files", "download", FILE_ID, "-o", workdir / "a", tty=True)
    assert on_tty.exit_code == 0 and "downloading a" in on_tty.stderr
    off_tty = cli("files", "download", FILE_ID, "-o", workdir / "b")
    assert off_tty.exit_code == 0
    assert off_tty.stderr == f"saved {workdir / 'b'} (1000 bytes)\n"


def test_every_files_command_has_help_with_examples(cli):
    for command in ("upload", "list", "get", "delete", "url", "download"):
        result = cli("files", command, "--help")
        assert result.exit_code == 0 and "Examples" in result.stdout, command
        assert f"mcli files {command}" in result.stdout or command == "url"


def test_download_to_stdout_closed_by_the_reader_exits_0(api):
    # Bytes go to stdout's binary buffer; a reader that goes away is still exit 0, not 1.
    import subprocess
    import sys

    api.add("GET", "/v1/files/{file_id}/content", bytes_response(16 * 1024 * 1024))
    script = (f'"{sys.executable}" -m mistral_cli files download {FILE_ID} -o - | head -c 10 >/dev/null;'
              ' echo "status=${PIPESTATUS[0]}" >&2')
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          env=dict(os.environ), timeout=60)
    assert proc.stderr.strip() == "status=0"
