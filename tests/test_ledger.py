"""The ledger: every billed answer recorded once (counts, never text), priced by the dated table,
summed by `mcli usage`; against the fake server."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from datetime import datetime, timezone

import pytest

from mistral_cli.commands.shared import watching
from mistral_cli.env import Env
from mistral_cli.store.conversations import store_path
from mistral_cli.store.ledger import Entry, Ledger
from tests.fakeapi.batch_jobs import BatchJobs
from tests.fakeapi.defaults import JOB_ID, completion_job
from tests.fakeapi.responses import error_proxy_text, json_response
from tests.ocr_helpers import png_bytes

AGENT = "ag:3996db2b:20240805:support:a1b2c3d4"
CLASSIFIER = "ft:classifier:ministral-3b-latest:XXXXXXXX:20250101:abcd1234"
CONVERSATION = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "fine words"}]
SECRET = "zebra-quartz-prompt-7731"


def db_path():
    return store_path(Env(environ=dict(os.environ)))


def write_config(text: str) -> None:
    with open(os.path.join(os.environ["MCLI_CONFIG_DIR"], "config.toml"), "w", encoding="utf-8") as handle:
        handle.write(text)


def usage_rows(cli, *args: str) -> list[dict]:
    result = cli("usage", *args, "-o", "json")
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def by_operation(cli) -> dict[str, dict]:
    return {(row["operation"] + (" (batch)" if row["batch"] else "")): row
            for row in usage_rows(cli, "--by", "operation")}


@pytest.fixture
def sim(api, monkeypatch):
    jobs = BatchJobs(api, queued_for=0, per_request=1, dims=4).install()
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=jobs.advance, now=lambda: jobs.now))
    return jobs


def ended_job(cost: float | None = 2.5) -> dict:
    job = completion_job(JOB_ID, "SUCCESS", detailed=True)
    job.update(trained_tokens=40_000, metadata={"cost": cost, "cost_currency": "EUR"} if cost is not None else None)
    return job


# -- every billed operation -------------------------------------------------------------------------


def test_one_run_of_each_generation_command_leaves_a_row_per_operation(api, cli):
    for args in (("chat", "hi"), ("chat", "hi", "--no-stream"), ("fim", "def f():"), ("agents", AGENT, "hi")):
        assert cli(*args).exit_code == 0, args
    rows = by_operation(cli)
    assert set(rows) == {"chat.complete", "fim.complete", "agents.complete"}
    chat = rows["chat.complete"]  # the fake's usage: 10 + 5 = 15 a chat answer, streamed or not
    assert (chat["requests"], chat["prompt_tokens"], chat["completion_tokens"], chat["total_tokens"]) == (2, 20, 10, 30)
    # mistral-small-latest is mistral-small-2603 in the table: 0.15 and 0.6 a million tokens
    assert chat["cost"] == pytest.approx(20 * 0.15e-6 + 10 * 0.6e-6) and chat["currency"] == "USD"
    assert rows["fim.complete"]["cost"] == pytest.approx(10 * 0.3e-6 + 5 * 0.9e-6)  # codestral-latest
    assert rows["agents.complete"]["total_tokens"] == 15


def test_one_run_of_each_other_billed_command_leaves_a_row_per_operation(api, cli, sim, tmp_path):
    conversation = tmp_path / "chat.json"
    conversation.write_text(json.dumps(CONVERSATION), encoding="utf-8")
    image = tmp_path / "page.png"
    image.write_bytes(png_bytes())
    api.add("GET", f"/v1/fine_tuning/jobs/{JOB_ID}", json_response(ended_job()))
    runs = [("embeddings", "a", "b"), ("classifiers", "moderate", "x"),
            ("classifiers", "moderate-chat", "--messages", conversation),
            ("classifiers", "classify", "-m", CLASSIFIER, "x"),
            ("classifiers", "classify-chat", "-m", CLASSIFIER, "--messages", conversation),
            ("ocr", image), ("fine-tuning", "get", JOB_ID), ("embeddings", "c", "--via", "batch")]
    for args in runs:
        assert cli(*args).exit_code == 0, args
    rows = by_operation(cli)
    assert set(rows) == {"embeddings.embed", "classifiers.moderate", "classifiers.moderate_chat",
                         "classifiers.classify", "classifiers.classify_chat", "ocr.ocr", "fine_tuning.get",
                         "embeddings.embed (batch)"}
    embed = rows["embeddings.embed"]  # the fake's usage: 7 prompt tokens
    assert (embed["prompt_tokens"], embed["total_tokens"], embed["cost"]) == (7, 7, pytest.approx(7 * 0.1e-6))
    assert rows["classifiers.moderate_chat"]["total_tokens"] == 7
    assert rows["ocr.ocr"]["pages"] == 1 and rows["ocr.ocr"]["cost"] == pytest.approx(0.004)  # 4 a thousand
    assert rows["classifiers.moderate"]["cost"] is None  # mistral-moderation-latest: no published price
    assert rows["classifiers.classify"]["cost"] is None  # a fine-tuned classifier: not in the table
    job = rows["fine_tuning.get"]
    assert (job["cost"], job["currency"], job["requests"]) == (2.5, "EUR", 1)  # the job's own stated cost
    batch = rows["embeddings.embed (batch)"]
    assert batch["requests"] == 1 and batch["prompt_tokens"] == 3
    assert batch["cost"] == pytest.approx(3 * 0.1e-6 * 0.5)  # the batch discount


def test_a_raw_api_call_to_a_billed_operation_is_recorded(api, cli):
    assert cli("api", "POST", "/v1/embeddings", "-f", "model=mistral-embed", "-f", "input=x").exit_code == 0
    assert cli("api", "POST", "/v1/chat/completions", "-f", "model=mistral-small-latest",
               "-f", 'messages=[{"role": "user", "content": "hi"}]', "-f", "stream=true").exit_code == 0
    assert cli("api", "GET", "/v1/models").exit_code == 0  # bills nothing
    rows = by_operation(cli)
    assert set(rows) == {"embeddings.embed", "chat.complete"}
    assert rows["chat.complete"]["total_tokens"] == 15  # from the stream's last chunk


# -- once, and nothing but counts -----------------------------------------------------------------


def test_with_history_off_the_ledger_records_counts_and_no_text(api, cli):
    write_config("[profiles.default]\nhistory = false\n")
    assert cli("chat", SECRET).exit_code == 0
    assert cli("embeddings", SECRET).exit_code == 0
    assert by_operation(cli)["chat.complete"]["total_tokens"] == 15
    raw = b"".join(path.read_bytes() for path in db_path().parent.glob("history.db*"))
    assert SECRET.encode() not in raw and b"Hello from the fake API" not in raw
    with sqlite3.connect(db_path()) as conn:
        assert conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 0


def test_ledger_false_records_nothing(api, cli):
    write_config("[profiles.default]\nledger = false\nhistory = false\n")
    assert cli("embeddings", "x").exit_code == 0
    assert not db_path().exists()


def test_a_retried_request_is_recorded_once(api, cli):
    api.add("POST", "/v1/embeddings", error_proxy_text(503, headers={"Retry-After": "0"}), times=1)
    assert cli("embeddings", "x").exit_code == 0
    assert len(api.requests) == 2
    assert by_operation(cli)["embeddings.embed"]["requests"] == 1


def test_a_resumed_batch_run_and_fetched_results_are_recorded_once(api, cli, sim, tmp_path):
    assert cli("embeddings", "a", "b", "--via", "batch").exit_code == 0
    again = cli("embeddings", "a", "b", "--via", "batch")  # the same run: its saved results printed
    assert again.exit_code == 0, again
    job_id = next(iter(sim.jobs))
    assert cli("batch", "results", job_id, "--answers").exit_code == 0
    assert cli("batch", "results", job_id, "--dir", tmp_path / "out").exit_code == 0
    row = by_operation(cli)["embeddings.embed (batch)"]
    assert (row["requests"], row["prompt_tokens"]) == (2, 6)


def test_an_ended_fine_tuning_job_is_recorded_once_and_a_running_one_not(api, cli):
    api.add("GET", f"/v1/fine_tuning/jobs/{JOB_ID}", json_response(completion_job(JOB_ID, "RUNNING")), times=1)
    api.add("GET", f"/v1/fine_tuning/jobs/{JOB_ID}", json_response(ended_job(cost=None)))
    for _ in range(3):
        assert cli("fine-tuning", "get", JOB_ID).exit_code == 0
    rows = usage_rows(cli, "--by", "operation")
    assert len(rows) == 1 and rows[0]["requests"] == 1
    assert rows[0]["cost"] is None  # no stated cost and no published training price: unknown, not 0


# -- prices -------------------------------------------------------------------------------------------


def test_config_prices_override_and_add_rows(api, cli):
    write_config('[prices.models."mistral-moderation-latest"]\ninput = 2.0\n'
                 '[prices.models."mistral-small-2603"]\noutput = 1.0\n')
    assert cli("classifiers", "moderate", "x").exit_code == 0
    assert cli("chat", "x").exit_code == 0
    rows = by_operation(cli)
    assert rows["classifiers.moderate"]["cost"] == pytest.approx(7 * 2e-6)
    assert rows["chat.complete"]["cost"] == pytest.approx(10 * 0.15e-6 + 5 * 1e-6)  # input kept
    table = json.loads(cli("usage", "--prices", "-o", "json").stdout)
    assert table["date"] and table["source"].startswith("https://") and table["batch_discount"] == 0.5
    sources = {row["model"]: row["source"] for row in table["models"]}
    assert sources["mistral-moderation-latest"] == sources["mistral-small-2603"] == "config"
    assert sources["mistral-embed-2312"] == "shipped"


def test_a_bad_price_in_the_config_is_refused_with_its_place(cli):
    write_config('[prices.models."m"]\ninput = -1\n')
    result = cli("usage", "--prices")
    assert result.exit_code != 0 and "prices: models.m.input" in result.stderr


# -- mcli usage ---------------------------------------------------------------------------------------


def seed(rows: list[tuple[str, Entry]]) -> None:
    with Ledger(db_path()) as ledger:
        for when, entry in rows:
            ledger.add([entry], "default", "https://api.mistral.ai",
                       datetime.fromisoformat(when).replace(tzinfo=timezone.utc))


def test_usage_groups_combine_and_periods_select(cli):
    seed([("2026-10-31T23:00:00", Entry("chat.complete", "mistral-small-latest", 100, 50, 150)),
          ("2026-11-02T10:00:00", Entry("embeddings.embed", "mistral-embed", 1000, 0, 1000)),
          ("2026-11-03T10:00:00", Entry("ocr.ocr", "mistral-ocr-2512", pages=10))])
    rows = usage_rows(cli, "--by", "month,operation")
    assert [(r["month"], r["operation"], r["requests"]) for r in rows] == [
        ("2026-10", "chat.complete", 1), ("2026-11", "embeddings.embed", 1), ("2026-11", "ocr.ocr", 1)]
    assert [r["operation"] for r in usage_rows(cli, "--by", "operation", "--month", "2026-11")] == [
        "embeddings.embed", "ocr.ocr"]
    assert [r["day"] for r in usage_rows(cli, "--by", "day", "--since", "2026-11-03")] == ["2026-11-03"]
    profile = usage_rows(cli, "--by", "profile")
    assert profile == [{"profile": "default", "requests": 3, "prompt_tokens": 1100, "completion_tokens": 50,
                        "total_tokens": 1150, "pages": 10, "cost": pytest.approx(0.02 + 0.0001 + 0.000045),
                        "currency": "USD"}]


@pytest.mark.parametrize("args, option", [(("--by", "week"), "--by"), (("--month", "2026-13"), "--month"),
                                          (("--month", "2026-11", "--days", "3"), "--month")])
def test_usage_refuses_bad_groups_and_periods(cli, args, option):
    result = cli("usage", *args)
    assert result.exit_code == 2 and option in result.stderr


def test_usage_fits_80_columns_with_a_total_and_unknown_costs(cli):
    seed([("2026-11-02T10:00:00", Entry("classifiers.moderate_chat", "mistral-moderation-latest", 12_345, 0, 12_345)),
          ("2026-11-02T11:00:00", Entry("chat.complete", "magistral-medium-latest", 1_234_567, 2_345_678, 3_580_245)),
          ("2026-11-03T11:00:00", Entry("embeddings.embed", "codestral-embed", 99, 0, 99, batch=True))])
    for by in ("day,model", "operation", "day,operation,model", "profile,model"):
        result = cli("usage", "--by", by, tty=True)
        assert result.exit_code == 0, result
        lines = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).splitlines()
        assert max(len(line.rstrip()) for line in lines) <= 80, (by, lines)
        assert any(line.startswith("total") for line in lines), lines
        assert "unknown" in result.stdout and "COST" in result.stdout
    assert "≥" in cli("usage", tty=True).stdout  # a total with an unknown part is a lower bound


def test_old_per_day_usage_is_kept_by_the_migration(tmp_path):
    from mistral_cli.store.conversations import ConversationStore
    from mistral_cli.store.schema import MIGRATIONS, _statements

    path = tmp_path / "history.db"
    raw = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        for statement in _statements(script):
            raw.execute(statement)
    raw.execute("INSERT INTO usage VALUES ('2025-03-01', 'mistral-small-latest', 2, 30, 12, 42)")
    raw.execute("PRAGMA user_version = 4")
    raw.commit()
    raw.close()
    ConversationStore(path).close()
    with Ledger(path) as ledger:
        assert ledger.sums(["day", "model"]) == [{
            "day": "2025-03-01", "model": "mistral-small-latest", "operation": "generation", "batch": 0,
            "currency": None, "requests": 2, "prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42,
            "pages": None, "training_tokens": None, "stated_cost": None, "stated_rows": 0, "rows": 1}]


# -- streamed answers' timing -----------------------------------------------------------------------


def test_a_streamed_answer_keeps_its_timing_in_the_history(api, cli):
    result = cli("chat", "hi", "-v")
    assert result.exit_code == 0
    assert re.search(r"first token \d+\.\d\d s", result.stderr), result.stderr
    shown = cli("history", "show", "latest", "-o", "json")
    timing = json.loads(shown.stdout)["timing"]
    assert timing[0] is None and timing[-1]["first_token_ms"] >= 0 and "tokens_per_second" in timing[-1]
    assert re.search(r"first token \d+\.\d\d s", cli("history", "show", "latest").stdout)


def test_spend_so_far_today_this_month_and_this_run():
    from mistral_cli.config.prices import load
    from mistral_cli.store.ledger import spent_this_month, spent_this_run, spent_today

    now = datetime.now(timezone.utc)
    seed([(now.replace(tzinfo=None).isoformat(), Entry("chat.complete", "mistral-small-2603", 1_000_000, 0, 1_000_000)),
          ("2001-01-01T00:00:00", Entry("chat.complete", "mistral-small-2603", 1_000_000, 0, 1_000_000)),
          (now.replace(tzinfo=None).isoformat(), Entry("classifiers.moderate", "mistral-moderation-latest", 5, 0, 5))])
    env, table = Env(environ=dict(os.environ)), load()
    assert spent_today(env, table) == spent_this_month(env, table) == {"cost": {"USD": 0.15}, "unpriced": 1}
    assert spent_this_run(env, table) == {"cost": {}, "unpriced": 0}
    from mistral_cli.app import _ledger

    _ledger(env, "embeddings.embed", {"model": "mistral-embed", "usage": {"prompt_tokens": 10, "total_tokens": 10}}, {})
    assert spent_this_run(env, table) == {"cost": {"USD": pytest.approx(1e-6)}, "unpriced": 0}
    env.close()
    assert table.token_cost("mistral-small-latest", 1_000_000, 1_000_000, batch=True) == (pytest.approx(0.375), "USD")


def test_a_broken_database_is_warned_about_once_and_the_answers_still_printed(api, cli):
    db_path().write_text("not a database")
    result = cli("embeddings", "a", "b", "--per-request", "1")
    assert result.exit_code == 0 and result.stdout.count("\n") == 2, result
    assert result.stderr.count("mcli: warning: the ledger did not record") == 1


def test_counts_from_the_server_are_believed_only_when_they_are_counts():
    from mistral_cli.store.ledger import entry_of

    hostile = {"model": "m" * 500, "usage": {"prompt_tokens": "9", "completion_tokens": -1, "total_tokens": 1e300},
               "usage_info": {"pages_processed": True}}
    entry = entry_of("ocr.ocr", hostile)
    assert (entry.prompt_tokens, entry.completion_tokens, entry.total_tokens, entry.pages) == (None, None, None, None)
    assert len(entry.model) == 200
    assert entry_of("models.list", {"usage": {"prompt_tokens": 1}}) is None  # bills nothing
    assert entry_of("fine_tuning.get", {"id": "j", "status": "RUNNING", "trained_tokens": 5}) is None
    assert entry_of("fine_tuning.get", {"id": "j", "status": "SUCCESS", "metadata": {"cost": float("nan")}}).cost is None


def test_a_batch_tally_counts_answered_lines_only():
    from mistral_cli.store.ledger import BatchTally

    tally = BatchTally("embeddings.embed", "mistral-embed")
    answered = {"custom_id": "1", "response": {"status_code": 200, "body": {"usage": {"prompt_tokens": 4}}}}
    refused = {"custom_id": "2", "response": {"status_code": 400, "body": {"message": "no"}}}
    for line in (answered, refused, "not an object", {"response": {"status_code": "200"}}):
        tally.add(line)
    [entry] = tally.entries("job")
    assert (entry.model, entry.requests, entry.prompt_tokens, entry.batch, entry.once) == (
        "mistral-embed", 1, 4, True, "batch:job")
