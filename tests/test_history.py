"""`mcli history list/show/delete` and `mcli usage`, on and off a terminal, over a pre-filled store."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import datetime, timedelta, timezone

import pytest

from mistral_cli.app import main
from mistral_cli.env import Env
from mistral_cli.store.conversations import open_store, store_path
from mistral_cli.store.ledger import Entry, Ledger

DAY1 = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)
DAY2 = datetime(2025, 3, 2, 12, 0, tzinfo=timezone.utc)

WEATHER = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_1", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
    {"role": "tool", "name": "get_weather", "tool_call_id": "call_1", "content": "{\"temp\": 21}"},
    {"role": "assistant", "content": "It is **21°C** in Paris."},
]
CODE = [{"role": "user", "content": "def fib(n):"}, {"role": "assistant", "content": "    return n"}]


def store_env() -> Env:
    return Env(environ=dict(os.environ))


@pytest.fixture
def seeded():
    """Two conversations: `weather` (chat, DAY1) and `code` (fim, DAY2, its answer cut short)."""
    with open_store(store_env()) as store:
        store.clock = lambda: DAY1
        store.create("aaaa11110000", "chat", "mistral-small-latest")
        store.add_messages("aaaa11110000", WEATHER)
        store.clock = lambda: DAY2
        store.create("bbbb22220000", "fim", "codestral-latest")
        store.add_messages("bbbb22220000", CODE, complete=False)
    record(DAY1, Entry("chat.complete", "mistral-small-latest", 30, 12, 42))
    record(DAY2, Entry("fim.complete", "codestral-latest", 1000, 2000, 3000))
    return {"weather": "aaaa11110000", "code": "bbbb22220000"}


def record(moment: datetime, entry: Entry) -> None:
    """ENTRY in the ledger at MOMENT, as an answer arriving then would leave it."""
    with Ledger(store_path(store_env())) as ledger:
        ledger.add([entry], "default", "https://api.mistral.ai", moment)


def saved_ids() -> list[str]:
    with open_store(store_env()) as store:
        return sorted(c.id for c in store.list())


def disable_history() -> None:
    config = os.environ["MCLI_CONFIG_DIR"]
    with open(os.path.join(config, "config.toml"), "w", encoding="utf-8") as handle:
        handle.write("[profiles.default]\nhistory = false\n")


def run_on_terminal(*args: str, answer: str):
    """Run mcli with every stream a terminal and ANSWER typed on stdin (cli(tty=True) has no stdin)."""
    stdin = io.StringIO(answer)
    stdout, stderr = io.StringIO(), io.StringIO()
    env = Env(stdin, stdout, stderr, stdin_isatty=True, stdout_isatty=True, stderr_isatty=True,
              environ=dict(os.environ))
    code = main(list(args), env)
    return code, stdout.getvalue(), stderr.getvalue()


# -- history list -----------------------------------------------------------------------------


def test_list_empty_says_so_and_creates_nothing(cli):
    result = cli("history", "list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no saved conversations yet" in result.stderr
    assert "saving is turned off" not in result.stderr
    assert not store_path(store_env()).exists()


def test_list_empty_with_history_disabled_says_how_to_turn_it_on(cli):
    disable_history()
    result = cli("history", "list")
    assert result.exit_code == 0
    assert "saving is turned off" in result.stderr and "mcli config set history true" in result.stderr


def test_list_empty_as_json_is_an_empty_list(cli):
    result = cli("history", "list", "-o", "json")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])


def test_list_off_a_terminal_is_tsv_newest_first(cli, seeded):
    result = cli("history", "list")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines() == [
        "bbbb22220000\tfim\tcodestral-latest\t2\t2025-03-02T12:00:00Z\tdef fib(n):",
        "aaaa11110000\tchat\tmistral-small-latest\t5\t2025-03-01T10:00:00Z\tWeather in Paris?",
    ]


def test_list_on_a_terminal_is_a_table_with_relative_times(cli, seeded):
    result = cli("history", "list", tty=True)
    assert result.exit_code == 0, result
    for header in ("ID", "KIND", "MODEL", "MESSAGES", "UPDATED", "TITLE"):
        assert header in result.stdout
    assert "aaaa11110000" in result.stdout and "days ago" in result.stdout
    assert "2025-03-01T10:00:00Z" not in result.stdout


def test_list_json_text_and_limit(cli, seeded):
    body = json.loads(cli("history", "list", "-o", "json").stdout)
    assert [c["id"] for c in body] == [seeded["code"], seeded["weather"]]
    assert body[0] == {"id": "bbbb22220000", "kind": "fim", "model": "codestral-latest", "agent_id": None,
                       "created_at": "2025-03-02T12:00:00Z", "updated_at": "2025-03-02T12:00:00Z",
                       "title": "def fib(n):", "message_count": 2, "incomplete": True}
    assert cli("history", "list", "-o", "text").stdout == "bbbb22220000\naaaa11110000\n"
    assert cli("history", "list", "--limit", "1", "-o", "text").stdout == "bbbb22220000\n"
    lines = cli("history", "list", "-o", "jsonl").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [seeded["code"], seeded["weather"]]


def test_list_refuses_a_negative_limit(cli):
    result = cli("history", "list", "--limit", "-1")
    assert result.exit_code == 2 and "--limit" in result.stderr


def test_history_disabled_still_reads_what_exists(cli, seeded):
    disable_history()
    assert cli("history", "list", "-o", "text").stdout.split() == [seeded["code"], seeded["weather"]]


def test_a_broken_database_file_is_a_clear_error(cli):
    path = store_path(store_env())
    path.write_bytes(b"garbage" * 200)
    result = cli("history", "list")
    assert result.exit_code == 1
    assert "history database" in result.stderr and "Traceback" not in result.stderr


# -- history show -----------------------------------------------------------------------------


def test_show_off_a_terminal_prints_role_blocks(cli, seeded):
    result = cli("history", "show", seeded["weather"])
    assert result.exit_code == 0, result
    assert result.stdout == (
        "system: Be brief.\n\n"
        "user: Weather in Paris?\n\n"
        "assistant:\n"
        'tool call: get_weather({"city": "Paris"})\n\n'
        'tool (get_weather): {"temp": 21}\n\n'
        "assistant: It is **21°C** in Paris.\n"
    )


def test_show_marks_an_incomplete_answer(cli, seeded):
    plain = cli("history", "show", seeded["code"]).stdout
    assert plain == "user: def fib(n):\n\nassistant:     return n\n[incomplete: this answer was cut short]\n"
    terminal = cli("history", "show", seeded["code"], tty=True).stdout
    assert "incomplete" in terminal


def test_show_on_a_terminal_has_role_headers_and_tool_calls(cli, seeded):
    result = cli("history", "show", seeded["weather"], tty=True)
    assert result.exit_code == 0, result
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    assert "aaaa11110000 · chat · mistral-small-latest" in text
    for header in ("system ─", "user ─", "assistant ─", "tool (get_weather) ─"):
        assert header in text
    assert '→ tool call: get_weather({"city": "Paris"})' in text
    assert "21°C" in text and "**21°C**" not in text  # the answer is rendered as Markdown
    assert "incomplete" not in text


def test_show_json_is_the_conversation_with_its_messages(cli, seeded):
    body = json.loads(cli("history", "show", seeded["weather"], "-o", "json").stdout)
    assert body["messages"] == WEATHER
    assert {k: body[k] for k in ("id", "kind", "model", "message_count", "incomplete", "title")} == {
        "id": "aaaa11110000", "kind": "chat", "model": "mistral-small-latest", "message_count": 5,
        "incomplete": False, "title": "Weather in Paris?"}


def test_show_jsonl_and_text(cli, seeded):
    lines = cli("history", "show", seeded["code"], "-o", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == CODE
    assert cli("history", "show", seeded["weather"], "-o", "text").stdout == "It is **21°C** in Paris.\n"


def test_show_text_is_the_answer_without_thinking_which_the_full_view_marks(cli):
    thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "Hmm."}]}
    with open_store(store_env()) as store:
        store.create("cccc33330000", "chat", "magistral-small-latest")
        store.add_messages("cccc33330000", [{"role": "user", "content": "Sure?"},
                                            {"role": "assistant", "content": [thinking, {"type": "text", "text": "Yes."}]}])
    assert cli("history", "show", "cccc33330000", "-o", "text").stdout == "Yes.\n"
    assert cli("history", "show", "cccc33330000").stdout == "user: Sure?\n\nassistant: [thinking] Yes.\n"


def test_show_latest_and_a_unique_prefix(cli, seeded):
    assert json.loads(cli("history", "show", "latest", "-o", "json").stdout)["id"] == seeded["code"]
    assert json.loads(cli("history", "show", "-", "-o", "json").stdout)["id"] == seeded["code"]
    assert json.loads(cli("history", "show", "aaaa1", "-o", "json").stdout)["id"] == seeded["weather"]


def test_show_unknown_is_exit_4(cli, seeded):
    result = cli("history", "show", "nope0000")
    assert result.exit_code == 4
    assert "no conversation 'nope0000'" in result.stderr and "mcli history list" in result.stderr
    assert result.stdout == ""


def test_show_latest_on_an_empty_history_is_exit_4(cli):
    result = cli("history", "show", "latest")
    assert result.exit_code == 4 and "no saved conversations" in result.stderr


def test_show_an_ambiguous_prefix_is_exit_2(cli):
    with open_store(store_env()) as store:
        store.create("cccc0001", "chat", "m")
        store.create("cccc0002", "chat", "m")
    result = cli("history", "show", "cccc")
    assert result.exit_code == 2 and "matches 2 conversations" in result.stderr


# -- history delete ---------------------------------------------------------------------------


def test_delete_off_a_terminal_without_yes_refuses(cli, seeded):
    result = cli("history", "delete", seeded["weather"])
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert saved_ids() == sorted(seeded.values())


def test_delete_with_yes(cli, seeded):
    result = cli("history", "delete", seeded["weather"], "--yes")
    assert result.exit_code == 0, result
    assert f"deleted {seeded['weather']}" in result.stderr
    assert saved_ids() == [seeded["code"]]


def test_delete_reports_each_and_exits_with_the_worst_code(cli, seeded):
    result = cli("history", "delete", "missing0", seeded["code"], "-y")
    assert result.exit_code == 4
    assert "no conversation 'missing0'" in result.stderr and f"deleted {seeded['code']}" in result.stderr
    assert saved_ids() == [seeded["weather"]]


def test_delete_asks_on_a_terminal(seeded):
    code, _out, err = run_on_terminal("history", "delete", seeded["code"], answer="n\n")
    assert code == 2 and "[y/N]" in err
    assert saved_ids() == sorted(seeded.values())
    code, _out, err = run_on_terminal("history", "delete", seeded["code"], answer="y\n")
    assert code == 0 and f"deleted {seeded['code']}" in err
    assert saved_ids() == [seeded["weather"]]


def test_delete_all(cli, seeded):
    refused = cli("history", "delete", "--all")
    assert refused.exit_code == 2 and saved_ids() == sorted(seeded.values())
    result = cli("history", "delete", "--all", "--yes")
    assert result.exit_code == 0 and "deleted 2 conversation(s)" in result.stderr
    assert saved_ids() == []
    assert "nothing to delete" in cli("history", "delete", "--all", "--yes").stderr


def test_delete_needs_ids_or_all_but_not_both(cli, seeded):
    neither = cli("history", "delete", "--yes")
    both = cli("history", "delete", seeded["code"], "--all", "--yes")
    assert neither.exit_code == both.exit_code == 2
    assert "--all" in neither.stderr and "not both" in both.stderr
    assert saved_ids() == sorted(seeded.values())


# -- usage ------------------------------------------------------------------------------------


def test_usage_empty_says_so(cli):
    result = cli("usage")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "no usage recorded yet" in result.stderr
    assert json.loads(cli("usage", "-o", "json").stdout) == []


def test_usage_off_a_terminal_is_tsv_by_day_and_model(cli, seeded):
    result = cli("usage")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines() == [  # then PAGES, COST (the table's estimate) and CURRENCY
        "2025-03-01\tmistral-small-latest\t30\t12\t42\t1\t\t0.0000117\tUSD",
        "2025-03-02\tcodestral-latest\t1000\t2000\t3000\t1\t\t0.0021\tUSD",
    ]


def test_usage_by_model_and_by_day(cli, seeded):
    assert [line.split("\t")[:5] for line in cli("usage", "--by", "model").stdout.splitlines()] == [
        ["codestral-latest", "1000", "2000", "3000", "1"], ["mistral-small-latest", "30", "12", "42", "1"]]
    assert [line.split("\t")[:5] for line in cli("usage", "--by", "day").stdout.splitlines()] == [
        ["2025-03-01", "30", "12", "42", "1"], ["2025-03-02", "1000", "2000", "3000", "1"]]


def test_usage_on_a_terminal_has_a_total_line(cli, seeded):
    result = cli("usage", tty=True)
    assert result.exit_code == 0, result
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    for header in ("DAY", "MODEL", "PROMPT", "COMPLETION", "TOTAL"):
        assert header in text
    total_line = next(line for line in text.splitlines() if line.strip().startswith("total"))
    assert total_line.split()[1:] == ["1,030", "2,012", "3,042", "0.002112", "USD"]  # REQUESTS left out at 80


def test_usage_json_and_text(cli, seeded):
    rows = json.loads(cli("usage", "--by", "model", "-o", "json").stdout)
    assert rows[0] == {"model": "codestral-latest", "requests": 1, "prompt_tokens": 1000,
                       "completion_tokens": 2000, "total_tokens": 3000, "pages": None,
                       "cost": pytest.approx(0.0021), "currency": "USD"}
    assert cli("usage", "-o", "text").stdout == "3042\n"


def test_usage_since_a_day(cli, seeded):
    assert cli("usage", "--since", "2025-03-02", "-o", "text").stdout == "3000\n"
    later = cli("usage", "--since", "2030-01-01")
    assert later.stdout == "" and "since 2030-01-01" in later.stderr


def test_usage_last_days_counts_from_today_utc(cli):
    today = datetime.now(timezone.utc)
    for age, tokens in ((0, 1), (1, 10), (2, 100)):
        record(today - timedelta(days=age), Entry("chat.complete", "m", total_tokens=tokens))
    assert cli("usage", "--days", "1", "-o", "text").stdout == "1\n"
    assert cli("usage", "--days", "2", "-o", "text").stdout == "11\n"
    assert cli("usage", "--days", "30", "-o", "text").stdout == "111\n"


@pytest.mark.parametrize("args, option", [
    (("--since", "2025-13-01"), "--since"),
    (("--since", "yesterday"), "--since"),
    (("--since", "20250301"), "--since"),
    (("--days", "0"), "--days"),
    (("--days", "2", "--since", "2025-03-01"), "--since"),
    (("--by", "week"), "--by"),
])
def test_usage_refuses_bad_options(cli, args, option):
    result = cli("usage", *args)
    assert result.exit_code == 2
    assert option in result.stderr


def test_usage_survives_deleting_the_conversations(cli, seeded):
    assert cli("history", "delete", "--all", "--yes").exit_code == 0
    assert cli("usage", "-o", "text").stdout == "3042\n"


# -- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("history", "list"), ("history", "show"), ("history", "delete"), ("usage",)])
def test_every_command_has_examples_in_its_help(cli, args):
    result = cli(*args, "--help")
    assert result.exit_code == 0
    assert "Examples" in result.stdout and f"mcli {' '.join(args)}" in result.stdout
