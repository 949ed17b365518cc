"""What `mcli batch create` sends: `--metadata` pairs, `--input PATH|ID`, `--from-prompts FILE|-`
(FILE may be a pipe: `--from-prompts <(cmd)`).

Every local check (metadata, file existence, the request file format) runs before the first
upload. `--from-prompts` writes one chat request per prompt line to a temporary file, line
by line (batchrun/requests_file.py, as `--via batch` does), which the batch run (batchrun/)
fingerprints and uploads streamed: memory stays flat for a million prompts, and a file
(unlike a one-shot stream) has a known length for the progress bar and can be sent again
when an upload is retried after a 429.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.api.batch import OCR_ENDPOINT, BatchEndpoint
from mistral_cli.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

METADATA_VALUE_LENGTH = (1, 512)  # BatchJobIn.metadata values: minLength, maxLength


# -- --metadata --------------------------------------------------------------------------


def parse_metadata(specs: Sequence[str], option: str = "--metadata") -> dict[str, str]:
    """`KEY=VALUE` pairs as a dict; refuse a malformed pair, a repeated key or a bad length."""
    from mistral_cli.api.raw import split_field  # lazily: api/raw.py loads httpx

    metadata: dict[str, str] = {}
    low, high = METADATA_VALUE_LENGTH
    for spec in specs:
        key, value = split_field(spec, option)
        if key in metadata:
            raise UsageError(f"{option}: key {key!r} given twice")
        if not low <= len(value) <= high:
            raise UsageError(f"{option} {key}: the value must be {low} to {high} characters "
                             f"(got {len(value)})")
        metadata[key] = value
    return metadata


def metadata_filter(specs: Sequence[str], option: str = "--metadata") -> dict[str, str]:
    """`--metadata` pairs for `batch list`: the query form cannot carry `&` or `=` in a pair."""
    metadata = parse_metadata(specs, option)
    for key, value in metadata.items():
        if "&" in key or "&" in value or "=" in value:
            raise UsageError(f"{option} {key}: a filter cannot contain '&' or '=' in its value "
                             "or '&' in its key")
    return metadata


# -- --input PATH|ID ---------------------------------------------------------------------


@dataclass
class RequestFiles:
    """The request files of a new job: local paths to upload, file ids to use as they are."""

    paths: list[Path]
    ids: list[str]
    labels: dict[Path, str] = field(default_factory=dict)  # how a path is named in messages


def spool_stdin_input(env: "Env", values: Sequence[str], stack: ExitStack) -> list[str]:
    """VALUES with `-` (or /dev/stdin) replaced by a temporary copy of standard input: the
    request file is checked, fingerprinted, then uploaded with its length, all from one file."""
    from mistral_cli.inputs import is_stdin, stdin_as_file

    if sum(map(is_stdin, values)) > 1:
        raise UsageError("--input: standard input can be read only once")
    return [str(stack.enter_context(stdin_as_file(env, "--input"))) if is_stdin(value) else value
            for value in values]


def sort_inputs(values: Sequence[str]) -> RequestFiles:
    """Each `--input` as an existing local file or, failing that, a file id (a UUID)."""
    from mistral_cli.inputs import check_upload, check_uuid, existing_file

    inputs = RequestFiles([], [])
    for value in values:
        path = Path(value)
        if path.exists():
            inputs.paths.append(existing_file(path, "--input"))
            check_upload(path, "--input", "the batch API takes a JSONL file of requests of at most 512 MB")
            continue
        try:
            inputs.ids.append(check_uuid(value, "--input"))
        except UsageError:
            raise UsageError(f"--input: {value} is neither a file nor a file id (a UUID)") from None
    return inputs


def validate_files(paths: Iterable[Path], labels: dict[Path, str] | None = None) -> None:
    """Check every request file (streamed); raise a UsageError listing the problems of the
    first bad one, or naming an empty one (a job of 0 requests is billed for nothing)."""
    from mistral_cli.validate.batch import check_batch_file

    for path in paths:
        label = (labels or {}).get(path, str(path))
        report = check_batch_file(path, label)
        report.raise_if_bad()
        if report.examples == 0:
            raise UsageError(f"--input {label}: the file is empty (one request per line); nothing was uploaded")


# endpoint -> the profile key of its default model (as the online commands use it)
MODEL_SETTINGS = {BatchEndpoint.chat.value: "model.chat", BatchEndpoint.fim.value: "model.fim",
                  BatchEndpoint.embeddings.value: "model.embeddings",
                  BatchEndpoint.moderations.value: "model.moderation",
                  BatchEndpoint.chat_moderations.value: "model.moderation", OCR_ENDPOINT: "model.ocr"}


def default_model(env: "Env", endpoint: str) -> str:
    """The profile's model for ENDPOINT, else the one the online command uses by default; an
    endpoint beyond those needs --model."""
    if endpoint not in MODEL_SETTINGS:
        raise UsageError(f"--model is required with --endpoint {endpoint}")
    return env.model(MODEL_SETTINGS[endpoint])


# -- --from-prompts ----------------------------------------------------------------------


@dataclass
class PromptOptions:
    """How each prompt line becomes a chat request body."""

    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None

    def body(self, prompt: str) -> dict[str, Any]:
        """The chat request body for one PROMPT."""
        messages = [{"role": "system", "content": self.system}] if self.system else []
        body: dict[str, Any] = {"messages": [*messages, {"role": "user", "content": prompt}]}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body


def prompt_bodies(lines: Iterable[str], options: PromptOptions) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, chat request body) of each non-blank prompt line: the line number is its custom_id."""
    for number, line in enumerate(lines, 1):
        prompt = line.rstrip("\r\n")
        if prompt.strip():
            yield number, options.body(prompt)


@contextmanager
def prompt_requests_file(env: "Env", source: str, options: PromptOptions) -> Iterator[Path]:
    """A temporary request file made from SOURCE (a path, or - for stdin), removed afterwards."""
    from mistral_cli.batchrun.requests_file import requests_file

    with _prompt_lines(env, source) as lines, requests_file(prompt_bodies(lines, options), 1) as requests:
        if not requests.count:
            raise UsageError(f"--from-prompts: no prompt in {_label(source)} (one prompt per line)")
        env.info(f"{requests.count} prompt(s) from {_label(source)}")
        yield requests.path


@contextmanager
def _prompt_lines(env: "Env", source: str) -> Iterator[Iterable[str]]:
    from mistral_cli.inputs import need_stdin

    if source == "-":
        yield _checked(need_stdin(env, "--from-prompts -", piped=True), source)
        return
    path = Path(source)
    from mistral_cli.inputs import existing_file, is_pipe

    if not is_pipe(path):  # a pipe (`<(cmd)`, a FIFO) is read once, as stdin is: the lines are spooled
        existing_file(path, "--from-prompts")
    with path.open(encoding="utf-8", newline="\n") as handle:
        yield _checked(handle, source)


def _checked(lines: Iterable[str], source: str) -> Iterator[str]:
    """LINES, with a decoding failure turned into a UsageError naming the option."""
    try:
        yield from lines
    except UnicodeDecodeError:
        raise UsageError(f"--from-prompts: {_label(source)} is not UTF-8 text") from None


def _label(source: str) -> str:
    return "standard input" if source == "-" else source
