"""`mcli classifiers`: moderate, classify, moderate-chat, classify-chat against the fake API,
the --fail-on gate's exit codes, --threshold, and the parsers under Hypothesis."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mistral_cli.commands.classifiers import verdicts
from mistral_cli.errors import UsageError
from tests.fakeapi import json_response

MODERATIONS = "/v1/moderations"
CLASSIFICATIONS = "/v1/classifications"
CHAT_MODERATIONS = "/v1/chat/moderations"
CHAT_CLASSIFICATIONS = "/v1/chat/classifications"
MODEL = "ft:classifier:ministral-3b-latest:XXXXXXXX:20250101:abcd1234"


def moderation_of(text: str) -> dict:
    """A ModerationObject: texts containing 'bad' are flagged for violence, 'sad' scores 0.4 selfharm."""
    violent = "bad" in text
    return {"categories": {"violence_and_threats": violent, "selfharm": False},
            "category_scores": {"violence_and_threats": 0.95 if violent else 0.01,
                                "selfharm": 0.4 if "sad" in text else 0.02}}


def moderations(req):
    inputs = req.json["input"]
    inputs = [inputs] if isinstance(inputs, str) else inputs
    return json_response({"id": "mod-1", "model": req.json["model"],
                          "results": [moderation_of(text) for text in inputs]})


def classifications(req):
    inputs = req.json["input"]
    return json_response({"id": "cls-1", "model": req.json["model"], "results": [
        {"sentiment": {"scores": {"negative": 0.8, "positive": 0.2} if "bad" in text
                       else {"negative": 0.3, "positive": 0.7}}} for text in inputs]})


def chat_answer(count: int, moderation: bool):
    def respond(req):
        if moderation:
            results = [moderation_of("bad")] * count
        else:
            results = [{"sentiment": {"scores": {"negative": 0.1, "positive": 0.9}}}] * count
        return json_response({"id": "x-1", "model": req.json["model"], "results": results})
    return respond


def lines_of(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


# -- moderate -----------------------------------------------------------------------------------


def test_moderate_prints_one_line_per_input_with_what_is_flagged(api, cli):
    api.add("POST", MODERATIONS, moderations)
    result = cli("classifiers", "moderate", "fine", "bad day")
    assert result.exit_code == 0, result
    assert api.last("POST", MODERATIONS).json == {"model": "mistral-moderation-latest",
                                                  "input": ["fine", "bad day"]}
    lines = lines_of(result)
    assert [(line["index"], line["text"], line["flagged"]) for line in lines] == [
        (0, "fine", []), (1, "bad day", ["violence_and_threats"])]
    assert lines[1]["category_scores"] == moderation_of("bad day")["category_scores"]


def test_moderate_model_from_the_profile_then_the_option(api, cli):
    api.add("POST", MODERATIONS, moderations, times=2)
    assert cli("config", "set", "model.moderation", "mod-from-profile").exit_code == 0
    cli("classifiers", "moderate", "x")
    assert api.last("POST", MODERATIONS).json["model"] == "mod-from-profile"
    cli("classifiers", "moderate", "x", "-m", "mistral-moderation-2411")
    assert api.last("POST", MODERATIONS).json["model"] == "mistral-moderation-2411"


def test_moderate_batches_piped_lines_in_order(api, cli):
    api.add("POST", MODERATIONS, moderations)
    piped = "".join(f"line {n}{' bad' if n % 3 == 0 else ''}\n" for n in range(7))
    result = cli("classifiers", "moderate", "--per-request", "3", "-j", "3", input=piped)
    assert result.exit_code == 0, result
    assert len(api.requests_to("POST", MODERATIONS)) == 3
    assert [line["index"] for line in lines_of(result)] == list(range(7))
    assert [bool(line["flagged"]) for line in lines_of(result)] == [n % 3 == 0 for n in range(7)]


def test_threshold_flags_by_score_instead_of_the_api_flags(api, cli):
    api.add("POST", MODERATIONS, moderations)
    result = cli("classifiers", "moderate", "so sad", "--threshold", "0.3")
    assert lines_of(result)[0]["flagged"] == ["selfharm"]


@pytest.mark.parametrize("args, code", [
    (["--fail-on", "any"], 6),
    (["--fail-on", "violence_and_threats"], 6),
    (["--fail-on", "selfharm,violence_and_threats"], 6),
    (["--fail-on", "selfharm"], 0),
    (["--fail-on", "selfharm", "--threshold", "0.3"], 6),
    (["--fail-on", "any", "--threshold", "0.99"], 0),
    ([], 0),
])
def test_fail_on_exit_codes(api, cli, args, code):
    api.add("POST", MODERATIONS, moderations)
    result = cli("classifiers", "moderate", "fine", "bad and sad", *args)
    assert result.exit_code == code, result
    assert len(lines_of(result)) == 2  # every verdict is written before the gate decides
    if code == 6:
        assert "1 of 2 input(s) flagged" in result.stderr and "input 2" in result.stderr
        assert [line["index"] for line in lines_of(result)] == [0, 1]  # JSON keeps the API's


def test_table_titles_count_inputs_from_1(api, cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    api.add("POST", MODERATIONS, moderations)
    result = cli("classifiers", "moderate", "fine", "bad", tty=True)
    assert "#1  fine" in result.stdout and "#2  bad" in result.stdout, result.stdout


@pytest.mark.parametrize("command", [["moderate", "bad"], ["moderate-chat", "--messages", "-"]])
def test_a_misspelled_moderation_category_stops_before_any_request(api, cli, command):
    result = cli("classifiers", *command, "--fail-on", "violence", input=json.dumps(CONVERSATION))
    assert result.exit_code == 2, result
    assert "'violence'" in result.stderr and "did you mean 'violence_and_threats'" in result.stderr
    assert "selfharm" in result.stderr  # the categories are listed
    assert api.requests == []


@pytest.mark.parametrize("name, hint", [("negative", None), ("helth", "health"), ("selfharn", "selfharm")])
def test_fail_on_suggests_only_a_close_name(api, cli, name, hint):
    result = cli("classifiers", "moderate", "bad", "--fail-on", name)
    assert result.exit_code == 2, result
    assert (f"did you mean {hint!r}" in result.stderr) if hint else "did you mean" not in result.stderr
    assert api.requests == []


def test_moderation_categories_are_listed_in_help(cli):
    assert "dangerous_and_criminal_content" in cli("classifiers", "moderate", "--help").stdout


@pytest.mark.parametrize("output", ["jsonl", "json", "table"])
def test_classify_unknown_category_stops_before_printing_anything(api, cli, output):
    api.add("POST", CLASSIFICATIONS, classifications)
    result = cli("classifiers", "classify", "-m", MODEL, "good", "bad", "--fail-on", "negativ",
                 "-o", output)
    assert result.exit_code == 2, result
    assert result.stdout == ""
    assert "'negativ'" in result.stderr and "did you mean 'negative'" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--fail-on", ""], "--fail-on"),
    (["--fail-on", "any,violence"], "'any' stands alone"),
    (["--fail-on", "a b"], "'a b'"),
    (["--threshold", "1.5"], "--threshold"),
    (["--threshold", "nan"], "--threshold"),
    (["--threshold", "high"], "'high'"),
])
def test_bad_gate_options_stop_before_any_request(api, cli, args, message):
    result = cli("classifiers", "moderate", "x", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert api.requests == []


def test_moderate_json_combines_batches_into_one_body(api, cli):
    api.add("POST", MODERATIONS, moderations)
    result = cli("classifiers", "moderate", "a", "bad", "c", "--per-request", "2", "-o", "json")
    body = json.loads(result.stdout)
    assert body == {"id": "mod-1", "model": "mistral-moderation-latest",
                    "results": [moderation_of("a"), moderation_of("bad"), moderation_of("c")]}


def test_moderate_text_prints_flagged_categories_per_line(api, cli):
    api.add("POST", MODERATIONS, moderations)
    result = cli("classifiers", "moderate", "fine", "bad", "-o", "text")
    assert result.stdout == "\nviolence_and_threats\n"


def test_moderate_on_a_terminal_shows_bars_and_marks_flags(api, cli, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "160")
    api.add("POST", MODERATIONS, moderations)
    result = cli("classifiers", "moderate", "bad", tty=True)
    assert result.exit_code == 0, result
    assert "flagged: violence_and_threats" in result.stdout
    assert "█" * 19 in result.stdout and "0.950" in result.stdout
    assert "\x1b[1;31m" in result.stdout  # the flagged row in bold red


# -- classify -------------------------------------------------------------------------------------


def test_classify_needs_a_model(api, cli):
    result = cli("classifiers", "classify", "text")
    assert result.exit_code == 2
    assert "--model" in result.stderr
    assert api.requests == []


def test_classify_sends_the_texts_and_flags_each_targets_top_label(api, cli):
    api.add("POST", CLASSIFICATIONS, classifications)
    result = cli("classifiers", "classify", "-m", MODEL, "good", "bad")
    assert result.exit_code == 0, result
    assert api.last("POST", CLASSIFICATIONS).json == {"model": MODEL, "input": ["good", "bad"]}
    lines = lines_of(result)
    assert [line["flagged"] for line in lines] == [["sentiment.positive"], ["sentiment.negative"]]
    assert lines[1]["targets"] == {"sentiment": {"scores": {"negative": 0.8, "positive": 0.2}}}


@pytest.mark.parametrize("fail_on, code", [("negative", 6), ("sentiment.negative", 6),
                                           ("sentiment.neutral", 2), ("other.negative", 2)])
def test_classify_fail_on_a_label(api, cli, fail_on, code):
    api.add("POST", CLASSIFICATIONS, classifications)
    assert cli("classifiers", "classify", "-m", MODEL, "good", "bad", "--fail-on", fail_on).exit_code == code


# -- chats ----------------------------------------------------------------------------------------

CONVERSATION = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "bad words"}]


def test_moderate_chat_sends_one_conversation(api, cli, tmp_path):
    api.add("POST", CHAT_MODERATIONS, chat_answer(1, moderation=True))
    path = tmp_path / "convo.json"
    path.write_text(json.dumps(CONVERSATION), encoding="utf-8")
    result = cli("classifiers", "moderate-chat", "--messages", path, "--fail-on", "any")
    assert result.exit_code == 6
    assert api.last("POST", CHAT_MODERATIONS).json == {"model": "mistral-moderation-latest",
                                                       "input": CONVERSATION}
    assert [line["flagged"] for line in lines_of(result)] == [["violence_and_threats"]]
    assert "text" not in lines_of(result)[0]


def test_moderate_chat_takes_a_list_of_conversations_as_jsonl_on_stdin(api, cli):
    api.add("POST", CHAT_MODERATIONS, chat_answer(2, moderation=True))
    piped = json.dumps(CONVERSATION) + "\n" + json.dumps(CONVERSATION[:1]) + "\n"
    result = cli("classifiers", "moderate-chat", "--messages", "-", input=piped)
    assert result.exit_code == 0, result
    assert api.last("POST", CHAT_MODERATIONS).json["input"] == [CONVERSATION, CONVERSATION[:1]]
    assert [line["index"] for line in lines_of(result)] == [0, 1]


def test_classify_chat_wraps_each_conversation_as_an_instruct_request(api, cli, tmp_path):
    api.add("POST", CHAT_CLASSIFICATIONS, chat_answer(2, moderation=False))
    path = tmp_path / "chats.json"
    path.write_text(json.dumps([{"messages": CONVERSATION}, CONVERSATION]), encoding="utf-8")
    result = cli("classifiers", "classify-chat", "-m", MODEL, "--messages", path, "-o", "json")
    assert result.exit_code == 0, result
    assert api.last("POST", CHAT_CLASSIFICATIONS).json == {
        "model": MODEL, "input": [{"messages": CONVERSATION}, {"messages": CONVERSATION}]}
    assert json.loads(result.stdout)["id"] == "x-1"


def test_classify_chat_one_conversation_is_one_instruct_request(api, cli, tmp_path):
    api.add("POST", CHAT_CLASSIFICATIONS, chat_answer(1, moderation=False))
    path = tmp_path / "convo.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in CONVERSATION), encoding="utf-8")
    assert cli("classifiers", "classify-chat", "-m", MODEL, "--messages", path).exit_code == 0
    assert api.last("POST", CHAT_CLASSIFICATIONS).json["input"] == {"messages": CONVERSATION}


@pytest.mark.parametrize("content, message", [
    ('[{"role": "robot", "content": "x"}]', "role 'robot'"),
    ('[[{"role": "user", "content": "x"}], {"role": "user", "content": "y"}]', "mixes"),
    ("[[]]", "conversation 0 is empty"),
    ("not json", "not valid JSON"),
])
def test_bad_message_files_stop_before_any_request(api, cli, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = cli("classifiers", "moderate-chat", "--messages", path)
    assert result.exit_code == 2
    assert message in result.stderr
    assert api.requests == []


# -- the parsers never raise anything but UsageError ----------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_fail_on_parser_raises_only_usage_errors(text):
    try:
        parsed = verdicts.parse_fail_on(text)
    except UsageError:
        return
    assert parsed is not None and all(verdicts.NAME.fullmatch(name) for name in parsed)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(), st.floats(allow_nan=True).map(str)))
def test_threshold_parser_raises_only_usage_errors(text):
    try:
        value = verdicts.parse_threshold(text)
    except UsageError:
        return
    assert value is not None and 0 <= value <= 1


def test_gate_matching():
    gate = verdicts.Gate(frozenset({"negative"}))
    assert gate.trips({"sentiment.negative"}) and not gate.trips({"sentiment.positive"})
    assert verdicts.Gate(frozenset()).trips({"x"}) and not verdicts.Gate(frozenset()).trips(set())
    assert not verdicts.Gate(None).trips({"x"})


def test_a_real_pipeline_gates_on_exit_6(api, run_mcli):
    """`... | mcli classifiers moderate --fail-on any && publish`: a real process and pipe."""
    api.add("POST", MODERATIONS, moderations, times=2)
    flagged = run_mcli("classifiers", "moderate", "--fail-on", "any", input="fine\nbad one\n")
    assert flagged.returncode == 6
    assert [json.loads(line)["flagged"] for line in flagged.stdout.splitlines()] == [
        [], ["violence_and_threats"]]
    clean = run_mcli("classifiers", "moderate", "--fail-on", "any", input="fine\nall good\n")
    assert (clean.returncode, clean.stderr) == (0, "")
