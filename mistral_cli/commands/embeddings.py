"""`mcli embeddings`: POST /v1/embeddings over a stream of texts, batched and concurrent."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.api.operations import describe
from mistral_cli.bodies.shape import need_int, need_numbers
from mistral_cli.commands.shared import text_groups as b
from mistral_cli.commands.shared.common_options import BodyOpt, FieldOpt, OutputOpt, env_of, epilog
from mistral_cli.commands.shared.interval import ROUTE_INTERVAL
from mistral_cli.commands.shared.spending import EstimateOpt, MaxCostOpt, capped_inputs, start_text_run
from mistral_cli.commands.shared.via import IntervalOpt, NewOpt, Via, ViaOpt, check_route, run_texts
from mistral_cli.errors import UnexpectedResponse
from mistral_cli.inputs import request_base
from mistral_cli.render.combined_json import CombinedJson
from mistral_cli.render.output import OutputFormat, for_stdout, tsv_cell, write_jsonl

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

REQUEST_FIELDS = frozenset({"input", "model"})  # EmbeddingRequest
EMBED = "embeddings.embed"  # the operation
REQUEST = describe(EMBED)
FIRST_VALUES = 4
MATRIX_MAX = 20
TEXT_WIDTH = 40


def register(root: typer.Typer) -> None:
    """Add the `embeddings` command to the root app."""
    root.command("embeddings", epilog=epilog(
        'mcli embeddings "first text" "second text"',
        "mcli embeddings --input-file corpus.txt > vectors.jsonl",
        "cat corpus.txt | mcli embeddings --per-request 128 --concurrency 8 > vectors.jsonl",
        "mcli embeddings --input-file corpus.txt --skip 12800 >> vectors.jsonl",
        "mcli embeddings -f corpus.txt --via batch > vectors.jsonl   # half price",
        "mcli embeddings -f corpus.txt --estimate   # nothing sent",
        "mcli embeddings -f corpus.txt --max-cost 0.50 > vectors.jsonl",
        'mcli embeddings "hello" -o json | jq ".data[0].embedding | length"'))(embeddings)


def embeddings(
    ctx: typer.Context,
    texts: Annotated[Optional[list[str]], typer.Argument(
        help="Texts to embed (else --input-file, else piped stdin lines).", show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", show_default=False,
        help="Model (default: the profile's model.embeddings, else mistral-embed).")] = None,
    input_file: b.InputFileOpt = None,
    no_stdin: b.NoStdinOpt = False,
    per_request: b.PerRequestOpt = b.DEFAULT_PER_REQUEST, batch_size: b.OldPerRequestOpt = None,
    concurrency: b.ConcurrencyOpt = b.DEFAULT_CONCURRENCY,
    skip: b.SkipOpt = 0,
    via: ViaOpt = Via.online,
    new: NewOpt = False,
    interval: IntervalOpt = ROUTE_INTERVAL,
    body: BodyOpt = None,
    body_fields: FieldOpt = None,
    max_cost: MaxCostOpt = None,
    estimate: EstimateOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Embed texts: one vector per input, in input order (jsonl off a terminal)."""
    env = env_of(ctx)
    check_route(ctx, via, interval)
    per_request = b.check_grouping(per_request, batch_size, concurrency, skip)
    base = request_base(env, body, body_fields, REQUEST_FIELDS, "embeddings")
    inputs = b.read_inputs(env, texts, input_file, no_stdin)
    chosen = env.model("model.embeddings", model, base.pop("model", None))
    done, guard = start_text_run(env, max_cost, estimate, chosen, inputs.texts, inputs.again, skip, per_request,
                                 output, batch=via is Via.batch)
    if done:
        return
    writer = make_writer(env, b.line_format(env, output), skip, chosen)
    if via is Via.batch:
        inputs = capped_inputs(guard, inputs, skip, chosen)
        sent = via_batch(env, inputs, chosen, skip, writer, new, interval, base)
        b.require_some(sent, skip)
        if not sent:  # --skip past the end: nothing sent, the output still closes
            writer.finish()
        return

    def send(texts: list[str]) -> dict:
        """One request for TEXTS (run in a worker thread)."""
        from mistral_cli.api.operations import call

        body = call(env.client, EMBED, json_body={**base, "model": chosen, "input": texts})
        return checked(b.expect_items(body, "data",
                                      len(texts), REQUEST), len(texts))

    written = b.run_groups(env, b.groups(inputs.texts, per_request, skip), send, writer.group,
                            concurrency=concurrency, total=inputs.total, label="embedding", model=chosen,
                            guard=guard)
    b.require_some(written, skip)
    writer.finish()


def via_batch(env: "Env", inputs: b.TextSource, model: str, skip: int, writer: "Writer", new: bool,
              interval: float, base: dict) -> int:
    """Embed INPUTS as one batch job (batchrun/route.py); the number of inputs sent."""
    from mistral_cli.api.batch import BatchEndpoint
    from mistral_cli.batchrun.route import Route

    embeddings = Route("embeddings", BatchEndpoint.embeddings.value, model, new, interval, inputs.source)
    return run_texts(env, embeddings, inputs.texts, skip,
                     lambda body: checked(b.expect_items(body, "data", 1, REQUEST), 1), writer, base)


def checked(body: dict, count: int) -> dict:
    """BODY, refused unless each of its COUNT data items has an integer index (each of 0 to
    COUNT-1 once) and a list of numbers as its embedding."""
    indexes = set()
    for position, item in enumerate(body["data"]):
        indexes.add(need_int(item.get("index"), REQUEST, f"data[{position}].index"))
        need_numbers(item.get("embedding"), REQUEST, f"data[{position}].embedding")
    if indexes != set(range(count)):
        raise UnexpectedResponse(REQUEST, "data", f"the indexes are not 0 to {count - 1}, each once")
    return body


def ordered(body: dict) -> list[dict]:
    """BODY's embeddings sorted by their index in the request."""
    data = body.get("data") or []
    return sorted(data, key=lambda item: item.get("index", 0) if isinstance(item, dict) else 0)


class Writer:
    """Prints each group's results as they come (jsonl, text), or at the end (table)."""

    def __init__(self, env: "Env", skip: int, model: str = ""):
        self.env = env
        self.skip = skip
        self.model = model

    def group(self, group: b.TextGroup, body: dict) -> None:
        """Print GROUP's results."""

    def finish(self) -> None:
        """Print anything kept until the end."""


class JsonlWriter(Writer):
    """One line per input: {"index", "text", "embedding"} (index counts from the first input)."""

    def group(self, group: b.TextGroup, body: dict) -> None:
        """Print GROUP's results."""
        write_jsonl(self.env, ({"index": group.start + offset, "text": group.texts[offset],
                                "embedding": item.get("embedding")} for offset, item in enumerate(ordered(body))))


class TextWriter(Writer):
    """One line per input: the vector's values, tab-separated."""

    def group(self, group: b.TextGroup, body: dict) -> None:
        """Print GROUP's results."""
        for item in ordered(body):
            line = "\t".join(tsv_cell(v) for v in item.get("embedding") or [])
            self.env.stdout.write(for_stdout(self.env, line) + "\n")
        self.env.stdout.flush()


class JsonWriter(Writer):
    """The EmbeddingResponse one request would have returned, indexes counted from 0."""

    def __init__(self, env: "Env", skip: int, model: str = ""):
        super().__init__(env, skip, model)
        self.combined = CombinedJson(env, "data", {"object": "list", "model": model})

    def group(self, group: b.TextGroup, body: dict) -> None:
        """Print GROUP's results."""
        first = group.start - self.skip
        items = [{**item, "index": first + offset} for offset, item in enumerate(ordered(body))]
        self.combined.add(body, items)

    def finish(self) -> None:
        """Close the body."""
        self.combined.finish()


class TableWriter(Writer):
    """On a terminal: dimensions, norm and first values per input, then (for 2 to 20 inputs)
    their cosine similarities. Keeps a summary per input and at most 21 vectors."""

    def __init__(self, env: "Env", skip: int, model: str = ""):
        super().__init__(env, skip, model)
        self.rows: list[dict[str, Any]] = []
        self.vectors: list[list[float]] = []

    def group(self, group: b.TextGroup, body: dict) -> None:
        """Keep GROUP's summaries."""
        for offset, item in enumerate(ordered(body)):
            vector = item.get("embedding") or []
            self.rows.append({"index": group.start + offset, "text": group.texts[offset],
                              "dims": len(vector), "norm": norm(vector), "first": vector[:FIRST_VALUES]})
            if len(self.vectors) <= MATRIX_MAX:
                self.vectors.append(vector)

    def finish(self) -> None:
        """Print the table and the matrix."""
        from mistral_cli.render.scores import similarity_table, summary_table

        self.env.console.print(summary_table(self.rows, TEXT_WIDTH, self.env.console.width))
        if 2 <= len(self.rows) <= MATRIX_MAX:
            labels = [str(row["index"]) for row in self.rows]
            self.env.console.print(similarity_table(labels, similarity_matrix(self.vectors)))


WRITERS = {OutputFormat.jsonl: JsonlWriter, OutputFormat.text: TextWriter,
           OutputFormat.json: JsonWriter, OutputFormat.table: TableWriter}


def make_writer(env: "Env", fmt: OutputFormat, skip: int, model: str = "") -> Writer:
    """The writer for FMT (MODEL names the model in an empty `-o json` body)."""
    return WRITERS[fmt](env, skip, model)


def norm(vector: list[float]) -> float:
    """The Euclidean length of VECTOR."""
    return math.sqrt(sum(value * value for value in vector))


def cosine(left: list[float], right: list[float]) -> float:
    """The cosine similarity of two vectors (0 when either is all zeros)."""
    scale = norm(left) * norm(right)
    return sum(x * y for x, y in zip(left, right)) / scale if scale else 0.0


def similarity_matrix(vectors: list[list[float]]) -> list[list[float]]:
    """Every pair's cosine similarity."""
    return [[cosine(row, col) for col in vectors] for row in vectors]
