"""Budgets: `--max-cost` refuses a run whose estimate passes it before anything is sent, stops a
run of unknown length before the request that would pass it (the printed command resumes it,
paying nothing twice); `--estimate` sends nothing; profile budgets refuse and warn at 80%."""

from __future__ import annotations

import json
import os
import re
import shlex

from mistral_cli.store.budget import TOKENS_PER_TEXT, token_bound
from tests.fakeapi import json_response

PATH = "/v1/embeddings"
EMBED_PRICE = 0.1e-6  # mistral-embed (mistral-embed-2312): 0.1 USD a million tokens
USAGE = 20  # the prompt tokens the fake answers each request with


def answer(req, usage: int = USAGE) -> object:
    """An EmbeddingResponse of USAGE prompt tokens, one small vector per input."""
    inputs = req.json["input"]
    return json_response({"id": "emb-1", "object": "list", "model": "mistral-embed",
                          "data": [{"object": "embedding", "index": i, "embedding": [float(i), 1.0]}
                                   for i in range(len(inputs))],
                          "usage": {"prompt_tokens": usage, "completion_tokens": 0, "total_tokens": usage}})


def numbered(count: int) -> str:
    return "".join(f"t{n}\n" for n in range(count))


def write_config(text: str) -> None:
    with open(os.path.join(os.environ["MCLI_CONFIG_DIR"], "config.toml"), "w", encoding="utf-8") as handle:
        handle.write(text)


def indexes(result) -> list[int]:
    return [json.loads(line)["index"] for line in result.stdout.splitlines()]


# -- tokens ------------------------------------------------------------------------------------


def test_the_token_bound_is_the_utf8_bytes_plus_a_margin():
    assert token_bound("abc") == 3 + TOKENS_PER_TEXT
    assert token_bound("é€") == 5 + TOKENS_PER_TEXT  # bytes, not characters


# -- --max-cost ----------------------------------------------------------------------------------


def test_an_embeddings_run_over_max_cost_is_refused_before_any_request(api, cli, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(numbered(10), encoding="utf-8")
    result = cli("embeddings", "-f", corpus, "--max-cost", "0.000001")
    assert result.exit_code == 7, result
    assert api.requests_to("POST", PATH) == []
    assert "--max-cost 0.000001 USD" in result.stderr and "nothing was sent" in result.stderr
    tokens = sum(token_bound(f"t{n}") for n in range(10))
    assert f"at most {tokens:,} prompt tokens" in result.stderr, result.stderr


def test_a_run_within_max_cost_sends_everything(api, cli):
    api.add("POST", PATH, answer)
    result = cli("embeddings", "t0", "t1", "--max-cost", "1")
    assert result.exit_code == 0, result
    assert indexes(result) == [0, 1]


def test_a_piped_run_stops_before_passing_max_cost_and_the_printed_command_resumes_it(api, cli):
    api.add("POST", PATH, answer, times=5)
    group = sum(token_bound(f"t{n}") for n in range(4)) * EMBED_PRICE  # a group's estimate
    cap = USAGE * EMBED_PRICE + group + 0.5 * USAGE * EMBED_PRICE  # room for two groups, not three
    first = cli("embeddings", "--per-request", "4", "-j", "1", "--max-cost", f"{cap:.10f}", input=numbered(20))
    assert first.exit_code == 7, first
    assert indexes(first) == list(range(8))
    assert len(api.requests_to("POST", PATH)) == 2
    command = re.search(r"resume with \(given the same input\): (.*)", first.stderr).group(1)
    words = shlex.split(command)
    assert words[0] == "mcli" and words[-2:] == ["--skip", "8"], command
    again = cli(*words[1:], input=numbered(20))  # exactly as printed: the same cap, for this run
    assert again.exit_code == 7, again
    assert indexes(again) == list(range(8, 16))
    words = shlex.split(re.search(r"resume with \(given the same input\): (.*)", again.stderr).group(1))
    assert words[-2:] == ["--skip", "16"] and words.count("--skip") == 1, words
    words[words.index("--max-cost") + 1] = "1"  # a larger cap
    second = cli(*words[1:], input=numbered(20))
    assert second.exit_code == 0, second
    assert indexes(second) == list(range(16, 20))
    sent = [text for req in api.requests_to("POST", PATH) for text in req.json["input"]]
    assert sent == [f"t{n}" for n in range(20)]  # every text sent once: nothing paid twice


def test_a_model_without_a_price_is_refused_under_a_budget(api, cli):
    result = cli("embeddings", "t0", "-m", "my-own-embed", "--max-cost", "1")
    assert result.exit_code == 7, result
    assert "no price for my-own-embed" in result.stderr
    assert '[prices.models."my-own-embed"]' in result.stderr
    assert api.requests_to("POST", PATH) == []


# -- --estimate ------------------------------------------------------------------------------------


def test_estimate_prints_the_run_and_sends_nothing(api, cli, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(numbered(10), encoding="utf-8")
    result = cli("embeddings", "-f", corpus, "--per-request", "4", "--estimate", "-o", "json")
    assert result.exit_code == 0, result
    tokens = sum(token_bound(f"t{n}") for n in range(10))
    body = json.loads(result.stdout)
    assert (body["requests"], body["prompt_tokens"], body["model"], body["currency"]) == (3, tokens, "mistral-embed", "USD")
    assert abs(body["cost"] - tokens * EMBED_PRICE) < 1e-12
    assert api.requests_to("POST", PATH) == []
    plain = cli("embeddings", "--estimate", input=numbered(3))
    assert plain.exit_code == 0 and "nothing was sent" in plain.stdout, plain


def test_estimate_at_the_batch_rate_halves_the_cost(api, cli):
    online = json.loads(cli("embeddings", "t0", "t1", "--estimate", "-o", "json").stdout)
    batch = json.loads(cli("embeddings", "t0", "t1", "--via", "batch", "--estimate", "-o", "json").stdout)
    assert batch["batch"] and batch["cost"] == online["cost"] / 2
    assert batch["requests"] == 2 and online["requests"] == 1


# -- profile budgets --------------------------------------------------------------------------------


def spend_today(cli, api, requests: int) -> None:
    api.add("POST", PATH, answer, times=requests)
    for _ in range(requests):
        assert cli("embeddings", "t0").exit_code == 0


def test_a_daily_budget_refuses_work_that_would_pass_it_unless_max_cost_is_given(api, cli):
    spend_today(cli, api, 2)  # 40 tokens: 0.000004 USD
    write_config("[profiles.default.budget]\ndaily = 0.000005\n")
    refused = cli("embeddings", "t0", "t1", "t2")
    assert refused.exit_code == 7, refused
    assert "budget.daily" in refused.stderr and "--max-cost" in refused.stderr
    assert len(api.requests_to("POST", PATH)) == 2
    api.add("POST", PATH, answer)
    allowed = cli("embeddings", "t0", "t1", "t2", "--max-cost", "1")
    assert allowed.exit_code == 0, allowed


def test_the_80_percent_warning_comes_once_a_day(api, cli):
    spend_today(cli, api, 1)  # 0.000002 USD
    write_config("[profiles.default.budget]\ndaily = 0.00001\n")
    api.add("POST", PATH, answer, times=4)
    first = cli("embeddings", "t0" * 20)  # 44 tokens at most: 0.0000044, with today's spend 64%
    assert first.exit_code == 0 and "warning" not in first.stderr, first
    second = cli("embeddings", "t0" * 20)  # 0.000004 spent + 0.0000044: 84%
    assert second.exit_code == 0, second
    assert second.stderr.count("mcli: warning: budget.daily:") == 1, second.stderr
    third = cli("embeddings", "t0" * 10)  # 0.000006 spent + 0.0000024: 84% again, the same day
    assert third.exit_code == 0 and "warning" not in third.stderr, third
    warned = os.path.join(os.environ["MCLI_DATA_DIR"], "budget-warned")
    with open(warned, "w", encoding="utf-8") as handle:
        handle.write("budget.daily 2000-01-01\n")  # the last warning was another day
    fourth = cli("embeddings", "t0")  # 0.000008 spent + 0.0000006: 86%
    assert fourth.exit_code == 0 and "mcli: warning: budget.daily:" in fourth.stderr, fourth


def test_with_the_ledger_off_answered_requests_count_at_their_estimate(api, cli):
    group = sum(token_bound(f"t{n}") for n in range(4)) * EMBED_PRICE
    args = ("embeddings", "--per-request", "4", "-j", "1", "--max-cost", f"{2.5 * group:.10f}")
    api.add("POST", PATH, lambda req: answer(req, usage=1), times=5)
    recorded = cli(*args, input=numbered(12))  # the ledger counts 1 token an answer: all three fit
    assert recorded.exit_code == 0 and indexes(recorded) == list(range(12)), recorded
    write_config("[profiles.default]\nledger = false\n")
    unrecorded = cli(*args, input=numbered(12))  # nothing recorded: each answer counts its estimate
    assert unrecorded.exit_code == 7, unrecorded
    assert indexes(unrecorded) == list(range(8)) and "--skip 8" in unrecorded.stderr


# -- the other commands over texts and chats ----------------------------------------------------------


def moderation(req) -> object:
    return json_response({"id": "mod-1", "model": "mistral-moderation-2411",
                          "results": [{"categories": {"sexual": False}, "category_scores": {"sexual": 0.01}}
                                      for _ in req.json["input"]],
                          "usage": {"prompt_tokens": USAGE, "completion_tokens": 0, "total_tokens": USAGE}})


def test_moderate_stops_before_passing_max_cost_like_embeddings(api, cli):
    api.add("POST", "/v1/moderations", moderation, times=2)
    model = ("-m", "mistral-moderation-2411")  # the -latest alias has no published price
    group = sum(token_bound(f"t{n}") for n in range(4)) * EMBED_PRICE
    cap = USAGE * EMBED_PRICE + group + 0.5 * USAGE * EMBED_PRICE
    first = cli("classifiers", "moderate", *model, "--per-request", "4", "-j", "1", "-o", "jsonl",
                "--max-cost", f"{cap:.10f}", input=numbered(12))
    assert first.exit_code == 7, first
    assert len(first.stdout.splitlines()) == 8 and "--skip 8" in first.stderr


def test_moderation_with_its_unpriced_default_model_is_refused_under_a_budget(api, cli):
    result = cli("classifiers", "moderate", "text", "--max-cost", "1")
    assert result.exit_code == 7 and "no price for mistral-moderation-latest" in result.stderr, result
    assert api.requests == []


def test_a_chat_moderation_estimate_counts_its_conversations(api, cli, tmp_path):
    chats = tmp_path / "chats.jsonl"
    chats.write_text('[{"role": "user", "content": "hi"}]\n[{"role": "user", "content": "yo"}]\n', encoding="utf-8")
    args = ("classifiers", "moderate-chat", "--messages", chats, "-m", "mistral-moderation-2411", "-o", "json")
    online = json.loads(cli(*args, "--estimate").stdout)
    batch = json.loads(cli(*args, "--estimate", "--via", "batch").stdout)
    assert (online["requests"], batch["requests"]) == (1, 2)
    assert online["prompt_tokens"] == batch["prompt_tokens"] > 0
    assert api.requests == []


def test_piped_texts_on_the_batch_route_are_refused_before_any_upload(api, cli):
    result = cli("embeddings", "--via", "batch", "--max-cost", "0.0000001", input=numbered(10))
    assert result.exit_code == 7, result
    assert "nothing was sent" in result.stderr
    assert api.requests == []


# -- ocr ----------------------------------------------------------------------------------------------


def test_ocr_counts_a_local_pdfs_pages_and_refuses_past_max_cost_before_the_upload(api, cli, tmp_path):
    from tests.ocr_helpers import pdf_bytes

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_bytes())
    shown = json.loads(cli("ocr", pdf, "--estimate", "-o", "json").stdout)
    assert (shown["pages"], shown["cost"], shown["currency"]) == (1, 0.004, "USD")  # 4 USD a thousand pages
    refused = cli("ocr", pdf, "--max-cost", "0.001")
    assert refused.exit_code == 7 and "nothing was sent" in refused.stderr, refused
    assert api.requests == []


def test_ocr_of_a_url_under_a_budget_needs_its_pages(api, cli):
    url = "https://example.com/report.pdf"
    refused = cli("ocr", url, "--max-cost", "1")
    assert refused.exit_code == 7 and "--pages" in refused.stderr, refused
    shown = json.loads(cli("ocr", url, "--pages", "0-2", "--estimate", "-o", "json").stdout)
    assert shown["pages"] == 3 and shown["cost"] == 0.012
    assert api.requests == []


# -- batch create ---------------------------------------------------------------------------------------


def test_batch_create_from_prompts_estimates_at_the_batch_rate_and_refuses_past_max_cost(api, cli):
    prompts = "What is 2+2?\nName a colour.\n"
    args = ("batch", "create", "--from-prompts", "-", "-m", "mistral-small-latest", "--max-tokens", "50")
    shown = json.loads(cli(*args, "--estimate", "-o", "json", input=prompts).stdout)
    assert (shown["requests"], shown["completion_tokens"], shown["batch"]) == (2, 100, True)
    # mistral-small-2603: 0.15 and 0.6 USD a million tokens, half price in a batch
    assert abs(shown["cost"] - (shown["prompt_tokens"] * 0.15e-6 + 100 * 0.6e-6) / 2) < 1e-12
    refused = cli(*args, "--max-cost", f"{shown['cost'] / 2:.10f}", input=prompts)
    assert refused.exit_code == 7 and "nothing was sent" in refused.stderr, refused
    assert api.requests == []  # neither the upload nor the create


def test_batch_create_with_an_uploaded_file_is_refused_under_a_budget(api, cli):
    result = cli("batch", "create", "-i", "3fa85f64-5717-4562-b3fc-2c963f66afa6", "--endpoint", "/v1/embeddings",
                 "-m", "mistral-embed", "--max-cost", "1")
    assert result.exit_code == 7 and "--input" in result.stderr, result
    assert api.requests == []


# -- chat -n ---------------------------------------------------------------------------------------------


def test_chat_estimate_counts_n_answers_of_max_tokens_and_sends_nothing(api, cli):
    shown = cli("chat", "hi", "-n", "3", "--max-tokens", "100", "--estimate", "-o", "json")
    assert shown.exit_code == 0, shown
    body = json.loads(shown.stdout)
    assert (body["requests"], body["completion_tokens"], body["model"]) == (1, 300, "mistral-small-latest")
    assert api.requests == []


def test_chat_with_n_answers_past_max_cost_is_refused_before_the_request(api, cli):
    # 3 answers of at most 1,000,000 tokens at 0.6 USD a million: 1.8 USD at most
    refused = cli("chat", "hi", "-n", "3", "--max-tokens", "1000000", "--max-cost", "1", "--no-stream")
    assert refused.exit_code == 7 and "--max-cost 1" in refused.stderr, refused
    assert api.requests == []


def test_chat_within_max_cost_is_sent(api, cli):
    result = cli("chat", "hi", "--max-tokens", "10", "--max-cost", "1")
    assert result.exit_code == 0, result
    assert len(api.requests) == 1


def test_the_budget_keys_are_set_checked_and_listed(cli):
    assert cli("config", "set", "budget.daily", "2.5").exit_code == 0
    assert cli("config", "set", "budget.monthly", "40").exit_code == 0
    got = json.loads(cli("config", "get", "budget.daily", "-o", "json").stdout)
    assert got["value"] == 2.5 and got["source"] == "profile"
    bad = cli("config", "set", "budget.daily", "-1")
    assert bad.exit_code == 2 and "amount of money" in bad.stderr, bad


def test_batch_create_with_a_line_of_an_unpriced_model_is_refused_under_a_budget(api, cli, tmp_path):
    requests = tmp_path / "requests.jsonl"
    requests.write_text('{"custom_id": "1", "body": {"input": ["a"]}}\n'
                        '{"custom_id": "2", "body": {"model": "my-own-embed", "input": ["b"]}}\n', encoding="utf-8")
    result = cli("batch", "create", "-i", requests, "--endpoint", "/v1/embeddings", "-m", "mistral-embed",
                 "--max-cost", "1")
    assert result.exit_code == 7 and "cannot estimate" in result.stderr, result
    assert api.requests == []


def test_an_agent_under_max_cost_is_refused_its_model_being_unknown_here(api, cli):
    agent = "ag:3996db2b:20240805:support:a1b2c3d4"
    result = cli("agents", agent, "hi", "--max-cost", "1")
    assert result.exit_code == 7 and f"no price for {agent}" in result.stderr, result
    assert api.requests == []


def test_chat_asking_for_several_answers_is_held_to_the_monthly_budget(api, cli):
    write_config("[profiles.default.budget]\nmonthly = 0.001\n")
    refused = cli("chat", "hi", "-n", "2", "--max-tokens", "1000")  # 2,000 tokens at 0.6 USD a million
    assert refused.exit_code == 7 and "budget.monthly" in refused.stderr, refused
    one = cli("chat", "hi", "--max-tokens", "1000")  # one answer: not estimated
    assert one.exit_code == 0, one
    assert len(api.requests) == 1
