"""Warnings go through the one `Env.warn()`: every one reads `mcli: warning: ...`, like errors
read `mcli: error: ...`."""

from __future__ import annotations

import os
import re
from pathlib import Path

import mistral_cli

# The watch modules are being moved onto the one watch engine by another branch; they call
# env.warn there. Nothing else may write its own "warning:" prefix.
NOT_YET = {"commands/fine_tuning/watch.py", "commands/batch/watch.py", "docgen/__main__.py",
           "env.py"}  # env.py: where Env.warn itself writes the prefix
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
                 if str(path.relative_to(root)) not in NOT_YET and OWN_PREFIX.search(path.read_text())]
    assert offenders == []
