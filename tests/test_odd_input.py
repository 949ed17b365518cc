"""Bad local input: a closed stdin, config files that are not regular files or are absurd,
piped REPL input that ends midway, prompts from a pipe. Each is a usage error naming what is
wrong (exit 2) or works; never an internal error or a hang."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from tests.fakeapi.batch_jobs import BatchJobs
from tests.fakeapi.defaults import FILE_ID
from tests.fakeapi.ft_jobs import FineTuningSim

TIMEOUT = 30  # bounds a hang; it measures nothing


def run_closed_stdin(*args: str, cwd) -> subprocess.CompletedProcess:
    """`python -m mistral_cli ARGS <&-`: a real process whose file descriptor 0 is closed."""
    return subprocess.run([sys.executable, "-m", "mistral_cli", *args], capture_output=True,
                          preexec_fn=lambda: os.close(0), env=dict(os.environ), cwd=cwd,
                          timeout=TIMEOUT, text=True)


@pytest.mark.parametrize(("args", "option"), [
    (["embeddings", "-f", "-"], "--input-file -"),
    (["classifiers", "moderate", "-f", "-"], "--input-file -"),
    (["chat", "--messages", "-"], "--messages -"),
    (["batch", "create", "--from-prompts", "-"], "--from-prompts -"),
    (["chat", "-i"], "the REPL (-i)"),
])
def test_a_closed_stdin_is_no_input_on_stdin(api, tmp_path, args, option):
    result = run_closed_stdin(*args, cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"mcli: error: {option}: standard input is closed"), result.stderr
    assert "internal error" not in result.stderr
    assert api.requests == []


# -- config.toml and credentials.toml that are not small regular TOML files ---------------------


def run_bounded(*args: str, cwd) -> subprocess.CompletedProcess:
    """`python -m mistral_cli ARGS` with a deadline and 1 GiB of address space: a read that
    blocks or grows without end fails the test instead of hanging it or filling the machine."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run([sys.executable, "-m", "mistral_cli", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, preexec_fn=limit, env=dict(os.environ), cwd=cwd,
                          timeout=TIMEOUT)


def config_path(name: str):
    from pathlib import Path

    return Path(os.environ["MCLI_CONFIG_DIR"]) / name


@pytest.mark.parametrize("name", ["config.toml", "credentials.toml"])
def test_a_fifo_in_place_of_a_file_does_not_parse(api, monkeypatch, tmp_path, name):
    monkeypatch.delenv("MISTRAL_API_KEY")  # the credentials file is read only without one
    os.mkfifo(config_path(name))
    result = run_bounded("models", "list", cwd=tmp_path)
    assert result.returncode == 2, result
    what = name.removesuffix(".toml")
    assert f"{what} file {config_path(name)} does not parse: it is not a regular file (it is a FIFO)" \
        in result.stderr
    assert api.requests == []


def test_a_link_to_dev_zero_does_not_parse(api, tmp_path):
    config_path("config.toml").symlink_to("/dev/zero")
    result = run_bounded("models", "list", cwd=tmp_path)
    assert result.returncode == 2, result
    assert "does not parse: it is not a regular file (it is a character device)" in result.stderr
    assert api.requests == []


def test_a_config_over_one_mebibyte_does_not_parse(api, cli):
    config_path("config.toml").write_text("#" * (1 << 20) + "\n", encoding="utf-8")
    result = cli("models", "list")
    assert result.exit_code == 2, result
    assert "does not parse: it is larger than 1 MiB" in result.stderr


@pytest.mark.parametrize("name", ["config.toml", "credentials.toml"])
def test_arrays_nested_two_thousand_deep_do_not_parse(api, cli, monkeypatch, name):
    monkeypatch.delenv("MISTRAL_API_KEY")
    config_path(name).write_text("x = " + "[" * 2000 + "]" * 2000 + "\n", encoding="utf-8")
    result = cli("models", "list")
    assert result.exit_code == 2, result
    assert f"{config_path(name)} does not parse: it nests arrays or tables more than 16 deep" in result.stderr
    assert api.requests == []


def test_a_small_config_still_reads(api, cli):
    config_path("config.toml").write_text('[profiles.default]\ntimeout = 30\n', encoding="utf-8")
    result = cli("config", "get", "timeout")
    assert result.exit_code == 0, result
    assert "30" in result.stdout


# -- a full disk right after a job create ------------------------------------------------------


def run_as_printed(command: str, cwd) -> subprocess.CompletedProcess:
    """COMMAND (`mcli ...`, as mcli printed it) run word for word."""
    words = shlex.split(command)
    assert words[0] == "mcli"
    return subprocess.run([sys.executable, "-m", "mistral_cli", *words[1:]], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=dict(os.environ), cwd=cwd, timeout=TIMEOUT)


@pytest.mark.parametrize(("args", "kind"), [
    (["batch", "create", "-i", FILE_ID, "--endpoint", "/v1/chat/completions", "-m", "mistral-small-latest"],
     "batch"),
    (["fine-tuning", "create", "-m", "open-mistral-7b", "--training-file", FILE_ID], "fine-tuning"),
])
def test_a_job_created_before_the_output_fails_is_named_in_the_error(api, tmp_path, args, kind):
    BatchJobs(api).install()
    FineTuningSim(api).install()
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "mistral_cli", *args], stdout=full, stderr=subprocess.PIPE,
                                text=True, env=dict(os.environ), cwd=tmp_path, timeout=TIMEOUT)
    assert result.returncode == 1, result.stderr
    assert "cannot write the output" in result.stderr
    assert "was created: it exists on the server" in result.stderr, result.stderr
    see = result.stderr.split("(see it with `", 1)[1].split("`", 1)[0]
    job_id = see.split()[-1]
    shown = run_as_printed(see, tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert job_id in shown.stdout
    assert len(api.requests_to("POST", "/v1/batch/jobs" if kind == "batch" else "/v1/fine_tuning/jobs")) == 1


def test_a_journal_that_fails_right_after_the_create_names_the_job(api, cli, monkeypatch, tmp_path):
    from mistral_cli.errors import StoreError
    from mistral_cli.store.runs import RunJournal

    BatchJobs(api).install()

    def full_disk(*_args):
        raise StoreError("cannot write the batch run journal: database or disk is full")

    monkeypatch.setattr(RunJournal, "job_known", full_disk)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("one\n")
    result = cli("batch", "create", "--from-prompts", prompts, "-m", "mistral-small-latest")
    assert result.exit_code == 1, result
    creates = api.requests_to("POST", "/v1/batch/jobs")
    assert len(creates) == 1
    assert "batch job " in result.stderr and "was created: it exists on the server" in result.stderr
