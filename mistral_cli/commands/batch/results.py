"""A batch job's results: its output and error files saved to a folder (streamed, atomic, named
from the job id the user gave, through safe_files), or
one `custom_id<TAB>answer` line per request on stdout (`--answers`), errors on stderr.

In an answer, a backslash, tab, newline and carriage return are written `\\\\`, `\\t`, `\\n`,
`\\r`, so every request stays on one line and `sort -n` joins answers back to prompt lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.api import batch as api
from mistral_cli.bodies.content import words
from mistral_cli.errors import NotFoundError, UsageError
from mistral_cli.render.human import byte_count
from mistral_cli.render.output import dumps, for_stdout
from mistral_cli.render.progress import progress_bar
from mistral_cli.safe_files import refuse_existing

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.bodies.batch import BatchJob
    from mistral_cli.env import Env

ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def result_files(job: "BatchJob") -> list[tuple[str, str]]:
    """(kind, file id) of the job's output and error files that exist; none is NotFoundError."""
    files = [(kind, file_id) for kind, file_id in (("output", job.output_file), ("error", job.error_file))
             if file_id]
    if not files:
        raise NotFoundError(f"batch job {job.id} has no result file yet (status {job.status_text})",
                            hint=f"wait for it with: mcli batch watch {job.id}")
    return files


def save_results(env: "Env", job_id: str, job: "BatchJob", directory: Path, force: bool) -> list[Path]:
    """Download the job's result files into DIRECTORY as JOB_ID.output.jsonl / JOB_ID.error.jsonl,
    JOB_ID being the id the user gave (a checked UUID), never the one in the server's body."""
    from mistral_cli.api.files import download_file

    targets = [(refuse_existing(directory, f"{job_id}.{kind}.jsonl", force), file_id)
               for kind, file_id in result_files(job)]
    try:
        directory.mkdir(parents=True, exist_ok=True)  # the folder asked for: made if missing
    except OSError as exc:
        raise UsageError(f"cannot create the folder {directory}: {exc.strerror or exc}") from None
    for dest, file_id in targets:
        with progress_bar(env, f"downloading {dest.name}", None) as on_progress:
            written = download_file(env.client, file_id, dest, force=force, on_progress=on_progress)
        env.info(f"saved {dest} ({byte_count(written, env.stderr_isatty)})")
    paths = [dest for dest, _file_id in targets]
    record_saved_usage(env, job_id, job, paths[0] if job.output_file else None)
    return paths


def record_saved_usage(env: "Env", job_id: str, job: "BatchJob", output: Path | None) -> None:
    """Put the usage of the job's saved OUTPUT lines in the ledger, at the batch rate, once per
    job (the file is read only when the job is not recorded yet)."""
    import json

    from mistral_cli.store.ledger import batch_tally, record_batch

    tally = batch_tally(env, job_id, job.endpoint, job.model) if output is not None else None
    if tally is None:
        return
    with output.open("rb") as handle:
        for line in handle:
            try:
                tally.add(json.loads(line))
            except ValueError:
                continue  # a line that is not JSON bills nothing mcli can count
    record_batch(env, job_id, tally)


def print_answers(env: "Env", job_id: str, job: "BatchJob") -> None:
    """Print `custom_id<TAB>answer` per answered request (exact off a terminal, without control
    characters on one); failed ones go to stderr. JOB_ID is the id the user gave (the ledger
    records the job's usage once under it)."""
    from mistral_cli.store.ledger import batch_tally, record_batch

    answered = failed = 0
    tally = batch_tally(env, job_id, job.endpoint, job.model)
    for kind, file_id in result_files(job):
        for line in api.iter_result_lines(env.client, file_id):
            if tally is not None and kind == "output":
                tally.add(line)
            custom_id, answer, error = read_result(line)
            if error is None and kind == "output":
                line = f"{custom_id.translate(ESCAPES)}\t{answer.translate(ESCAPES)}"
                env.stdout.write(for_stdout(env, line) + "\n")
                answered += 1
            else:
                env.info(f"{custom_id.translate(ESCAPES)}\terror: {(error or answer).translate(ESCAPES)}")
                failed += 1
    env.stdout.flush()
    record_batch(env, job_id, tally)
    env.info(f"{answered} answer(s), {failed} failed request(s)")


def read_result(line: Any) -> tuple[str, str, str | None]:
    """(custom_id, answer text, error message or None) of one result line."""
    from mistral_cli.batchrun.in_order import outcome_of

    custom_id, body, error = outcome_of(line)
    return custom_id, "" if error is not None else answer_text(body), error


def answer_text(body: Any) -> str:
    """The answer in a response BODY: a completion's message text, else the body as JSON."""
    choices = body.get("choices") if isinstance(body, dict) else None
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message") or {}
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, (str, list)):
            return words(content)
        if content is None and isinstance(message, dict) and message.get("tool_calls"):
            return dumps(message["tool_calls"])
    return dumps(body)
