"""The layers, as the source draws them: every import (inside functions and under
TYPE_CHECKING too) runs downward, and no two modules import each other.

Top to bottom (a module may import its own layer and any below it):

    app, invoke, docgen, __main__
    commands, options
    generation, batchrun
    render, store, inputs, validate
    env
    api
    models
    http, config
    errors, the package itself
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mistral_cli"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("app", "invoke", "docgen", "__main__"),
    ("commands", "options"),
    ("generation", "batchrun"),
    ("render", "store", "inputs", "validate"),
    ("env",),
    ("api",),
    ("models",),
    ("http", "config"),
    ("errors", "__init__"),
)
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def module_name(path: Path) -> str:
    """mistral_cli.a.b for PACKAGE/a/b.py (a package's __init__ is the package)."""
    parts = ["mistral_cli", *path.relative_to(PACKAGE).with_suffix("").parts]
    if parts[-1] == "__init__" and len(parts) > 2:
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The rank of MODULE's layer (0 is the top)."""
    parts = module.split(".")
    return RANK[parts[1] if len(parts) > 1 else "__init__"]


def imports_of(path: Path, module: str) -> set[str]:
    """Every mistral_cli module PATH imports, wherever the import statement stands."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "mistral_cli"}


def graph() -> dict[str, set[str]]:
    """Module -> the project modules (real ones, not names inside them) it imports."""
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {module: {name for name in imports_of(path, module) if name in paths and name != module}
            for module, path in paths.items()}


def test_every_module_has_a_layer():
    unknown = sorted(module for module in graph() if module.split(".")[1:2]
                     and module.split(".")[1] not in RANK)
    assert unknown == [], f"add these packages to LAYERS: {unknown}"


def test_imports_only_run_downward():
    upward = sorted(f"{importer} -> {imported}" for importer, targets in graph().items()
                    for imported in targets if layer_of(imported) < layer_of(importer))
    assert upward == []


def test_no_two_modules_import_each_other():
    edges = graph()
    cycles = sorted(f"{a} <-> {b}" for a, targets in edges.items() for b in targets
                    if a < b and a in edges.get(b, ()) and not _is_package_of(a, b))
    assert cycles == []


def _is_package_of(a: str, b: str) -> bool:
    """A package's __init__ and its own submodules may name each other (re-exports, errors)."""
    return b.startswith(a + ".") or a.startswith(b + ".")


@pytest.mark.parametrize("source, expected", [
    ("from mistral_cli.app import main", {"mistral_cli.app", "mistral_cli.app.main"}),
    ("def f():\n    from mistral_cli.commands import common\n",
     {"mistral_cli.commands", "mistral_cli.commands.common"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mistral_cli.env\n",
     {"mistral_cli.env"}),
])
def test_the_scanner_sees_lazy_and_type_checking_imports(tmp_path, source, expected):
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert imports_of(path, "mistral_cli.render.probe") == expected


def test_an_upward_import_would_be_caught():
    assert layer_of("mistral_cli.app") < layer_of("mistral_cli.commands.common")
    assert layer_of("mistral_cli.env") < layer_of("mistral_cli.config.settings")
    assert layer_of("mistral_cli.commands.common") < layer_of("mistral_cli.generation.attachments")
