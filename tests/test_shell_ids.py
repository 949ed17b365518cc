"""The id cache behind Tab (store/ids.py) and the rules saying which argument completes which
kind (docgen/live.py): fed by what commands print, private, atomic, never in the way.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mistral_cli.docgen.live import LIVE_VALUES, Live
from mistral_cli.docgen.tree import build_tree
from mistral_cli.store import ids
from tests.fakeapi.defaults import (BATCH_ID, FILE_ID, FT_MODEL, JOB_ID, base_model, batch_job,
                                    completion_job, file_obj)
from tests.fakeapi.responses import json_response

OTHER_FILE = "0b9f6c2e-1d3a-4e5f-8a7b-9c0d1e2f3a4b"


def cache_file() -> Path:
    return Path(os.environ["MCLI_DATA_DIR"]) / ids.FILE_NAME


# -- the cache -------------------------------------------------------------------------------


def test_objects_are_kept_by_their_kind_newest_first():
    ids.remember([file_obj(), completion_job(), batch_job(), {"id": FT_MODEL, "object": "model"}])
    ids.remember([file_obj(OTHER_FILE), file_obj()])
    assert ids.ids("file") == [OTHER_FILE, FILE_ID]
    assert ids.ids("fine-tuning-job") == [JOB_ID]
    assert ids.ids("batch-job") == [BATCH_ID]
    assert ids.ids("model") == [FT_MODEL]


def test_objects_of_no_cached_kind_are_ignored():
    ids.remember([{"id": "cmpl-1", "object": "chat.completion"}, {"object": "list", "data": []},
                  {"id": "x"}, "not an object", {"id": 7, "object": "file"}])
    assert not cache_file().exists()


def test_a_deleted_object_leaves_the_cache():
    ids.remember([file_obj(), file_obj(OTHER_FILE)])
    ids.remember([{"id": FILE_ID, "object": "file", "deleted": True}])
    assert ids.ids("file") == [OTHER_FILE]


def test_each_kind_is_capped(monkeypatch):
    monkeypatch.setattr(ids, "MAX_PER_KIND", 3)
    ids.remember([{"id": f"m{n}", "object": "model"} for n in range(5)])
    assert ids.ids("model") == ["m0", "m1", "m2"]


def test_the_cache_is_private_and_written_atomically(tmp_path, monkeypatch):
    data = tmp_path / "fresh" / "data"
    monkeypatch.setenv("MCLI_DATA_DIR", str(data))
    ids.remember([file_obj()])
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in (ids.FILE_NAME, ids.LOCK_NAME):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    assert sorted(p.name for p in data.iterdir()) == sorted([ids.FILE_NAME, ids.LOCK_NAME])  # no temporary file


HOSTILE = ["x$(touch /tmp/p)", "x`touch /tmp/p`", "a;b", "a b", "a'b", 'a"b', "a\nb", "a\tb", "a\\b", "a|b",
           "a&b", "a>b", "a<b", "a*", "a?", "a[b]", "a{b,c}", "a~b", "$HOME", "a#b", "a!b", "a=b", "a%b", "a,b",
           "a\x1b[31mb", "a\x00b", "mod\u00e8le", "-rf", "--server-url=http://evil.example", ".hidden", "x" * 257]
SAFE = ["mistral-small-latest", "ft:open-mistral-7b:587a6b29:20240514:7e773925", FILE_ID, "org/model@v1.2_b",
        "x" * 256]


def test_only_ids_made_of_id_characters_are_cached():
    ids.remember([{"id": value, "object": "model"} for value in HOSTILE + SAFE])
    assert ids.ids("model") == SAFE
    assert all(value not in cache_file().read_text() for value in ("touch", "a b", "evil"))


def test_a_cache_written_before_the_filter_offers_only_safe_ids():
    cache_file().write_text(json.dumps({"model": HOSTILE + SAFE, "file": ["x$(id)", FILE_ID]}))
    assert ids.ids("model") == SAFE
    assert ids.ids("file") == [FILE_ID]
    ids.remember([file_obj(OTHER_FILE)])
    assert json.loads(cache_file().read_text()) == {"model": SAFE, "file": [OTHER_FILE, FILE_ID]}


def test_a_broken_cache_offers_nothing_and_is_replaced():
    cache_file().write_text("{not json")
    assert ids.ids("file") == []
    ids.remember([file_obj()])
    assert ids.ids("file") == [FILE_ID]


def test_a_cache_that_cannot_be_written_never_breaks_the_command(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("MCLI_DATA_DIR", str(blocker / "data"))
    ids.remember([file_obj()])  # no exception
    assert ids.ids("file") == []


PARALLEL = 30


def answer_each_request_with_its_own_model(api, count: int) -> None:
    """Stub GET /v1/models: COUNT requests, held until all have arrived, each answered one new id."""
    numbers = itertools.count()
    everyone_asked = threading.Barrier(count)

    def answer(request):
        number = next(numbers)
        try:
            everyone_asked.wait(timeout=120)  # bounds a hang only: release every answer at once
        except threading.BrokenBarrierError:
            pass
        return json_response({"object": "list", "data": [base_model(f"model-{number}")]})

    api.add("GET", "/v1/models", answer, times=count)


def test_parallel_list_commands_lose_no_id(api):
    answer_each_request_with_its_own_model(api, PARALLEL)
    runs = [subprocess.Popen([sys.executable, "-m", "mistral_cli", "models", "list", "-o", "text"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
            for _ in range(PARALLEL)]
    errors = [run.communicate(timeout=300)[1] for run in runs]
    assert [run.returncode for run in runs] == [0] * PARALLEL, errors
    assert sorted(ids.ids("model")) == sorted(f"model-{n}" for n in range(PARALLEL))


# -- commands feed it by printing ------------------------------------------------------------


@pytest.mark.parametrize("output", ["table", "json", "text"])
def test_list_commands_feed_the_cache_whatever_the_format(api, cli, output):
    api.files[FILE_ID] = file_obj()
    assert cli("files", "list", "-o", output).exit_code == 0
    assert cli("models", "list", "-o", output).exit_code == 0
    assert ids.ids("file") == [FILE_ID]
    assert ids.ids("model") == ["mistral-small-latest", FT_MODEL]


def test_a_delete_takes_the_id_out_even_when_it_prints_nothing(api, cli):
    ids.remember([file_obj(), file_obj(OTHER_FILE)])
    assert cli("files", "delete", FILE_ID, "--yes").exit_code == 0
    assert ids.ids("file") == [OTHER_FILE]


def test_completion_ids_prints_the_cache_and_the_history(api, cli):
    ids.remember([file_obj(), file_obj(OTHER_FILE)])
    assert cli("completion", "ids", "file").stdout == f"{FILE_ID}\n{OTHER_FILE}\n"
    assert cli("completion", "ids", "conversation").stdout == ""  # no history yet: nothing
    assert cli("chat", "hi", "--cid", "build-42").exit_code == 0
    assert cli("completion", "ids", "conversation").stdout == "build-42\n"
    assert cli("completion", "ids", "no-such-kind").stdout == ""


def test_completion_ids_never_errors(cli, tmp_path, monkeypatch):
    (tmp_path / "mcli-data" / "history.db").write_text("not a database")
    result = cli("completion", "ids", "conversation")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


# -- the rules ------------------------------------------------------------------------------


def test_every_rule_matches_a_command():
    tree = build_tree()
    nodes = tree.nodes()

    def matches(rule: Live) -> bool:
        return any(rule.applies(node.path) and (
            any(rule.option and rule.option in option.names for option in node.options + tree.global_options)
            or any(rule.argument and argument.name.startswith(rule.argument) for argument in node.arguments))
            for node in nodes)

    assert [rule for rule in LIVE_VALUES if not matches(rule)] == []


def test_the_rules_today():
    nodes = {node.path: node for node in build_tree().nodes()}
    assert nodes[("files", "get")].arguments[0].live == "file"
    assert nodes[("files", "delete")].arguments[0].live == "file"
    assert nodes[("files", "upload")].arguments[0].live == ""
    assert nodes[("history", "show")].arguments[0].live == "conversation"
    assert [o.live for o in nodes[("chat",)].options if "--cid" in o.names] == ["conversation"]
    assert [o.live for o in nodes[("chat",)].options if "-m" in o.names] == ["model-chat"]
    assert nodes[("fine-tuning", "get")].arguments[0].live == "fine-tuning-job"
    assert nodes[("fine-tuning", "cancel")].arguments[0].live == "fine-tuning-job"
    assert nodes[("batch", "watch")].arguments[0].live == "batch-job"
    assert [o.live for o in nodes[("batch", "create")].options if o.long == "--model"] == ["model"]


def bash_offers(script: Path, line: str) -> list[str]:
    """What SCRIPT offers in bash for LINE (COMP_WORDS as bash would split it, but at spaces only)."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    program = (f"source {shlex.quote(str(script))}; COMP_WORDS=({' '.join(map(shlex.quote, words))}); "
               f"COMP_CWORD={len(words) - 1}; _mcli; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [word for word in done.stdout.splitlines() if word]


def test_bash_offers_cached_job_ids_for_the_job_groups():
    script = Path(__file__).resolve().parent.parent / "completions" / "bash" / "mcli"
    ids.remember([completion_job(), batch_job(), completion_job("5c1d0e2f-0000-4000-8000-000000000001")])
    assert bash_offers(script, "mcli fine-tuning get ") == [JOB_ID, "5c1d0e2f-0000-4000-8000-000000000001"]
    assert bash_offers(script, "mcli batch cancel b2") == [BATCH_ID]
    assert bash_offers(script, "mcli fine-tuning create ") == []


def test_bash_keeps_colons_in_ids_together():
    ids.remember([{"id": FT_MODEL, "object": "model"}, {"id": "mistral-small-latest", "object": "model"}])
    script = Path(__file__).resolve().parent.parent / "completions" / "bash" / "mcli"
    # bash splits `ft:o` at ':' into three words; the script joins them back and drops `ft:`
    # from the reply, as readline replaces only the text after the last colon.
    assert bash_offers(script, "mcli models get ft : o") == [FT_MODEL.removeprefix("ft:")]
    assert bash_offers(script, "mcli models get ") == [FT_MODEL, "mistral-small-latest"]


def test_file_id_options_and_moderation_categories_complete():
    nodes = {node.path: node for node in build_tree().nodes()}

    def live(path, option):
        return [o.live for o in nodes[path].options if option in o.names]

    assert live(("fine-tuning", "create"), "--training-file") == ["file"]
    assert live(("fine-tuning", "create"), "--validation-file") == ["file"]
    assert live(("batch", "create"), "--input") == ["file"]
    assert live(("classifiers", "moderate"), "--fail-on") == ["moderation-category"]
    assert live(("classifiers", "classify"), "--fail-on") == [""]  # a classifier's own labels


def test_completion_ids_lists_the_moderation_categories(cli):
    from mistral_cli.commands.classifiers.verdicts import MODERATION_CATEGORIES

    assert cli("completion", "ids", "moderation-category").stdout.split() == list(MODERATION_CATEGORIES)


def test_bash_offers_file_ids_for_the_training_file(tmp_path, monkeypatch):
    ids.remember([file_obj()])
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    script = Path(__file__).resolve().parent.parent / "completions" / "bash" / "mcli"
    assert bash_offers(script, "mcli fine-tuning create --training-file ") == [FILE_ID]
    assert bash_offers(script, "mcli classifiers moderate --fail-on vio") == ["violence_and_threats"]


def test_a_path_or_id_option_offers_local_files_too(tmp_path, monkeypatch):
    ids.remember([file_obj()])
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "train.jsonl").write_text("")
    monkeypatch.chdir(tmp_path / "here")
    script = Path(__file__).resolve().parent.parent / "completions" / "bash" / "mcli"
    assert bash_offers(script, "mcli batch create --input ") == [FILE_ID, "train.jsonl"]


SCRIPT = Path(__file__).resolve().parent.parent / "completions" / "bash" / "mcli"


def test_bash_offers_local_files_config_keys_profiles_and_api_paths(cli, tmp_path, monkeypatch):
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "scan.pdf").write_text("")
    monkeypatch.chdir(tmp_path / "here")
    for profile in ("work", "staging"):
        assert cli("config", "set", "timeout", "30", "--profile", profile).exit_code == 0
    assert bash_offers(SCRIPT, "mcli ocr ") == ["scan.pdf"]
    assert "model.chat" in bash_offers(SCRIPT, "mcli config set ")
    assert sorted(bash_offers(SCRIPT, "mcli --profile ")) == ["staging", "work"]
    assert bash_offers(SCRIPT, "mcli config use st") == ["staging"]
    paths = bash_offers(SCRIPT, "mcli api GET /v1/f")
    assert "/v1/fim/completions" in paths and all(path.startswith("/v1/f") for path in paths)


def test_model_options_offer_only_models_that_can_serve_the_command():
    chat_only = {"completion_chat": True, "completion_fim": False, "fine_tuning": False}
    nothing = {"completion_chat": False, "completion_fim": False, "fine_tuning": False}
    ids.remember([{"id": "mistral-small-latest", "object": "model", "capabilities": chat_only},
                  {"id": "mistral-embed", "object": "model", "capabilities": nothing},
                  {"id": "mistral-ocr-latest", "object": "model", "capabilities": nothing},
                  {"id": "mistral-moderation-latest", "object": "model"},  # no capabilities: by its name
                  {"id": "codestral-latest", "object": "model"}])
    assert bash_offers(SCRIPT, "mcli chat -m ") == ["mistral-small-latest", "codestral-latest"]
    assert bash_offers(SCRIPT, "mcli embeddings -m ") == ["mistral-embed"]
    assert bash_offers(SCRIPT, "mcli ocr x.pdf -m ") == ["mistral-ocr-latest"]
    assert bash_offers(SCRIPT, "mcli classifiers moderate --model ") == ["mistral-moderation-latest"]
    assert bash_offers(SCRIPT, "mcli fim -m ") == ["codestral-latest"]
    assert len(bash_offers(SCRIPT, "mcli models get ")) == 5


class CountedId(str):
    """An id that counts how often it is compared with another."""

    compared = 0

    def __eq__(self, other):
        CountedId.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_merging_many_ids_into_the_cache_is_linear_not_quadratic():
    files = [{"object": "file", "id": CountedId(f"file-{n}")} for n in range(3_000)]
    cache = {"file": [f"old-{n}" for n in range(ids.MAX_PER_KIND)]}
    CountedId.compared = 0
    seen, gone = ids.changes(files)
    merged = ids.merged(cache, seen, gone)
    assert merged["file"] == [f"file-{n}" for n in range(ids.MAX_PER_KIND)]
    assert CountedId.compared < 3_000  # a list membership test per id made about 4.5 million


def test_a_cache_written_by_something_else_is_capped_when_read(tmp_path):
    path = tmp_path / "ids.json"
    path.write_text(json.dumps({"file": [f"file-{n}" for n in range(5_000)]}))
    assert ids.read(path)["file"] == [f"file-{n}" for n in range(ids.MAX_PER_KIND)]


def test_a_cache_larger_than_mcli_ever_writes_is_not_parsed(tmp_path):
    path = tmp_path / "ids.json"
    path.write_text(json.dumps({"file": [f"file-{n:08d}" for n in range(300_000)]}))
    assert path.stat().st_size > ids.MAX_FILE
    assert ids.read(path) == {}
