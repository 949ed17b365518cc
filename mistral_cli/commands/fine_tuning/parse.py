"""Parsing and checking `fine-tuning create` options before anything is sent or uploaded.

Each parser takes the text the user typed and returns the request's value, or raises a
UsageError naming the option (never anything else: a property test feeds them any text).
The spec's enums and bounds copied here are checked against it in tests/test_spec_facts.py.
"""

from __future__ import annotations

import math
import re
from enum import Enum
from typing import Any

from mistral_cli.bodies.fine_tuning_enums import JobType
from mistral_cli.errors import UsageError
from mistral_cli.inputs import Bound, check_bound, check_number, check_uuid


class FineTuneableModel(str, Enum):
    """The spec's FineTuneableModel."""

    open_mistral_7b = "open-mistral-7b"
    mistral_small_latest = "mistral-small-latest"
    codestral_latest = "codestral-latest"
    mistral_large_latest = "mistral-large-latest"
    open_mistral_nemo = "open-mistral-nemo"
    ministral_3b_latest = "ministral-3b-latest"
    ministral_8b_latest = "ministral-8b-latest"


LOSS_FUNCTIONS = ("single_class", "multi_class")  # the spec's FTClassifierLossFunction
SUFFIX_MAX = 18  # JobIn.suffix maxLength
SKIP = Bound("--invalid-sample-skip-percentage", 0, 0.5)  # JobIn.invalid_sample_skip_percentage
WANDB_KEY_LENGTH = 40  # WandbIntegration.api_key minLength = maxLength

# field: its option's bounds, from CompletionTrainingParametersIn (no maximum: inputs.NUMBER_CEILING)
HYPERPARAMETERS: dict[str, Bound] = {
    "learning_rate": Bound("--learning-rate", 1e-08, 1),
    "epochs": Bound("--epochs", 0, None, exclusive_low=True),
    "training_steps": Bound("--training-steps", 1, None, integer=True),
    "warmup_fraction": Bound("--warmup-fraction", 0, 1),
    "weight_decay": Bound("--weight-decay", 0, 1),
    "seq_len": Bound("--seq-len", 100, None, integer=True),
    "fim_ratio": Bound("--fim-ratio", 0, 1),
}
COMPLETION_ONLY = frozenset({"fim_ratio"})  # not in ClassifierTrainingParametersIn

_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def hyperparameters(values: dict[str, float | int | None], job_type: str) -> dict[str, Any]:
    """The hyperparameters that are set, checked against the spec's bounds."""
    chosen: dict[str, Any] = {}
    for field, value in values.items():
        if value is None:
            continue
        bound = HYPERPARAMETERS[field]
        if field in COMPLETION_ONLY and job_type == JobType.classifier.value:
            raise UsageError(f"{bound.option} applies to completion jobs only")
        check_bound(value, bound)
        chosen[field] = value
    return chosen


def _number(text: str, option: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{option}: {what} must be a number (got {text!r})") from None
    if not math.isfinite(value):
        raise UsageError(f"{option}: {what} must be a finite number (got {text!r})")
    return value


def _split_weight(text: str, option: str) -> tuple[str, float | None]:
    """TEXT less a trailing `:WEIGHT` (a positive number), and the weight."""
    head, sep, tail = text.rpartition(":")
    if not sep:
        return text, None
    try:
        float(tail)
    except ValueError:
        return text, None  # a colon that is part of the name (a path such as C:\\data)
    weight = _number(tail, option, "the weight")
    if weight <= 0:
        raise UsageError(f"{option}: the weight must be greater than 0 (got {tail})")
    if not head:
        raise UsageError(f"{option}: nothing before the weight in {text!r}")
    return head, weight


def parse_training_file(text: str, option: str = "--training-file") -> tuple[str, float | None]:
    """`PATH|ID[:WEIGHT]` as (path or id, weight or None)."""
    if not text.strip():
        raise UsageError(f"{option}: empty value")
    return _split_weight(text, option)


def parse_repository(text: str, token: str, option: str = "--repository") -> dict[str, Any]:
    """`OWNER/NAME[@REF][:WEIGHT]` as a GithubRepositoryIn (TOKEN from GITHUB_TOKEN)."""
    head, weight = _split_weight(text, option)
    slug, at, ref = head.partition("@")
    owner, slash, name = slug.partition("/")
    if not slash or not _NAME.fullmatch(owner) or not _NAME.fullmatch(name):
        raise UsageError(f"{option}: expected OWNER/NAME[@REF][:WEIGHT], got {text!r}")
    if at and (not ref or any(ch.isspace() or ch in "~^:?*[\\" for ch in ref)):
        raise UsageError(f"{option}: {ref!r} is not a git ref")
    repo: dict[str, Any] = {"type": "github", "owner": owner, "name": name, "token": token}
    if at:
        repo["ref"] = ref
    if weight is not None:
        repo["weight"] = weight
    return repo


def parse_classifier_target(text: str, option: str = "--classifier-target") -> dict[str, Any]:
    """`NAME=LABEL,LABEL[;weight=W][;loss=single_class|multi_class]` as a ClassifierTargetIn."""
    head, *settings = text.split(";")
    name, eq, labels_text = head.partition("=")
    name = name.strip()
    labels = [label.strip() for label in labels_text.split(",")]
    if not eq or not name or not all(labels):
        raise UsageError(f"{option}: expected NAME=LABEL,LABEL[;weight=W][;loss=...], got {text!r}")
    if len(set(labels)) != len(labels):
        raise UsageError(f"{option}: target {name!r} lists a label twice")
    target: dict[str, Any] = {"name": name, "labels": labels}
    for setting in settings:
        key, _eq, value = setting.partition("=")
        key, value = key.strip(), value.strip()
        if key == "weight":
            target["weight"] = _number(value, option, "weight")
            check_number(target["weight"], f"{option} weight", 0, None)
        elif key == "loss":
            if value not in LOSS_FUNCTIONS:
                raise UsageError(f"{option}: loss must be one of {', '.join(LOSS_FUNCTIONS)} (got {value!r})")
            target["loss_function"] = value
        else:
            raise UsageError(f"{option}: unknown setting {key!r} (weight=W or loss=...)")
    return target


def classifier_targets_from_json(value: Any, source: str) -> list[dict[str, Any]]:
    """A JSON array of ClassifierTargetIn objects (from --classifier-targets FILE), checked."""
    if not isinstance(value, list) or not value:
        raise UsageError(f"{source}: expected a non-empty JSON array of targets")
    for index, target in enumerate(value):
        where = f"{source}: target {index}"
        if not isinstance(target, dict) or not isinstance(target.get("name"), str) or not target["name"]:
            raise UsageError(f"{where}: needs a \"name\"")
        labels = target.get("labels")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
            raise UsageError(f"{where}: \"labels\" must be a non-empty list of strings")
        weight = target.get("weight")
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))):
            raise UsageError(f"{where}: \"weight\" must be a number")
        check_number(weight, f"{where} weight", 0, None)
        if target.get("loss_function") not in (None, *LOSS_FUNCTIONS):
            raise UsageError(f"{where}: \"loss_function\" must be one of {', '.join(LOSS_FUNCTIONS)}")
    return value


def target_labels(targets: list[dict[str, Any]]) -> dict[str, frozenset[str]]:
    """Each target's name and its labels (what a classifier training file may use)."""
    return {target["name"]: frozenset(target["labels"]) for target in targets}


def check_suffix(suffix: str | None) -> None:
    """Refuse a suffix the spec would (longer than SUFFIX_MAX, or blank)."""
    if suffix is None:
        return
    if not suffix.strip():
        raise UsageError("--suffix must not be empty")
    if len(suffix) > SUFFIX_MAX:
        raise UsageError(f"--suffix must be at most {SUFFIX_MAX} characters (got {len(suffix)})")


def wandb_integration(project: str | None, name: str | None, run_name: str | None,
                      key: str | None) -> dict[str, Any] | None:
    """The WandbIntegration for --wandb-*, its key from WANDB_API_KEY; None without a project."""
    if project is None:
        if name is not None or run_name is not None:
            raise UsageError("--wandb-name and --wandb-run-name need --wandb-project")
        return None
    key = (key or "").strip()
    if not key:
        raise UsageError("--wandb-project needs the Weights & Biases key in WANDB_API_KEY "
                         "(never on the command line)")
    if len(key) != WANDB_KEY_LENGTH:
        raise UsageError(f"WANDB_API_KEY must be {WANDB_KEY_LENGTH} characters (it has {len(key)})")
    integration: dict[str, Any] = {"type": "wandb", "project": project, "api_key": key}
    for field, value in (("name", name), ("run_name", run_name)):
        if value is not None:
            integration[field] = value
    return integration


def file_id_or_none(text: str) -> str | None:
    """TEXT if it is a file id (a UUID), else None."""
    try:
        return check_uuid(text)
    except UsageError:
        return None

