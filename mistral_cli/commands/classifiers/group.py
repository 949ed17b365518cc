"""`mcli classifiers`: moderate and classify texts (batched like embeddings) and chats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.commands.classifiers import verdicts as v
from mistral_cli.commands.shared import text_groups as b
from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import BodyOpt, FieldOpt, OutputOpt, env_of, epilog, number_option
from mistral_cli.inputs import request_base
from mistral_cli.commands.shared.interval import ROUTE_INTERVAL
from mistral_cli.commands.shared.spending import (EstimateOpt, MaxCostOpt, capped_inputs, messages_tokens, start_run,
                                                start_text_run)
from mistral_cli.commands.shared.via import IntervalOpt, NewOpt, Via, ViaOpt, check_route, run_batch, run_texts
from mistral_cli.errors import UsageError
from mistral_cli.render.combined_json import CombinedJson
from mistral_cli.render.output import OutputFormat, dumps, for_stdout, write_jsonl

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

app = McliTyper(help="Moderate and classify texts and chats; gate pipelines with --fail-on.",
                no_args_is_help=True,
                epilog=epilog('mcli classifiers moderate "some text"',
                              "mcli classifiers moderate -f post.txt --fail-on any && publish post.txt"))

TEXT_FIELDS = frozenset({"input", "model"})  # ClassificationRequest
CHAT_FIELDS = frozenset({"input", "model"})  # ChatModerationRequest, ChatClassificationRequest
TITLE_WIDTH = 60
GATE = "Gate"

TextsArg = Annotated[Optional[list[str]], typer.Argument(
    help="Texts (else --input-file, else piped stdin lines).", show_default=False)]
ModerationModelOpt = Annotated[Optional[str], typer.Option(
    "--model", "-m", show_default=False,
    help="Model (default: the profile's model.moderation, else mistral-moderation-latest).")]
ClassifierModelOpt = Annotated[str, typer.Option(
    "--model", "-m", show_default=False, help="A classifier model (a fine-tuned one: ft:...).")]
MessagesOpt = Annotated[Path, typer.Option(
    "--messages", metavar="FILE|-", show_default=False,
    help="A conversation (JSON array or JSONL of messages), or a list of them ('-' = stdin).")]
FailOnOpt = Annotated[Optional[str], typer.Option(
    "--fail-on", metavar="CATEGORY[,..]|any", show_default=False, rich_help_panel=GATE,
    help="Exit 6 when an input is flagged in one of these categories (any: in any); "
         "moderation: " + ", ".join(v.MODERATION_CATEGORIES) + ".")]
ThresholdOpt = Annotated[Optional[float], number_option(
    v.THRESHOLD, metavar="X", show_default=False, rich_help_panel=GATE,
    help="Flag every category scoring X or more, instead of the API's flags.")]


def register(root: typer.Typer) -> None:
    """Add the `classifiers` group to the root app."""
    root.add_typer(app, name="classifiers")


# -- the commands --------------------------------------------------------------------------

@app.command("moderate", epilog=epilog(
    'mcli classifiers moderate "some user comment"',
    "cat comments.txt | mcli classifiers moderate > verdicts.jsonl",
    "mcli classifiers moderate --input-file post.txt --fail-on any && publish post.txt",
    "mcli classifiers moderate -f comments.txt --fail-on violence_and_threats,selfharm --threshold 0.4",
    "mcli classifiers moderate -f posts.txt --via batch > verdicts.jsonl",
    'mcli classifiers moderate "text" -o text'))
def moderate(ctx: typer.Context, texts: TextsArg = None, model: ModerationModelOpt = None,
             input_file: b.InputFileOpt = None, no_stdin: b.NoStdinOpt = False,
             per_request: b.PerRequestOpt = b.DEFAULT_PER_REQUEST, batch_size: b.OldPerRequestOpt = None,
             concurrency: b.ConcurrencyOpt = b.DEFAULT_CONCURRENCY, skip: b.SkipOpt = 0,
             fail_on: FailOnOpt = None, threshold: ThresholdOpt = None,
             via: ViaOpt = Via.online, new: NewOpt = False, interval: IntervalOpt = ROUTE_INTERVAL,
             body: BodyOpt = None, body_fields: FieldOpt = None,
             max_cost: MaxCostOpt = None, estimate: EstimateOpt = False,
             output: OutputOpt = OutputFormat.table) -> None:
    """Moderate texts: per-category scores and flags, one result per input."""
    base = request_base(env_of(ctx), body, body_fields, TEXT_FIELDS, "classifiers moderate")
    env, chosen, gate = _moderation(ctx, via, interval, model or base.pop("model", None), fail_on, threshold)
    per_request = b.check_grouping(per_request, batch_size, concurrency, skip)
    inputs = b.read_inputs(env, texts, input_file, no_stdin)
    done, guard = start_text_run(env, max_cost, estimate, chosen, inputs.texts, inputs.again, skip, per_request,
                                 output, batch=via is Via.batch)
    if done:
        return
    if via is Via.batch:
        _texts_via_batch(env, chosen, capped_inputs(guard, inputs, skip, chosen), skip, gate, output, new, interval,
                         base)
        return
    _run_texts(env, "moderate", chosen, inputs, per_request, concurrency, skip, gate, output, base, guard)


@app.command("classify", epilog=epilog(
    'mcli classifiers classify -m ft:classifier:my-model:1234 "I love it"',
    "mcli classifiers classify -m ft:classifier:my-model:1234 -f reviews.txt > labels.jsonl",
    "mcli classifiers classify -m ft:classifier:my-model:1234 -f reviews.txt --fail-on negative"))
def classify(ctx: typer.Context, model: ClassifierModelOpt, texts: TextsArg = None,
             input_file: b.InputFileOpt = None, no_stdin: b.NoStdinOpt = False,
             per_request: b.PerRequestOpt = b.DEFAULT_PER_REQUEST, batch_size: b.OldPerRequestOpt = None,
             concurrency: b.ConcurrencyOpt = b.DEFAULT_CONCURRENCY, skip: b.SkipOpt = 0,
             fail_on: FailOnOpt = None, threshold: ThresholdOpt = None,
             body: BodyOpt = None, body_fields: FieldOpt = None,
             max_cost: MaxCostOpt = None, estimate: EstimateOpt = False,
             output: OutputOpt = OutputFormat.table) -> None:
    """Classify texts with a classifier model: each target's label scores per input."""
    env = env_of(ctx)
    base = request_base(env, body, body_fields, TEXT_FIELDS, "classifiers classify")
    per_request = b.check_grouping(per_request, batch_size, concurrency, skip)
    gate = v.make_gate(fail_on, threshold)
    inputs = b.read_inputs(env, texts, input_file, no_stdin)
    done, guard = start_text_run(env, max_cost, estimate, model, inputs.texts, inputs.again, skip, per_request,
                                 output)
    if not done:
        _run_texts(env, "classify", model, inputs, per_request, concurrency, skip, gate, output, base, guard)


@app.command("moderate-chat", epilog=epilog(
    "mcli classifiers moderate-chat --messages convo.json",
    "mcli classifiers moderate-chat --messages conversations.jsonl --fail-on any",
    "mcli classifiers moderate-chat --messages conversations.jsonl --via batch -o jsonl",
    "mcli history show -o json | jq .messages | mcli classifiers moderate-chat --messages -"))
def moderate_chat(ctx: typer.Context, messages: MessagesOpt, model: ModerationModelOpt = None,
                  fail_on: FailOnOpt = None, threshold: ThresholdOpt = None,
                  via: ViaOpt = Via.online, new: NewOpt = False, interval: IntervalOpt = ROUTE_INTERVAL,
                  body: BodyOpt = None, body_fields: FieldOpt = None,
                  max_cost: MaxCostOpt = None, estimate: EstimateOpt = False,
                  output: OutputOpt = OutputFormat.table) -> None:
    """Moderate one conversation, or a list of them."""
    base = request_base(env_of(ctx), body, body_fields, CHAT_FIELDS, "classifiers moderate-chat")
    env, chosen, gate = _moderation(ctx, via, interval, model or base.pop("model", None), fail_on, threshold)
    conversations, many = read_conversations(env, messages)
    batch = via is Via.batch
    if _chats_estimated(env, max_cost, estimate, chosen, conversations, output, batch):
        return
    if batch:
        _chats_via_batch(env, chosen, messages, conversations, gate, output, new, interval, base)
        return
    _run_chats(env, "moderate_chat", chosen, conversations, many, gate, output, base)


@app.command("classify-chat", epilog=epilog(
    "mcli classifiers classify-chat -m ft:classifier:my-model:1234 --messages convo.json",
    "mcli classifiers classify-chat -m ft:classifier:my-model:1234 --messages chats.jsonl -o jsonl"))
def classify_chat(ctx: typer.Context, model: ClassifierModelOpt, messages: MessagesOpt,
                  fail_on: FailOnOpt = None, threshold: ThresholdOpt = None,
                  body: BodyOpt = None, body_fields: FieldOpt = None,
                  max_cost: MaxCostOpt = None, estimate: EstimateOpt = False,
                  output: OutputOpt = OutputFormat.table) -> None:
    """Classify one conversation, or a list of them, with a classifier model."""
    env = env_of(ctx)
    base = request_base(env, body, body_fields, CHAT_FIELDS, "classifiers classify-chat")
    gate = v.make_gate(fail_on, threshold)
    conversations, many = read_conversations(env, messages)
    if not _chats_estimated(env, max_cost, estimate, model, conversations, output, False):
        _run_chats(env, "classify_chat", model, conversations, many, gate, output, base)


def _chats_estimated(env: "Env", max_cost: float | None, estimate: bool, model: str, conversations: list,
                     output: OutputFormat, batch: bool) -> bool:
    """Print the estimate of sending CONVERSATIONS (True: stop there), else check it against
    the budgets in force (one request, or one a conversation at the batch rate)."""
    requests = len(conversations) if batch else 1
    done, _guard = start_run(env, max_cost, estimate, model, requests, messages_tokens(conversations), output,
                             batch=batch)
    return done


def _moderation(ctx: typer.Context, via: Via, interval: float, model: str | None, fail_on: str | None,
                threshold: str | None) -> tuple["Env", str, v.Gate]:
    """A moderation command's env, model and gate, its route's options checked first."""
    env = env_of(ctx)
    check_route(ctx, via, interval)
    return env, env.model("model.moderation", model), moderation_gate(fail_on, threshold)


def moderation_gate(fail_on: str | None, threshold: str | None) -> v.Gate:
    """The gate of a moderation command, its --fail-on categories checked up front."""
    gate = v.make_gate(fail_on, threshold)
    v.check_categories(gate, v.MODERATION_CATEGORIES, "the moderation categories")
    return gate


# -- running ---------------------------------------------------------------------------------

def _operation(name: str) -> Callable[..., dict]:
    """Send the classifiers operation NAME (`moderate`, `classify_chat`...) with a JSON body."""
    from mistral_cli.api.operations import call

    return lambda client, body: call(client, f"classifiers.{name}", json_body=body)


def _run_texts(env: "Env", operation: str, model: str, inputs: b.TextSource, per_request: int, concurrency: int,
               skip: int, gate: v.Gate, output: OutputFormat, base: dict, guard: Any = None) -> None:
    """Moderate or classify INPUTS, grouped, and print each verdict (BASE: --body and -F;
    GUARD: the run's Budget)."""
    writer = ResultWriter(env, b.line_format(env, output), gate, operation.startswith("moderate"), model=model)
    send_one = _operation(operation)

    def send(texts: list[str]) -> dict:
        """One request for TEXTS (run in a worker thread)."""
        return b.expect_items(send_one(env.client, {**base, "model": model, "input": texts}), "results", len(texts))

    written = b.run_groups(env, b.groups(inputs.texts, per_request, skip), send, writer.group,
                            concurrency=concurrency, total=inputs.total, label=operation, model=model,
                            guard=guard)
    b.require_some(written, skip)
    writer.finish()


def _run_chats(env: "Env", operation: str, model: str, conversations: list[list[dict]], many: bool, gate: v.Gate,
               output: OutputFormat, base: dict) -> None:
    """Moderate or classify the --messages conversations in one request."""
    writer = ResultWriter(env, b.line_format(env, output), gate, operation == "moderate_chat",
                          with_text=False)
    if operation == "classify_chat":
        sent: list[Any] = [{"messages": conversation} for conversation in conversations]
    else:
        sent = list(conversations)
    body = _operation(operation)(env.client, {**base, "model": model, "input": sent if many else sent[0]})
    b.expect_items(body, "results", len(sent))
    writer.group(b.TextGroup(0, [last_text(c) for c in conversations], 0), body)
    writer.finish()


def _texts_via_batch(env: "Env", model: str, inputs: b.TextSource, skip: int, gate: v.Gate, output: OutputFormat,
                     new: bool, interval: float, base: dict) -> None:
    """Moderate INPUTS as one batch job (batchrun/route.py), printed as online."""
    from mistral_cli.api.batch import BatchEndpoint
    from mistral_cli.batchrun.route import Route

    writer = ResultWriter(env, b.line_format(env, output), gate, True, model=model)
    moderations = Route("classifiers moderate", BatchEndpoint.moderations.value, model, new, interval, inputs.source)
    sent = run_texts(env, moderations, inputs.texts, skip,
                     lambda body: b.expect_items(body, "results", 1), writer, base)
    b.require_some(sent, skip)
    if not sent:  # --skip past the end: nothing sent, the output still closes
        writer.finish()


def _chats_via_batch(env: "Env", model: str, path: Path, conversations: list[list[dict]], gate: v.Gate,
                     output: OutputFormat, new: bool, interval: float, base: dict) -> None:
    """Moderate the --messages conversations as one batch job, one request each, printed as online."""
    from mistral_cli.api.batch import BatchEndpoint
    from mistral_cli.batchrun.route import Route

    writer = ResultWriter(env, b.line_format(env, output), gate, True, with_text=False)

    def write(outcome) -> None:
        """Print one conversation's verdict, as online."""
        body = b.expect_items(outcome.body, "results", 1)
        writer.group(b.TextGroup(outcome.number, [last_text(outcome.request["input"])], 0), body)

    bodies = ((number, {**base, "input": conversation}) for number, conversation in enumerate(conversations))
    source = "standard input" if str(path) == "-" else str(path)
    moderations = Route("classifiers moderate-chat", BatchEndpoint.chat_moderations.value, model, new, interval, source,
                        "conversation")
    run_batch(env, moderations, bodies, 0, write, writer.finish)


def read_conversations(env: "Env", path: Path) -> tuple[list[list[dict]], bool]:
    """The conversations in --messages, and whether it held a list of them: a message list
    (JSON array or JSONL), or a list of those, or of {"messages": [...]} objects."""
    from mistral_cli.generation import messages
    from mistral_cli.inputs import read_text

    items = parse_conversations(read_text(env, path, "--messages"), f"--messages {path}")
    unwrapped = [item["messages"] if isinstance(item, dict) and set(item) == {"messages"} else item
                 for item in items]
    many = any(isinstance(item, list) for item in unwrapped)
    if many and not all(isinstance(item, list) for item in unwrapped):
        raise UsageError("--messages: mixes conversations (lists) and single messages")
    conversations = unwrapped if many else [unwrapped]
    for number, conversation in enumerate(conversations):
        if not conversation:
            raise UsageError(f"--messages: conversation {number} is empty")
        messages.check_messages(conversation, f"--messages (conversation {number})" if many else "--messages")
    return conversations, many


def parse_conversations(text: str, where: str) -> list:
    """TEXT as generation's message-list reader sees it (a JSON array or JSONL), or else as
    JSON Lines of arrays (one conversation per line)."""
    from mistral_cli.generation.messages import parse_message_list

    try:
        return parse_message_list(text, where)
    except UsageError:
        if not text.lstrip().startswith("["):
            raise
    return [parse_message_list(line, f"{where} line {number}")
            for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def last_text(conversation: list[dict]) -> str:
    """The last message's text, for a title on a terminal."""
    content = conversation[-1].get("content")
    return content if isinstance(content, str) else dumps(content)


# -- output ----------------------------------------------------------------------------------

class ResultWriter:
    """Prints each input's verdict as it comes (jsonl, text, table) or the combined body
    (json), and tallies the --fail-on gate."""

    def __init__(self, env: "Env", fmt: OutputFormat, gate: v.Gate, moderation: bool,
                 with_text: bool = True, model: str = ""):
        self.env = env
        self.fmt = fmt
        self.gate = gate
        self.moderation = moderation
        self.with_text = with_text
        self.tally = v.Tally(gate)
        self.combined = CombinedJson(env, "results", {"model": model}) if fmt is OutputFormat.json else None
        self.checked = False

    def _check_gate(self, results: list) -> None:
        """Before the first verdict is printed: stop (exit 2) when --fail-on names a category
        the classifier's first answer does not have."""
        self.checked = True
        known: set[str] = set()
        for result in results:
            known |= set(v.classification_scores(result)[0])
        v.check_categories(self.gate, known, "the model's categories")

    def group(self, group: b.TextGroup, body: dict) -> None:
        """Print GROUP's results and tally them."""
        results = body.get("results") or []
        if not self.moderation and not self.checked:
            self._check_gate(results)
        for offset, result in enumerate(results):
            index = group.start + offset
            text = group.texts[offset] if offset < len(group.texts) else ""
            scores, api_flags = (v.moderation_scores if self.moderation else v.classification_scores)(result)
            names = v.flagged(scores, api_flags, self.gate.threshold)
            self.tally.add(index, names)
            self._print(index, text, result, scores, names)
        if self.combined is not None:
            self.combined.add(body, results)
        self.env.stdout.flush()

    def _print(self, index: int, text: str, result: Any, scores: dict[str, float], names: set[str]) -> None:
        """Print one input's verdict in the chosen format (json waits for the group)."""
        if self.fmt is OutputFormat.jsonl:
            write_jsonl(self.env, [self._line(index, text, result, names)])
        elif self.fmt is OutputFormat.text:
            self.env.stdout.write(for_stdout(self.env, ",".join(sorted(names))) + "\n")
        elif self.fmt is OutputFormat.table:
            from mistral_cli.render.scores import clip, score_table

            verdict = f"flagged: {', '.join(sorted(names))}" if names else "not flagged"
            title = f"#{index + 1}  {clip(text, TITLE_WIDTH)}  ({verdict})"
            self.env.console.print(score_table(title, scores, names))

    def _line(self, index: int, text: str, result: Any, names: set[str]) -> dict:
        """The jsonl line of one input."""
        line: dict[str, Any] = {"index": index}
        if self.with_text:
            line["text"] = text
        if self.moderation:
            line.update(result if isinstance(result, dict) else {})
        else:
            line["targets"] = result
        line["flagged"] = sorted(names)
        return line

    def finish(self) -> None:
        """Close the combined body, then apply the gate (exit 6)."""
        if self.combined is not None:
            self.combined.finish()
        self.tally.check()
