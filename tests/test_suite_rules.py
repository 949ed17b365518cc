"""Rules of the test suite itself: a hung test fails instead of stalling the run, no test
module imports another (shared helpers live in *_helpers.py, tests/fakeapi or conftest), and
a test's name, docstring and comments say the behaviour it checks, not an issue or item number."""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PYPROJECT = TESTS.parent / "pyproject.toml"
NUMBERED_NAME = re.compile(r"test_?\w*?(issue|item|point|bug|ticket)_?\d")
CITED_ISSUE = re.compile(r"""\bissues?\s*(#?\d|["“]|items?\b)|\bitems? \d""", re.IGNORECASE)

HUNG_READ = '''
import os

def test_a_read_that_never_returns():
    read_end, _write_end = os.pipe()  # the write end stays open: no end of file, no data
    with open(read_end, "rb") as pipe:
        pipe.readline()

def test_the_next_test():
    pass
'''


def imports_of_test_modules(path: Path) -> list[str]:
    """The test modules (tests.test_x, test_x, .test_x) that the module at PATH imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names = [base] if _is_test_module(base) else [".".join(filter(None, (base, alias.name)))
                                                           for alias in node.names]
        found.extend(name for name in names if _is_test_module(name))
    return found


def _is_test_module(name: str) -> bool:
    """Whether the dotted NAME ends in a test module's name (test_x)."""
    return name.rpartition(".")[2].startswith("test_")


def numbered_test_names(path: Path) -> list[str]:
    """Test functions and classes in PATH named after an issue or item number."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and NUMBERED_NAME.match(node.name.lower())]


def issue_citations(path: Path) -> list[str]:
    """Where docstrings and comments in PATH cite an issue or its items, by number or by title."""
    text = path.read_text(encoding="utf-8")
    docstrings = [ast.get_docstring(node, clean=False) or "" for node in ast.walk(ast.parse(text, str(path)))
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    comments = [token.string for token in tokenize.generate_tokens(io.StringIO(text).readline)
                if token.type == tokenize.COMMENT]
    return [found.group(0) for piece in docstrings + comments for found in CITED_ISSUE.finditer(piece)]


def suite_files() -> list[Path]:
    """Every Python file of the suite, helpers and the fake server included."""
    return sorted(TESTS.rglob("*.py"))


def test_every_test_runs_under_a_timeout(pytestconfig):
    assert float(pytestconfig.getini("timeout")) > 0
    assert pytestconfig.getini("timeout_method") == "signal"


def test_a_hung_read_fails_the_test_and_the_run_goes_on(tmp_path):
    (tmp_path / "test_hung.py").write_text(HUNG_READ)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-c", str(PYPROJECT), "--rootdir", str(tmp_path),
                           "-p", "no:cacheprovider", "-o", "timeout=1", str(tmp_path / "test_hung.py")],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=90)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Timeout" in proc.stdout and "readline" in proc.stdout
    assert re.search(r"1 failed, 1 passed", proc.stdout), proc.stdout


def test_no_test_module_imports_another():
    offenders = {path.name: imports_of_test_modules(path) for path in suite_files()}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_test_is_named_after_an_issue_or_item():
    offenders = {path.name: numbered_test_names(path) for path in suite_files()}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_docstring_or_comment_cites_an_issue():
    offenders = {path.name: issue_citations(path) for path in suite_files()}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_citation_check_sees_docstrings_and_comments(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('''"""Fault matrix (issue 8, items 3 and 4)."""\n# -- item 5: pages ---\n'''
                     '''def test_x():\n    """Bodies (issue "Nothing is trusted")."""\n'''
                     '''def test_y():\n    """An issue with the disk is reported; 3 items on a page."""\n''')
    assert issue_citations(probe) == ["issue 8", "items 3", 'issue "', "item 5"]


def test_the_import_check_sees_every_form(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from tests.test_repl import ScriptedInput\nimport tests.test_http_core\n"
                     "from . import test_chat\nfrom .test_app import x\nfrom tests import fakeapi, test_fim\n"
                     "from tests.generation_helpers import saved\n")
    assert imports_of_test_modules(probe) == ["tests.test_repl", "tests.test_http_core", "test_chat",
                                              "test_app", "tests.test_fim"]


def test_the_name_check_sees_numbered_names(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def test_issue_6():\n    pass\ndef test_item3_is_fixed():\n    pass\n"
                     "class TestIssue12:\n    pass\ndef test_a_5xx_is_retried():\n    pass\n"
                     "def test_watch_exits_5_when_the_job_fails():\n    pass\n")
    assert numbered_test_names(probe) == ["test_issue_6", "test_item3_is_fixed", "TestIssue12"]
