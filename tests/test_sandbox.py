"""The sandbox: the local Mistral API users run (`mcli sandbox serve`, `--server-url sandbox`),
which is also the fake server of the project's tests."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mistral_cli.sandbox import spec as specmod
from mistral_cli.sandbox import world
from tests.process_helpers import read_line, start_mcli
from tests.sandbox_helpers import CHAT, chunk_problems, every_operation, sandbox_client, upload

PACKAGE = Path(__file__).resolve().parent.parent / "mistral_cli"
SANDBOX = ("--server-url", "sandbox")


@pytest.fixture
def moved_clock(monkeypatch):
    """The sandbox's clock and the watches' sleep on one fake timeline: a watch's sleep moves it."""
    from mistral_cli.commands.shared import watching

    offset = [0.0]

    def now() -> float:
        return time.time() + offset[0]

    def sleep(seconds: float) -> None:
        offset[0] += seconds

    monkeypatch.setattr(world, "now", now)
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=sleep, now=now))
    return offset


# -- in-process: --server-url sandbox ------------------------------------------------------------

def test_chat_streams_the_same_stand_in_answer_for_the_same_prompt_with_no_key(cli):
    first = cli(*SANDBOX, "chat", "hello")
    assert first.exit_code == 0, first
    assert first.stdout.startswith('Sandbox answer to "hello": ')
    assert cli(*SANDBOX, "chat", "hello").stdout == first.stdout
    assert cli(*SANDBOX, "chat", "hello there").stdout != first.stdout


def test_sandbox_answers_are_not_written_to_the_ledger(cli):
    assert cli(*SANDBOX, "chat", "hello").exit_code == 0
    assert cli(*SANDBOX, "embeddings", "hi").exit_code == 0
    assert json.loads(cli("usage", "-o", "json").stdout) == []


def test_the_sandbox_server_url_comes_from_the_environment_too(cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", "sandbox")
    result = cli("embeddings", "hi", "-o", "json")
    assert result.exit_code == 0, result
    assert len(json.loads(result.stdout)["data"][0]["embedding"]) == 1024


def test_a_file_uploaded_in_one_command_is_downloaded_in_the_next(cli, tmp_path):
    source = tmp_path / "notes.txt"
    source.write_bytes(b"kept\n")
    uploaded = cli(*SANDBOX, "files", "upload", str(source), "--purpose", "batch", "-o", "json")
    assert uploaded.exit_code == 0, uploaded
    file_id = json.loads(uploaded.stdout)["id"]
    assert file_id in cli(*SANDBOX, "files", "list").stdout
    target = tmp_path / "back.txt"
    downloaded = cli(*SANDBOX, "files", "download", file_id, "-o", str(target))
    assert downloaded.exit_code == 0, downloaded
    assert target.read_bytes() == b"kept\n"
    assert cli(*SANDBOX, "sandbox", "reset").exit_code == 0
    assert cli(*SANDBOX, "files", "get", file_id).exit_code != 0


def test_a_batch_job_from_prompts_is_watched_to_results_built_from_its_requests(cli, tmp_path, moved_clock):
    prompts = tmp_path / "p.txt"
    prompts.write_text("What is 2+2?\nName a colour.\n")
    out = tmp_path / "out"
    result = cli(*SANDBOX, "batch", "create", "--from-prompts", str(prompts), "--watch", "--results-dir", str(out))
    assert result.exit_code == 0, result
    assert "SUCCESS 2/2" in result.stdout + result.stderr
    lines = [json.loads(line) for path in out.iterdir() for line in path.read_text().splitlines()]
    answers = {line["custom_id"]: line["response"]["body"]["choices"][0]["message"]["content"] for line in lines}
    online = cli(*SANDBOX, "chat", "What is 2+2?").stdout.strip()
    assert sorted(answers.values())[1] == online  # the same prompt, the same answer, online or batched
    assert any("Name a colour." in text for text in answers.values())


def test_faults_from_the_environment_fail_the_answers(cli, monkeypatch):
    monkeypatch.setenv("MCLI_SANDBOX_FAIL_RATE", "1")
    monkeypatch.setenv("MCLI_SANDBOX_STATUS", "503")
    result = cli(*SANDBOX, "--max-retries", "0", "chat", "hello")
    assert result.exit_code != 0
    assert "503" in result.stderr and "sandbox fault" in result.stderr


def test_a_stream_cut_by_the_sandbox_is_reported_as_cut(cli, monkeypatch):
    monkeypatch.setenv("MCLI_SANDBOX_CUT_STREAM_AFTER", "2")
    result = cli(*SANDBOX, "chat", "hello")
    assert result.exit_code != 0
    assert result.stdout.startswith("Sandbox answer ")
    assert "Sandbox answer to \"hello\": " not in result.stdout  # two words, then the break


def test_a_bad_sandbox_variable_is_a_usage_error(cli, monkeypatch):
    monkeypatch.setenv("MCLI_SANDBOX_STATUS", "418")
    result = cli(*SANDBOX, "chat", "hello")
    assert result.exit_code == 2
    assert "MCLI_SANDBOX_*: status must be one of 429, 500, 503" in result.stderr


# -- the server's answers -------------------------------------------------------------------------

def test_every_operation_answers_as_the_spec_describes(tmp_path):
    with sandbox_client(tmp_path) as client:
        sent = every_operation(client)
    assert len({(method, re.sub(r"/[0-9a-f-]{36}|/ft:[^/]+|/mistral-small-latest", "/ID", path))
                for method, path, _ in sent}) == 30
    problems = []
    for method, path, reply in sent:
        assert reply.status_code == 200, (method, path, reply.text)
        problems += specmod.validate_response(method, path, reply.status_code, dict(reply.headers),
                                              reply.content, reply.headers.get("content-type", ""))
    assert problems == []


def test_streamed_chunks_match_the_spec_and_add_up_to_the_whole_answer(tmp_path):
    body = {"model": "mistral-small-latest", "messages": CHAT}
    with sandbox_client(tmp_path) as client:
        whole = client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]["content"]
        stream = client.post("/v1/chat/completions", json={**body, "stream": True}).text
    events = [json.loads(line[6:]) for line in stream.splitlines() if line.startswith("data: {")]
    assert chunk_problems(events) == []
    assert "".join(event["choices"][0]["delta"]["content"] for event in events) == whole
    assert stream.rstrip().endswith("data: [DONE]")


def test_an_invalid_request_gets_the_api_422_naming_the_field(tmp_path):
    with sandbox_client(tmp_path) as client:
        reply = client.post("/v1/chat/completions", json={"model": "m", "messages": CHAT, "temperature": "hot"})
    assert reply.status_code == 422
    assert ["body", "temperature"] in [entry["loc"] for entry in reply.json()["detail"]]


def test_ocr_answers_one_page_per_page_of_an_uploaded_pdf(tmp_path):
    from tests.sandbox_helpers import PDF

    with sandbox_client(tmp_path) as client:
        file_id = upload(client, PDF, "scan.pdf", "ocr")["id"]
        url = client.get(f"/v1/files/{file_id}/url").json()["url"]
        reply = client.post("/v1/ocr", json={"model": "mistral-ocr-latest",
                                             "document": {"type": "document_url", "document_url": url}})
    assert [page["index"] for page in reply.json()["pages"]] == [0, 1]


def test_a_batch_job_over_a_file_that_is_not_jsonl_is_refused_with_a_400(tmp_path):
    with sandbox_client(tmp_path) as client:
        file_id = upload(client, b"not json\n")["id"]
        reply = client.post("/v1/batch/jobs", json={"input_files": [file_id], "endpoint": "/v1/chat/completions",
                                                    "model": "mistral-small-latest"})
    assert reply.status_code == 400
    assert reply.json()["message"].startswith("the sandbox cannot use this request: JSONDecodeError")


def test_without_the_validator_the_sandbox_serves_and_says_so_once(tmp_path, monkeypatch):
    monkeypatch.setattr(specmod, "validator_missing", lambda: True)
    said: list[str] = []
    for _ in range(2):
        with sandbox_client(tmp_path, warn=said.append) as client:
            reply = client.post("/v1/chat/completions", json={"model": "m", "messages": CHAT, "temperature": "hot"})
            assert reply.status_code == 200
    assert said == [world.UNCHECKED]
    assert "pip install 'mistral-cli[sandbox]'" in said[0]


# -- a real server process ------------------------------------------------------------------------

def test_a_served_sandbox_answers_a_journey_and_stops_on_ctrl_c(cli, monkeypatch, tmp_path):
    server = start_mcli("sandbox", "serve", "--port", "0")
    try:
        line = read_line(server.stdout).decode()
        url = re.fullmatch(r"export MISTRAL_SERVER_URL=(\S+) MISTRAL_API_KEY=sandbox-key\n", line).group(1)
        monkeypatch.setenv("MISTRAL_SERVER_URL", url)
        monkeypatch.setenv("MISTRAL_API_KEY", "sandbox-key")
        assert cli("chat", "hello").stdout.startswith('Sandbox answer to "hello": ')
        (tmp_path / "p.txt").write_text("one\n")
        assert cli("files", "upload", str(tmp_path / "p.txt"), "--purpose", "batch").exit_code == 0
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "stopped after 2 request(s)" in err.decode()


def test_the_package_data_holds_the_spec():
    import tomllib

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["setuptools"]["package-data"]["mistral_cli.sandbox"] == ["openapi.json"]
    assert specmod.SPEC_PATH == PACKAGE / "sandbox" / "openapi.json"
    assert "sandbox" in project["project"]["optional-dependencies"]
    assert specmod.EXTRA == "pip install 'mistral-cli[sandbox]'"


# -- nothing else loads it ------------------------------------------------------------------------

def test_only_env_and_the_sandbox_command_import_the_sandbox():
    importers = set()
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "sandbox" in path.relative_to(PACKAGE).parts[:1] or "mistral_cli.sandbox" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name.startswith("mistral_cli.sandbox") for name in names):
                importers.add(path.relative_to(PACKAGE).as_posix())
    assert importers == {"env.py", "commands/sandbox.py"}


def test_start_up_and_other_commands_do_not_load_the_sandbox():
    code = ("import io, sys\n"
            "from mistral_cli.app import main\n"
            "from mistral_cli.env import Env\n"
            "for argv in (['--help'], ['models', '--help'], ['sandbox', '--help']):\n"
            "    main(argv, Env(io.StringIO(), io.StringIO(), io.StringIO(), environ={}))\n"
            "print([m for m in sys.modules if m.startswith('mistral_cli.sandbox')])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ)).stdout
    assert out.strip() == "[]"


def test_sandbox_models_have_the_flags_the_api_gives_them():
    from mistral_cli.sandbox import world

    embed = world._base_model("mistral-embed")
    assert not any(embed["capabilities"].values())
    assert world._base_model("codestral-latest")["capabilities"]["completion_fim"] is True
