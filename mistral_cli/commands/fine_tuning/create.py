"""`mcli fine-tuning create`: every JobIn field, local training files checked then uploaded.

Order: every option is parsed and checked against the spec's bounds, every local file is
validated (streamed), then local files are uploaded (purpose fine-tune, with progress; an
earlier upload of the same bytes is reused once a GET confirms it is still there, so a
`--dry-run` and the real create upload once), and only then is the job created
(Effect.CREATE: never retried once it may have arrived). The uploads and the create are a
run in the run journal (batchrun/fine_tuning_run.py): the same command started again after
a kill or a lost answer finds what was made instead of paying again, and `--new` creates a
separate job. `--dry-run` asks for the estimate instead; `--watch` follows the new job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.api import fine_tuning as api
from mistral_cli.bodies.fields import FINE_TUNING_FIELDS
from mistral_cli.bodies.fine_tuning_enums import JobType
from mistral_cli.commands.fine_tuning import parse
from mistral_cli.commands.fine_tuning.parse import FineTuneableModel
from mistral_cli.commands.shared.common_options import BodyOpt, FieldOpt, OutputOpt, env_of, number_option
from mistral_cli.commands.shared.interval import DEFAULT_INTERVAL, IntervalOpt, check_interval
from mistral_cli.errors import UsageError, job_created
from mistral_cli.inputs import read_json, request_base
from mistral_cli.render.human import counted
from mistral_cli.render.output import Column, OutputFormat, emit_object, write_lines

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

EXAMPLES = (
    "mcli fine-tuning create --model open-mistral-7b --training-file train.jsonl --training-steps 10",
    "mcli fine-tuning create --model open-mistral-7b --training-file train.jsonl --validation-file valid.jsonl --dry-run",
    "mcli fine-tuning create --model mistral-small-latest --training-file 3fa85f64-5717-4562-b3fc-2c963f66afa6:2 --suffix support --watch",
    "mcli fine-tuning create --model ministral-3b-latest --job-type classifier --training-file labels.jsonl "
    "--classifier-target 'sentiment=positive,negative,neutral;loss=single_class'",
    "WANDB_API_KEY=... mcli fine-tuning create --model open-mistral-7b --training-file train.jsonl --wandb-project ft",
)

ESTIMATE_FIELDS = (
    Column("COST", lambda e: None if e.get("cost") is None else f"{e['cost']} {e.get('cost_currency') or ''}".strip()),
    Column("TRAINING TOKENS", "train_tokens"),
    Column("TOKENS PER STEP", "train_tokens_per_step"),
    Column("DATA TOKENS", "data_tokens"),
    Column("EXPECTED DURATION (S)", "expected_duration_seconds"),
    Column("EPOCHS", "epochs"),
    Column("TRAINING STEPS", "training_steps"),
    Column("DETAILS", "details"),
)
HYPER = "Hyperparameters"


@dataclass
class FileRef:
    """A --training-file or --validation-file: a local path to check and upload, or a file id."""

    option: str
    text: str
    weight: float | None = None
    path: Path | None = None
    file_id: str | None = None
    examples: int = field(default=0)


TRAINING_FILES = "the fine-tuning API takes .jsonl files of at most 512 MB (one example a line)"


def _file_ref(text: str, option: str, weighted: bool) -> FileRef:
    """TEXT as a local file (preferred when it exists) or a file id, with its weight."""
    if _is_file(Path(text)):  # a file whose own name ends in `:N`
        return FileRef(option, text, path=Path(text))
    target, weight = parse.parse_training_file(text, option) if weighted else (text, None)
    path = Path(target)
    if _is_file(path):
        return FileRef(option, text, weight, path=path)
    file_id = parse.file_id_or_none(target)
    if file_id is None:
        raise UsageError(f"{option}: {target} is neither a file here nor a file id (a UUID)")
    return FileRef(option, text, weight, file_id=file_id)


def _is_file(path: Path) -> bool:
    """Whether PATH names a file here (a name too long to be one is not)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _targets(env: "Env", given: list[str], path: Path | None) -> list[dict[str, Any]] | None:
    """The classifier targets from --classifier-target and --classifier-targets FILE."""
    targets = [parse.parse_classifier_target(text) for text in given]
    if path is not None:
        targets += parse.classifier_targets_from_json(read_json(env, path, "--classifier-targets"),
                                                      "--classifier-targets")
    names = [target["name"] for target in targets]
    if len(set(names)) != len(names):
        raise UsageError("--classifier-target: a target is named twice")
    return targets or None


def _validate_local(env: "Env", refs: list[FileRef], job_type: str,
                    targets: list[dict[str, Any]] | None) -> None:
    """Check every local file before anything is uploaded; exit 2 with every problem."""
    from mistral_cli.validate.training import check_training_file

    from mistral_cli.inputs import check_upload

    labels = parse.target_labels(targets) if targets else None
    bad = []
    for ref in refs:
        if ref.path is None:
            continue
        named = bool(ref.path.suffix)  # a name with no extension at all: its lines decide
        check_upload(ref.path, ref.option, TRAINING_FILES, suffixes=(".jsonl",) if named else ())
        report = check_training_file(ref.path, job_type, labels)
        ref.examples = report.examples
        if not report.ok:
            bad.append((ref, report))
    if bad:
        details = [line for _ref, report in bad for line in report.shown()]
        named = ", ".join(f"{file_role(ref)} file {ref.path}" for ref, _report in bad)
        raise UsageError(f"problems in the {named}; nothing was uploaded", details=details)


def file_role(ref: FileRef) -> str:
    """`training` or `validation`: which option named REF."""
    return ref.option.removeprefix("--").removesuffix("-file")


def _body_maker(base: dict, *, training: list[FileRef], validation: list[FileRef],
                **options: Any) -> Callable[[list[str]], dict]:
    """The JobIn as a function of the local files' ids (in the order of TRAINING then
    VALIDATION; a local file whose id is known already keeps it when none is given)."""
    def make(ids: list[str]) -> dict:
        given = iter(ids)

        def filled(refs: list[FileRef]) -> list[FileRef]:
            return [replace(ref, file_id=next(given, ref.file_id)) if ref.path else ref for ref in refs]

        return build_body(base, training=filled(training), validation=filled(validation), **options)

    return make


def _create_once(env: "Env", refs: list[FileRef], make_body: Callable[[list[str]], dict],
                 *, fresh: bool) -> tuple[Any, str]:
    """The job, created once through the run journal (batchrun/fine_tuning_run.py), and
    how it came (created, found after a lost answer, or created by an earlier start)."""
    from mistral_cli.batchrun.fine_tuning_run import FineTuningSpec, LocalFile, open_fine_tuning_run
    from mistral_cli.commands.files import upload_one

    files = [LocalFile(ref.path, f"{ref.path} ({counted(ref.examples, 'example')})") for ref in refs if ref.path]
    spec = FineTuningSpec(files, make_body, lambda path, name: upload_one(env, path, "fine-tune", name=name))
    with open_fine_tuning_run(env, spec, fresh=fresh) as run:
        result = run.ensure_job()
        job_id = result.get("id") if isinstance(result, dict) else None
        done = {"created": f"created fine-tuning job {job_id}",
                "found": f"found fine-tuning job {job_id} of run {run.tag} on the server (its create's answer "
                         "was lost): it is the one job that matches the model, files and hyperparameters",
                "resumed": f"fine-tuning run {run.tag} created job {job_id} before: showing it, nothing "
                           "is created"}[run.how]
    return result, done


def _upload(env: "Env", refs: list[FileRef]) -> None:
    """Upload each local file (purpose fine-tune) and keep its id; an earlier upload of the
    same bytes, still on the server, is reused (batchrun/reuse.py)."""
    from mistral_cli.batchrun.reuse import upload_once
    from mistral_cli.commands.files import upload_one

    for ref in refs:
        if ref.path is None:
            continue
        path = ref.path
        ref.file_id, reused = upload_once(env, path, "fine-tune", lambda: upload_one(env, path, "fine-tune"))
        done = "reusing the earlier upload of" if reused else "uploaded"
        env.info(f"{done} {ref.path} ({counted(ref.examples, 'example')}) as {ref.file_id}")


def _training_file(ref: FileRef) -> dict[str, Any]:
    entry: dict[str, Any] = {"file_id": ref.file_id}
    if ref.weight is not None:
        entry["weight"] = ref.weight
    return entry


def build_body(base: dict, *, model: str | None, training: list[FileRef], validation: list[FileRef],
               job_type: str | None, hyper: dict, extras: dict[str, Any]) -> dict:
    """The JobIn: BASE (--body) with the options set on top."""
    body = dict(base)
    if model is not None:
        body["model"] = model
    if "model" not in body:
        raise UsageError("--model is required (or a \"model\" in --body)")
    if training:
        body["training_files"] = [_training_file(ref) for ref in training]
    if validation:
        body["validation_files"] = [ref.file_id for ref in validation]
    if job_type is not None:
        body["job_type"] = job_type
    given = body.get("hyperparameters") or {}
    if not isinstance(given, dict):
        raise UsageError("--body: \"hyperparameters\" must be an object")
    body["hyperparameters"] = {**given, **hyper}
    body.update({key: value for key, value in extras.items() if value is not None})
    return body


def create(
    ctx: typer.Context,
    model: Annotated[Optional[FineTuneableModel], typer.Option(
        "--model", "-m", metavar="MODEL", show_default=False,
        help="The model to fine-tune: " + ", ".join(m.value for m in FineTuneableModel) + ".", rich_help_panel="Job")] = None,
    training_file: Annotated[Optional[list[str]], typer.Option(
        "--training-file", metavar="PATH|ID[:W]",
        help="Training data: a local JSONL (checked, then uploaded) or a file id, with an optional :WEIGHT; repeatable.", rich_help_panel="Job")] = None,
    validation_file: Annotated[Optional[list[str]], typer.Option(
        "--validation-file", metavar="PATH|ID", help="Validation data, like --training-file; repeatable.", rich_help_panel="Job")] = None,
    suffix: Annotated[Optional[str], typer.Option(
        "--suffix", help=f"Added to the fine-tuned model's name (at most {parse.SUFFIX_MAX} characters).", rich_help_panel="Job")] = None,
    job_type: Annotated[Optional[JobType], typer.Option("--job-type", metavar="TYPE", help="completion or classifier.", rich_help_panel="Job")] = None,
    auto_start: Annotated[Optional[bool], typer.Option(
        "--auto-start/--no-auto-start", help="Start as soon as validated (else: `mcli fine-tuning start`).",
        show_default=False)] = None,
    skip: Annotated[Optional[float], number_option(
        parse.SKIP, metavar="", help="A share of invalid samples to skip", rich_help_panel="Invalid samples")] = None,
    learning_rate: Annotated[Optional[float], number_option(
        parse.HYPERPARAMETERS["learning_rate"], help="Learning rate", rich_help_panel=HYPER)] = None,
    epochs: Annotated[Optional[float], number_option(
        parse.HYPERPARAMETERS["epochs"], help="Passes over the data", rich_help_panel=HYPER)] = None,
    training_steps: Annotated[Optional[int], number_option(
        parse.HYPERPARAMETERS["training_steps"], help="Training steps", rich_help_panel=HYPER)] = None,
    warmup_fraction: Annotated[Optional[float], number_option(
        parse.HYPERPARAMETERS["warmup_fraction"], help="Warm-up share", rich_help_panel=HYPER)] = None,
    weight_decay: Annotated[Optional[float], number_option(
        parse.HYPERPARAMETERS["weight_decay"], help="Weight decay", rich_help_panel=HYPER)] = None,
    seq_len: Annotated[Optional[int], number_option(
        parse.HYPERPARAMETERS["seq_len"], help="Sequence length", rich_help_panel=HYPER)] = None,
    fim_ratio: Annotated[Optional[float], number_option(
        parse.HYPERPARAMETERS["fim_ratio"], help="FIM share, completion jobs", rich_help_panel=HYPER)] = None,
    classifier_target: Annotated[Optional[list[str]], typer.Option(
        "--classifier-target", metavar="TARGET",
        help="A classifier target: NAME=LABEL,LABEL with optional ;weight=W and ;loss=single_class or ;loss=multi_class; repeatable.", rich_help_panel="Classifier")] = None,
    classifier_targets: Annotated[Optional[Path], typer.Option(
        "--classifier-targets", metavar="FILE", help="A JSON array of classifier targets.", rich_help_panel="Classifier")] = None,
    wandb_project: Annotated[Optional[str], typer.Option(
        "--wandb-project", help="Report to this Weights & Biases project (key from WANDB_API_KEY).", rich_help_panel="Integrations")] = None,
    wandb_name: Annotated[Optional[str], typer.Option("--wandb-name", help="W&B display name.", rich_help_panel="Integrations")] = None,
    wandb_run_name: Annotated[Optional[str], typer.Option("--wandb-run-name", help="W&B run name.", rich_help_panel="Integrations")] = None,
    repository: Annotated[Optional[list[str]], typer.Option(
        "--repository", metavar="REPO",
        help="A GitHub repository to train on: OWNER/NAME\\[@REF][:WEIGHT] (token from GITHUB_TOKEN); repeatable.", rich_help_panel="Integrations")] = None,
    body_file: BodyOpt = None,
    body_fields: FieldOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the estimate (cost, tokens, duration); start nothing.")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Follow the new job until it ends.")] = False,
    interval: IntervalOpt = DEFAULT_INTERVAL,
    new: Annotated[bool, typer.Option(
        "--new", help="Create a separate job of the same options and files (by default, the same command "
        "resumes its last run: nothing is uploaded or created twice).")] = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a fine-tuning job (checks and uploads local training files first)."""
    env = env_of(ctx)
    base = request_base(env, body_file, body_fields, FINE_TUNING_FIELDS, "fine-tuning create")
    kind = (job_type.value if job_type else None) or base.get("job_type") or JobType.completion.value
    check_interval(interval)  # before anything is sent: a refusal after the create invites a second one
    parse.check_suffix(suffix)
    hyper = parse.hyperparameters({"learning_rate": learning_rate, "epochs": epochs,
                                   "training_steps": training_steps, "warmup_fraction": warmup_fraction,
                                   "weight_decay": weight_decay, "seq_len": seq_len, "fim_ratio": fim_ratio}, kind)
    targets = _targets(env, classifier_target or [], classifier_targets)
    if targets and kind != JobType.classifier.value:
        raise UsageError("--classifier-target needs --job-type classifier")
    extras = {
        "suffix": suffix, "auto_start": auto_start, "invalid_sample_skip_percentage": skip,
        "classifier_targets": targets,
        "integrations": _integrations(env, wandb_project, wandb_name, wandb_run_name),
        "repositories": _repositories(env, repository or []),
    }
    training = [_file_ref(text, "--training-file", True) for text in training_file or []]
    validation = [_file_ref(text, "--validation-file", False) for text in validation_file or []]
    if not training and not base.get("training_files") and not extras["repositories"]:
        raise UsageError("give at least one --training-file (or --repository)")
    _validate_local(env, training + validation, kind, targets)
    make_body = _body_maker(base, model=model.value if model else None, training=training, validation=validation,
                            job_type=job_type.value if job_type else None, hyper=hyper, extras=extras)
    if dry_run:
        _upload(env, training + validation)
        _show(env, api.create_job(env.client, make_body([]), dry_run=True), output, True)
        return
    result, done = _create_once(env, training + validation, make_body, fresh=new)
    if watch and isinstance(result, dict) and result.get("id"):
        from mistral_cli.commands.fine_tuning.watch import watch as follow

        env.info(f"{done} ({result.get('status')}); watching it")
        follow(env, result["id"], interval=interval, output=output)
    else:
        _show(env, result, output, False, done)


def _integrations(env: "Env", project: str | None, name: str | None, run_name: str | None) -> list | None:
    integration = parse.wandb_integration(project, name, run_name, env.environ.get("WANDB_API_KEY"))
    return [integration] if integration else None


def _repositories(env: "Env", given: list[str]) -> list | None:
    if not given:
        return None
    token = (env.environ.get("GITHUB_TOKEN") or "").strip()
    if not token:
        raise UsageError("--repository needs a GitHub token in GITHUB_TOKEN (never on the command line)")
    return [parse.parse_repository(text, token) for text in given]


def _show(env: "Env", result: Any, output: OutputFormat, dry_run: bool, done: str = "") -> None:
    """The new job (or the estimate) in OUTPUT's format."""
    if not isinstance(result, dict):
        write_lines(env, [result])
        return
    if dry_run:
        emit_object(env, output, result, ESTIMATE_FIELDS, id_key="cost", title="dry run: nothing started")
        return
    from mistral_cli.render.job_view import JOB_FIELDS

    job_id = result.get("id")
    env.info(f"{done} ({result.get('status')})")
    with job_created("fine-tuning job", job_id, f"mcli fine-tuning get {job_id}"):  # stdout on a full disk
        emit_object(env, output, result, JOB_FIELDS if env.stdout_isatty else None, title=job_id)
