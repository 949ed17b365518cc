"""The output contract's one way each: warnings go through `Env.warn()` (every one reads
`mcli: warning: ...`, like errors read `mcli: error: ...`); JSON output is written by render/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import mistral_cli

WARN_ITSELF = "env.py"  # where Env.warn writes the prefix; no other module may
OWN_PREFIX = re.compile(r"""(info|note|write|print)\(f?["'](mcli: )?warning:""")


def test_a_warning_reads_mcli_warning(cli):
    config = Path(os.environ["MCLI_CONFIG_DIR"]) / "config.toml"
    config.write_text('[profiles.default]\ncolour = "blue"\n', encoding="utf-8")
    result = cli("config", "list", "-o", "json")
    assert result.exit_code == 0, result
    assert result.stderr.startswith("mcli: warning: ") and "unknown key 'colour'" in result.stderr


def test_no_module_writes_its_own_warning_prefix():
    root = Path(mistral_cli.__file__).parent
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if str(path.relative_to(root)) != WARN_ITSELF and OWN_PREFIX.search(path.read_text())]
    assert offenders == []


def test_json_output_is_written_by_render_only():
    """No command module writes JSON to stdout by hand: render/ holds the writers
    (output.write_json / write_jsonl, combined_json.CombinedJson)."""
    root = Path(mistral_cli.__file__).parent / "commands"
    by_hand = re.compile(r"json\.dumps\(|stdout\.write\(dumps\(|write\(dumps\(.*\+ \"\\n\"")
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if by_hand.search(path.read_text())]
    assert offenders == []  # request files are written by batchrun/requests_file.py
