"""Generated completions and man pages: they complete for real, render cleanly, and stay current."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mistral_cli import app as app_module
from mistral_cli import docgen
from mistral_cli.docgen import man
from mistral_cli.docgen.tree import build_tree

REPO = Path(__file__).resolve().parent.parent
BASH = REPO / "completions" / "bash" / "mcli"
ZSH = REPO / "completions" / "zsh" / "_mcli"
FISH = REPO / "completions" / "fish" / "mcli.fish"
OUTPUT_FORMATS = ["table", "json", "jsonl", "text"]
REGEN = "regenerate with: scripts/gen-docs  (or: python -m mistral_cli.docgen)"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return docgen.render()


@pytest.fixture(scope="module")
def tree():
    return build_tree()


# -- bash, through the committed script --------------------------------------------------


def bash_complete(line: str, cwd: Path = REPO) -> list[str]:
    """What the committed bash script offers for LINE (the last word is being completed)."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    array = " ".join(shlex.quote(w) for w in words)
    script = (f"source {shlex.quote(str(BASH))}; COMP_WORDS=({array}); "
              f"COMP_CWORD={len(words) - 1}; _mcli; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], cwd=cwd,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return [line for line in done.stdout.splitlines() if line]


def test_bash_completes_top_level_commands():
    offered = bash_complete("mcli fi")
    assert "files" in offered and "fim" in offered
    assert "models" not in offered


def test_bash_completes_option_names():
    assert bash_complete("mcli files list --pur") == ["--purpose"]


def test_bash_completes_option_choices():
    assert bash_complete("mcli files list --purpose ") == ["fine-tune", "batch", "ocr"]


def test_bash_completes_output_formats():
    assert bash_complete("mcli models list -o ") == OUTPUT_FORMATS
    assert bash_complete("mcli models list --output j") == ["json", "jsonl"]


def test_bash_completes_subcommands_after_global_options():
    assert "upload" in bash_complete("mcli -v --profile work files ")
    assert bash_complete("mcli --color ") == ["auto", "always", "never"]


def test_bash_offers_global_options_at_every_level():
    assert bash_complete("mcli files list --col") == ["--color"]
    assert "--verbose" in bash_complete("mcli models get --")


def test_bash_completes_values_written_with_equals():
    # bash splits `--purpose=b` at '=' (COMP_WORDBREAKS): words `--purpose`, `=`, `b`.
    assert bash_complete("mcli files list --purpose = b") == ["batch"]
    assert bash_complete("mcli files list --purpose=b") == ["--purpose=batch"]


def test_bash_completes_files_for_path_arguments(tmp_path):
    (tmp_path / "train.jsonl").write_text("{}\n")
    (tmp_path / "tests").mkdir()
    assert bash_complete("mcli files upload tr", cwd=tmp_path) == ["train.jsonl"]
    assert bash_complete("mcli files upload train.jsonl t", cwd=tmp_path) == ["tests", "train.jsonl"]


def test_bash_skips_option_values_when_finding_the_command():
    # `list` here is the value of --profile, not the `files list` subcommand.
    assert bash_complete("mcli files --profile list ") == sorted(
        ["delete", "download", "get", "list", "upload", "url"])


def test_bash_completes_api_methods():
    assert bash_complete("mcli api P") == ["POST", "PUT", "PATCH"]


# -- the committed files are what the app generates now -----------------------------------


def test_committed_completions_and_man_pages_are_current(generated):
    stale = docgen.differences(REPO, generated)
    assert stale == [], f"generated files are out of date: {stale}; {REGEN}"


def test_generation_is_deterministic(generated):
    again = docgen.render()
    assert again == generated


def test_every_command_has_a_man_page(generated, tree):
    for node in tree.nodes():
        assert f"man/{node.page}.1" in generated
    root = generated["man/mcli.1"]
    for node in tree.nodes()[1:]:
        assert man.bold(node.name) in root, node.name


def test_man_page_sections_and_examples(generated):
    page = generated["man/mcli-files-upload.1"]
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLES", "SEE ALSO"):
        assert f".SH {section}\n" in page
    assert f'"mcli {app_module.__version__}"' in page
    examples = page.split(".SH EXAMPLES\n")[1].split(".SH")[0]
    assert "mcli files upload" in examples
    assert "[bold]" not in "".join(generated.values())
    assert "Examples" not in examples


def test_write_then_check_round_trip(tmp_path, generated):
    assert docgen.differences(tmp_path, generated)  # nothing there yet
    (tmp_path / "man").mkdir()
    (tmp_path / "man" / "mcli-gone.1").write_text("old\n")
    changed = docgen.write(tmp_path, generated)
    assert "man/mcli-gone.1 (removed)" in changed
    assert docgen.differences(tmp_path, generated) == []
    (tmp_path / "completions" / "bash" / "mcli").write_text("# edited by hand\n")
    assert docgen.differences(tmp_path, generated) == ["completions/bash/mcli"]


def test_the_command_line_entry_point_checks(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "mistral_cli.docgen", "--out", str(tmp_path)]
    first = subprocess.run([*command, "--check"], capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 1 and "stale: completions/bash/mcli" in first.stderr
    written = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert written.returncode == 0, written.stderr
    again = subprocess.run([*command, "--check"], capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr


def test_docgen_reads_the_app_only_through_typer():
    for path in (REPO / "mistral_cli" / "docgen").glob("*.py"):
        text = path.read_text()
        assert "import click" not in text and "from click" not in text, path
        assert "_click" not in text, path


# -- man rendering ---------------------------------------------------------------------------


def _troff_warnings(page: Path) -> str:
    if shutil.which("man"):
        done = subprocess.run(["man", "-P", "cat", "--warnings=w", "-l", str(page)],
                              capture_output=True, text=True, env={**os.environ, "MANWIDTH": "80"},
                              timeout=60)
    else:
        done = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)],
                              capture_output=True, text=True, timeout=60)
    return done.stderr


needs_roff = pytest.mark.skipif(not (shutil.which("man") or shutil.which("groff")),
                                reason="neither man nor groff is installed")


@needs_roff
def test_the_warning_check_catches_a_broken_page(tmp_path):
    bad = tmp_path / "bad.1"
    bad.write_text('.TH BAD 1\n.SH NAME\nbad \\- page\n.NOTAMACRO\n')
    assert "NOTAMACRO" in _troff_warnings(bad)


@needs_roff
def test_committed_man_pages_render_without_warnings():
    pages = sorted((REPO / "man").glob("mcli*.1"))
    assert pages
    problems = {page.name: warnings for page in pages if (warnings := _troff_warnings(page))}
    assert problems == {}


# -- zsh and fish, where installed -----------------------------------------------------------

ZSH_HARNESS = r"""
compdef() { : }
compset() { [[ $1 == -P ]] && PREFIX=${PREFIX#*=}; return 0 }
_files() { print -r -- '<files>' }
compadd() { local e; [[ $1 == -a ]] && for e in ${(P)2}; do [[ $e == ${PREFIX}* ]] && print -r -- $e; done }
_describe() {
  shift 3
  local a e
  for a in "$@"; do
    [[ $a == -- ]] && continue
    for e in ${(P)a}; do e=${e%%:*}; e=${e//\\/}; [[ $e == ${PREFIX}* ]] && print -r -- $e; done
  done
}
source $MCLI_ZSH
words=("${(@Q)${(z)MCLI_LINE}}")
[[ $MCLI_LINE == *' ' ]] && words+=('')
CURRENT=${#words}
PREFIX=${words[-1]}
_mcli
"""


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
@pytest.mark.parametrize("line, expected", [
    ("mcli fi", ["files", "fim", "fine-tuning"]),
    ("mcli files list --pur", ["--purpose"]),
    ("mcli files list --purpose ", ["fine-tune", "batch", "ocr"]),
    ("mcli models list -o ", OUTPUT_FORMATS),
    ("mcli files list --purpose=b", ["batch"]),
    ("mcli -v --color never files up", ["upload"]),
    ("mcli files upload ", ["<files>"]),
])
def test_zsh_completion(line, expected):
    done = subprocess.run(["zsh", "-f", "-c", ZSH_HARNESS], capture_output=True, text=True,
                          env={**os.environ, "MCLI_ZSH": str(ZSH), "MCLI_LINE": line}, timeout=30)
    assert done.stderr == ""
    assert done.stdout.split() == expected


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
@pytest.mark.parametrize("line, expected", [
    ("mcli fi", ["files", "fim", "fine-tuning"]),
    ("mcli files list --pur", ["--purpose"]),
    ("mcli files list --purpose ", ["batch", "fine-tune", "ocr"]),
    ("mcli models list -o ", sorted(OUTPUT_FORMATS)),
    ("mcli --profile files models arch", ["archive"]),
    ("mcli api P", ["PATCH", "POST", "PUT"]),
])
def test_fish_completion(line, expected):
    script = f"source {shlex.quote(str(FISH))}; complete -C {shlex.quote(line)}"
    done = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True,
                          timeout=30)
    assert done.stderr == ""
    assert [row.split("\t")[0] for row in done.stdout.splitlines()] == expected


def test_a_man_page_keeps_the_text_before_the_examples_as_notes():
    from mistral_cli.commands.shared.common_options import epilog
    from mistral_cli.docgen.man import epilog_section

    lines = epilog_section(docgen.tree.plain(epilog("mcli auth login", before="The key comes from the keyring.")))
    text = "\n".join(lines)
    assert text.index(".SH NOTES") < text.index("The key comes") < text.index(".SH EXAMPLES") < text.index("mcli auth login")
    assert ".SH NOTES" not in "\n".join(epilog_section(docgen.tree.plain(epilog("mcli files list"))))
    assert epilog_section("Keys:\n\n  model.chat  the chat model")[0] == ".SH NOTES"


def test_an_argument_declared_with_dots_gets_no_more_of_them(tree, generated):
    node = next(node for node in tree.nodes() if node.path == ("history", "delete"))
    assert [argument.metavar for argument in node.arguments] == ["[ID...]"]
    assert "ID......" not in generated["man/mcli-history-delete.1"]
