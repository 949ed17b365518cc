"""The training-file validators and the create option parsers: examples, the official SDK's
example shapes, and Hypothesis properties (any text gives a value or mcli's UsageError)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mistral_cli.commands.fine_tuning import parse
from mistral_cli.errors import UsageError
from mistral_cli.validate.training import (check_chat_line, check_classifier_line,
                                           check_training_file)

SYSTEM = {"role": "system", "content": "You are a terse assistant."}
USER = {"role": "user", "content": "How far away is the Moon?"}
ANSWER = {"role": "assistant", "content": "About 384,400 km."}
CALL = {"role": "assistant", "content": "", "tool_calls": [
    {"id": "k2Vq9ZtRw", "type": "function",
     "function": {"name": "lookup", "arguments": "{\"body\": \"moon\"}"}}]}
RESULT = {"role": "tool", "content": "{\"distance_km\": 384400}", "tool_call_id": "k2Vq9ZtRw"}


def problems(line) -> list[tuple[str, str]]:
    return list(check_chat_line(line))


# -- the shapes of the official SDK's example files (written here, not copied) ----------


def test_sdk_chat_example_shape_passes(tmp_path):
    """examples/fixtures/ft_training_file.jsonl in mistralai/client-python: system, user,
    assistant, one conversation per line, a newline after each."""
    path = tmp_path / "ft_training_file.jsonl"
    rows = [{"messages": [{"role": "system", "content": "Zed answers questions about space, briefly."},
                          {"role": "user", "content": question},
                          {"role": "assistant", "content": answer}]}
            for question, answer in [("Which planet is largest?", "Jupiter."),
                                     ("What orbits the Earth?", "The Moon, among others."),
                                     ("Is Pluto a planet?", "A dwarf planet, since 2006.")]]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    report = check_training_file(path)
    assert report.ok, report.shown()
    assert report.examples == 3


def test_sdk_classifier_example_shape_passes(tmp_path):
    """examples/fixtures/classifier_sentiments.jsonl: text and one label per target, and no
    newline after the last line."""
    path = tmp_path / "classifier_sentiments.jsonl"
    rows = [{"text": "Lovely weather for a walk.", "labels": {"sentiment": "positive"}},
            {"text": "The train is late again.", "labels": {"sentiment": "negative"}},
            {"text": "The shop opens at nine.", "labels": {"sentiment": "neutral"}}]
    path.write_text("\n".join(json.dumps(row) for row in rows))
    targets = {"sentiment": frozenset({"positive", "negative", "neutral"})}
    report = check_training_file(path, "classifier", targets)
    assert report.ok, report.shown()
    assert report.examples == 3


def test_cookbook_dataset_keys_beside_messages_are_allowed():
    """The fine-tuning cookbook writes ultrachat rows with `prompt` and `prompt_id` too."""
    assert problems({"prompt": "Hi", "prompt_id": "a1", "messages": [USER, ANSWER]}) == []


# -- chat format -------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    {"messages": [USER, ANSWER]},
    {"messages": [SYSTEM, USER, ANSWER, USER, {**ANSWER, "weight": 0}, USER, {**ANSWER, "weight": 1}]},
    {"messages": [SYSTEM, USER, CALL, RESULT, ANSWER], "tools": [{"type": "function"}]},
    {"messages": [USER, {"role": "assistant", "tool_calls": [
        {"id": "a", "function": {"name": "f", "arguments": {}}},
        {"id": "b", "function": {"name": "g", "arguments": "{}"}}]},
        {"role": "tool", "content": "1", "tool_call_id": "b"},
        {"role": "tool", "content": "2", "tool_call_id": "a"}, ANSWER]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"}]}, ANSWER]},
])
def test_good_chat_lines_pass(line):
    assert problems(line) == []


@pytest.mark.parametrize("line, expected", [
    ([1], ("", "expected a JSON object, got a list")),
    ({}, ("messages", "missing")),
    ({"messages": []}, ("messages", "must be a non-empty list of messages")),
    ({"messages": [USER]}, ("messages[0].role", "the last message must be from the assistant (got 'user')")),
    ({"messages": [{"role": "human", "content": "x"}, ANSWER]}, ("messages[0].role", "unknown role 'human' (expected system, user, assistant, tool)")),
    ({"messages": [{"role": ["user"], "content": "x"}, ANSWER]}, ("messages[0].role", "unknown role ['user'] (expected system, user, assistant, tool)")),
    ({"messages": [{"content": "x"}, ANSWER]}, ("messages[0].role", "missing")),
    ({"messages": ["hi", ANSWER]}, ("messages[0]", "expected an object, got a string")),
    ({"messages": [{"role": "user"}, ANSWER]}, ("messages[0].content", "missing")),
    ({"messages": [{"role": "user", "content": ""}, ANSWER]}, ("messages[0].content", "is empty")),
    ({"messages": [{"role": "user", "content": 3}, ANSWER]}, ("messages[0].content", "must be a string or a list of chunks, got a number")),
    ({"messages": [SYSTEM, ANSWER]}, ("messages", "no user message")),
    ({"messages": [USER, {**ANSWER, "weight": 0.5}]}, ("messages[1].weight", "must be 0 or 1 (got 0.5)")),
    ({"messages": [USER, {**ANSWER, "weight": True}]}, ("messages[1].weight", "must be 0 or 1 (got True)")),
    ({"messages": [{**USER, "weight": 1}, ANSWER]}, ("messages[0].weight", "only assistant messages take a weight")),
    ({"messages": [USER, CALL, ANSWER]}, ("messages[1].tool_calls[0].id", "tool call 'k2Vq9ZtRw' is not answered by a tool message")),
    ({"messages": [USER, CALL]}, ("messages[1].tool_calls[0].id", "tool call 'k2Vq9ZtRw' is not answered by a tool message")),
    ({"messages": [USER, CALL, {**RESULT, "tool_call_id": "zz"}, ANSWER]}, ("messages[2].tool_call_id", "'zz' answers no pending tool call")),
    ({"messages": [USER, CALL, {"role": "tool", "content": "x"}, ANSWER]}, ("messages[2].tool_call_id", "missing")),
    ({"messages": [USER, {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}, ANSWER]},
     ("messages[1].tool_calls[0].id", "missing (a tool message answers a call by its id)")),
    ({"messages": [USER, {"role": "assistant", "tool_calls": [{"id": "a", "function": {"arguments": 1}}]}, RESULT]},
     ("messages[1].tool_calls[0].function.name", "missing")),
    ({"messages": [USER, {"role": "assistant", "tool_calls": "f"}]}, ("messages[1].tool_calls", "must be a list, got a string")),
])
def test_bad_chat_lines_name_the_field(line, expected):
    assert expected in problems(line)


@pytest.mark.parametrize("line, expected", [
    ({"text": "x"}, ("labels", "missing")),
    ({"labels": {"a": "b"}}, ("text", "missing")),
    ({"text": "x", "labels": {"a": ""}}, ("labels.a", "must be a label or a non-empty list of labels")),
    ({"text": "x", "labels": {"a": [1]}}, ("labels.a", "must be a label or a non-empty list of labels")),
    ({"text": "x", "labels": ["a"]}, ("labels", "must be an object of target names to a label or a list of labels")),
])
def test_bad_classifier_lines_name_the_field(line, expected):
    assert expected in list(check_classifier_line(line))


def test_classifier_lines_may_hold_messages_and_several_labels():
    assert list(check_classifier_line({"messages": [USER], "labels": {"topic": ["space", "science"]}})) == []


def test_classifier_targets_check_names_and_labels():
    targets = {"sentiment": frozenset({"positive", "negative"})}
    found = list(check_classifier_line({"text": "x", "labels": {"mood": "positive", "sentiment": "meh"}}, targets))
    assert found == [("labels.mood", "unknown target (the job's targets: sentiment)"),
                     ("labels.sentiment", "unknown label 'meh' (target 'sentiment' has negative, positive)")]


def test_an_empty_file_is_a_problem(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert check_training_file(path).shown() == [f"{path}:1: the file is empty"]


def test_bad_json_is_reported_with_its_line_number_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"messages": [USER, ANSWER]}) + "\n\n{oops\n")
    report = check_training_file(path)
    assert report.shown() == [f"{path}:3: not valid JSON (Expecting property name enclosed in double quotes)"]
    assert report.blank_lines == 1


def test_a_file_ending_with_a_blank_line_is_good(tmp_path):
    """The official SDK's example validation file ends with a blank line."""
    path = tmp_path / "valid.jsonl"
    path.write_text(json.dumps({"messages": [USER, ANSWER]}) + "\n  \n\n")
    report = check_training_file(path)
    assert report.ok and report.examples == 1 and report.blank_lines == 2


def test_a_file_of_blank_lines_only_is_a_problem(tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_text("\n\n")
    assert check_training_file(path).shown() == [f"{path}:1: only blank lines, no example"]


# -- option parsers ----------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("train.jsonl", ("train.jsonl", None)),
    ("train.jsonl:2", ("train.jsonl", 2.0)),
    ("3fa85f64-5717-4562-b3fc-2c963f66afa6:0.5", ("3fa85f64-5717-4562-b3fc-2c963f66afa6", 0.5)),
    ("C:\\data\\train.jsonl", ("C:\\data\\train.jsonl", None)),
])
def test_parse_training_file(text, expected):
    assert parse.parse_training_file(text) == expected


@pytest.mark.parametrize("text", ["", "a:0", "a:-1", "a:nan", "a:inf", ":2"])
def test_parse_training_file_refuses(text):
    with pytest.raises(UsageError):
        parse.parse_training_file(text)


@pytest.mark.parametrize("text, expected", [
    ("o/n", {"type": "github", "owner": "o", "name": "n", "token": "t"}),
    ("o/n@feature/x", {"type": "github", "owner": "o", "name": "n", "token": "t", "ref": "feature/x"}),
    ("o/n@v1.2:3", {"type": "github", "owner": "o", "name": "n", "token": "t", "ref": "v1.2", "weight": 3.0}),
    ("o/n:0.5", {"type": "github", "owner": "o", "name": "n", "token": "t", "weight": 0.5}),
])
def test_parse_repository(text, expected):
    assert parse.parse_repository(text, "t") == expected


@pytest.mark.parametrize("text", ["o", "o/", "/n", "o/n/x", "o/n@", "o/n@a b", "o n/x", "o/n:0"])
def test_parse_repository_refuses(text):
    with pytest.raises(UsageError):
        parse.parse_repository(text, "t")


def test_parse_classifier_target():
    assert parse.parse_classifier_target("mood = happy, sad ;weight=0.5; loss=multi_class") == {
        "name": "mood", "labels": ["happy", "sad"], "weight": 0.5, "loss_function": "multi_class"}
    assert parse.parse_classifier_target("a=b") == {"name": "a", "labels": ["b"]}


@pytest.mark.parametrize("text", ["a", "=b", "a=", "a=b,,c", "a=b,b", "a=b;weight=x", "a=b;weight=-1",
                                  "a=b;loss=hinge", "a=b;colour=red", "a=b;weight=nan"])
def test_parse_classifier_target_refuses(text):
    with pytest.raises(UsageError):
        parse.parse_classifier_target(text)


def test_classifier_targets_file_is_checked():
    good = [{"name": "a", "labels": ["x"], "weight": 1, "loss_function": "single_class"}]
    assert parse.classifier_targets_from_json(good, "f") == good
    for bad in ([], {}, [{"labels": ["x"]}], [{"name": "a", "labels": []}],
                [{"name": "a", "labels": ["x"], "weight": "1"}], [{"name": "a", "labels": ["x"], "loss_function": "l"}]):
        with pytest.raises(UsageError):
            parse.classifier_targets_from_json(bad, "f")


# -- properties: any input gives a value or mcli's own UsageError ------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["messages", "role", "content", "tool_calls", "tool_call_id", "id", "function",
                         "name", "arguments", "weight", "text", "labels", "a"]), children, max_size=5),
    max_leaves=20)
roles = st.one_of(st.sampled_from(["system", "user", "assistant", "tool", "bot"]), json_values)
messages = st.fixed_dictionaries({"role": roles}, optional={
    "content": st.one_of(st.text(max_size=5), st.none(), st.integers()),
    "weight": st.one_of(st.integers(-1, 2), st.floats(), st.booleans()),
    "tool_call_id": st.text(max_size=3),
    "tool_calls": st.lists(st.fixed_dictionaries({"id": st.text(max_size=3)}, optional={
        "function": st.fixed_dictionaries({"name": st.text(max_size=3), "arguments": json_values})}), max_size=2)})
chat_lines = st.fixed_dictionaries({"messages": st.lists(messages, max_size=6)})


def _quietly(checker, value) -> list:
    return [(field, message) for field, message in checker(value)
            if isinstance(field, str) and isinstance(message, str)]


@settings(max_examples=100, deadline=None)
@given(st.one_of(json_values, chat_lines))
def test_chat_check_never_raises(value):
    found = list(check_chat_line(value))
    assert found == _quietly(check_chat_line, value)


@settings(max_examples=100, deadline=None)
@given(json_values, st.one_of(st.none(), st.just({"a": frozenset({"x"})})))
def test_classifier_check_never_raises(value, targets):
    list(check_classifier_line(value, targets))


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=200))
def test_validating_any_bytes_never_raises(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("any") / "x.jsonl"
    path.write_bytes(data)
    for kind in ("completion", "classifier"):
        check_training_file(path, kind)


def _only_usage_errors(function, *args):
    try:
        function(*args)
    except UsageError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_option_parsers_raise_only_usage_errors(text):
    _only_usage_errors(parse.parse_training_file, text)
    _only_usage_errors(parse.parse_repository, text, "token")
    _only_usage_errors(parse.parse_classifier_target, text)


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[a-z=,;:.@/0-9 -]{0,30}", fullmatch=True))
def test_option_parsers_raise_only_usage_errors_on_near_misses(text):
    test_option_parsers_raise_only_usage_errors.hypothesis.inner_test(text)


@settings(max_examples=80, deadline=None)
@given(json_values)
def test_classifier_targets_file_raises_only_usage_errors(value):
    _only_usage_errors(parse.classifier_targets_from_json, value, "f")


text_messages = st.fixed_dictionaries({"role": st.one_of(st.sampled_from(["system", "user", "assistant", "tool"]), json_values),
                                       "content": st.one_of(st.text(max_size=3), st.integers())})


@settings(max_examples=100, deadline=None)
@given(st.one_of(json_values, chat_lines, st.fixed_dictionaries({"messages": st.lists(text_messages, max_size=5)})))
def test_the_fast_path_passes_only_lines_the_full_check_passes(value):
    from mistral_cli.validate.training import _chat_problems, _plainly_good

    if _plainly_good(value):
        assert list(_chat_problems(value)) == []
