"""Property test (Hypothesis) of `batchrun/in_order.py`, which puts a batch job's result lines
back on their inputs: whatever the server writes (any order, lines missing, lines for inputs
never sent, ids that are numbers or padded, twins with other answers, garbage, blank lines,
output and error files mixed), every input gets its own first answer or an error, never
another input's answer, and the inputs come out in order."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mistral_cli.batchrun.in_order import in_order
from mistral_cli.batchrun.requests_file import request_line

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
GARBAGE = st.sampled_from(["not json {", "[1, 2]", "null", '"text"', '{"custom_id": null}', "   ",
                           '{"custom_id": "-1"}', '{"custom_id": "1e3"}', '{"custom_id": "../../x"}',
                           '{"custom_id": "\\u0661"}'])


def answer(custom_id, number: int, twin: int = 0) -> dict:
    """A result line whose answer names the input it is for (NUMBER) and which copy it is."""
    return {"custom_id": custom_id, "response": {"status_code": 200, "body": {"for": number, "twin": twin}}}


@st.composite
def served(draw):
    """(first, count, lines of the output file, lines of the error file, what each input's
    first line was)."""
    first = draw(st.integers(0, 50))
    count = draw(st.integers(1, 25))
    lines: list[str] = []
    firsts: dict[int, str] = {}
    for number in range(first, first + count):
        fate = draw(st.sampled_from(["answer", "answer", "error", "missing", "as a number", "padded"]))
        if fate == "answer":
            lines.append(json.dumps(answer(str(number), number)))
        elif fate == "error":
            lines.append(json.dumps({"custom_id": str(number), "error": {"message": f"no {number}"}}))
        elif fate == "as a number":
            lines.append(json.dumps(answer(number, number)))
        elif fate == "padded":
            lines.append(json.dumps(answer(f"0{number}", number)))
        if fate in ("answer", "error"):
            firsts.setdefault(number, fate)
    for _ in range(draw(st.integers(0, 5))):  # twins of real inputs, strangers, garbage
        kind = draw(st.sampled_from(["twin", "stranger", "garbage"]))
        if kind == "twin":
            number = draw(st.integers(first, first + count - 1))
            lines.append(json.dumps(answer(str(number), number, twin=1)))
        elif kind == "stranger":
            lines.append(json.dumps(answer(str(draw(st.sampled_from([first - 1, first + count, 10**12]))), -1)))
        else:
            lines.append(draw(GARBAGE))
    order = draw(st.permutations(range(len(lines))))
    shuffled = [lines[i] for i in order]
    split = draw(st.integers(0, len(shuffled)))
    # the first line for each input, in the order the files are read (output, then error)
    seen: dict[int, dict] = {}
    for line in shuffled[:split] + shuffled[split:]:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("custom_id"), str) and item["custom_id"].isascii() \
                and item["custom_id"].isdigit() and str(int(item["custom_id"])) == item["custom_id"]:
            number = int(item["custom_id"])
            if first <= number < first + count:
                seen.setdefault(number, item)
    return first, count, shuffled[:split], shuffled[split:], seen


@SETTINGS
@given(case=served())
def test_every_input_gets_its_own_first_answer_or_an_error(tmp_path, case):
    first, count, output_lines, error_lines, seen = case
    requests = tmp_path / "requests.jsonl"
    requests.write_text("".join(request_line(number, {"input": [f"text {number}"]})
                                for number in range(first, first + count)))
    output, errors = tmp_path / "output.jsonl", tmp_path / "error.jsonl"
    output.write_text("".join(line + "\n" for line in output_lines))
    errors.write_text("".join(line + "\n" for line in error_lines))
    warnings: list[str] = []
    outcomes = list(in_order(requests, [output, errors], first, count, warnings.append))
    assert [outcome.number for outcome in outcomes] == list(range(first, first + count))
    for outcome in outcomes:
        assert outcome.request == {"input": [f"text {outcome.number}"]}
        expected = seen.get(outcome.number)
        if expected is None or "error" in expected:
            assert outcome.body is None and outcome.error
        else:
            assert outcome.error is None
            assert outcome.body == expected["response"]["body"]
            assert outcome.body["for"] == outcome.number
