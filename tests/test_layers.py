"""The layers, as the source draws them: every import runs downward, no import cycle of any
length, no module over 600 lines; the HTTP core and the operations never load a terminal
library; commands never write to the process's streams themselves (they write through Env);
no API path is written outside the operation table (api/operations.py).

Top to bottom (a module may import its own layer and any below it; a module's layer is
that of its top-level package under mistral_cli, so commands/batch/watch.py is `commands`):

    app, invoke, docgen, __main__
    commands
    generation, batchrun
    render, store, inputs, validate
    env
    sandbox
    api
    bodies
    http, config
    errors, safe_files, times, numbers, the package itself

What counts as an import (an edge of the graph):
- every import statement, wherever it stands: inside functions, under TYPE_CHECKING;
  `from pkg import sub` is an edge to pkg.sub (and to pkg's __init__ only when a name
  imported is not a submodule: Python runs a parent's __init__ for any submodule, which
  uses none of its code);
- every string constant that is exactly a module's dotted name ("mistral_cli.commands.chat"):
  the registries (app.REGISTRY) name the modules that importlib later imports. The edge goes from the module that holds the
  string: it chose the target. A module that imports by a name it was handed (app.build_app
  over app.REGISTRY) imports the registry's module, so its reach is covered transitively.
  Scanning every string, not a list of registries, keeps a new registry covered; a string
  that looks like a module name and names none fails (a registry typo).
"""

from __future__ import annotations

import ast
import functools
import re
import shutil
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mistral_cli"
MAX_LINES = 600
MODULE_NAME = re.compile(r"mistral_cli(\.\w+)+")

LAYERS: tuple[tuple[str, ...], ...] = (
    ("app", "invoke", "docgen", "__main__"),
    ("commands",),
    ("generation", "batchrun"),
    ("render", "store", "inputs", "validate"),
    ("env",),
    ("sandbox",),  # the local API: Env's `sandbox` transport and `mcli sandbox` load it, lazily
    ("api",),
    ("bodies",),
    ("http", "config"),
    ("errors", "safe_files", "times", "numbers", "__init__"),
)
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}

# The one cycle the design has: `mcli completion` (docgen/command.py, named in app.REGISTRY)
# prints a script generated from the whole app (docgen/completion.py over docgen/tree.py),
# so docgen.tree builds the whole app (app.build_app). app imports the registry's modules
# only when their group runs, so the cycle never runs at import time. Exactly these modules:
# a cycle that draws in one more fails, and test_every_allowed_cycle_still_exists fails once
# this one is gone.
ALLOWED_CYCLES = (
    frozenset({"mistral_cli.app", "mistral_cli.docgen.command", "mistral_cli.docgen.completion",
               "mistral_cli.docgen.tree"}),
)


# -- the graph ------------------------------------------------------------------------------------

def module_paths(root: Path) -> dict[str, Path]:
    """mistral_cli.a.b -> ROOT/a/b.py for every module under ROOT (the package folder)."""
    return {module_name(root, path): path for path in sorted(root.rglob("*.py"))}


def module_name(root: Path, path: Path) -> str:
    """mistral_cli.a.b for ROOT/a/b.py (a package's __init__ is the package)."""
    parts = ["mistral_cli", *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def top_package(module: str) -> str:
    """The part of MODULE the layer table keys on: a.b.c -> a ("__init__" for the package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of(module: str) -> int:
    """The rank of MODULE's layer (0 is the top)."""
    return RANK[top_package(module)]


def parsed(path: Path) -> ast.Module:
    """The syntax tree of the module at PATH (a syntax error names PATH)."""
    source = path.read_text(encoding="utf-8")
    try:
        return _tree(source)
    except SyntaxError:
        return ast.parse(source, str(path))


@functools.lru_cache(maxsize=1024)
def _tree(source: str) -> ast.Module:
    """SOURCE parsed once: a planted fault changes one or two modules of the copied package,
    and the checks only read the trees."""
    return ast.parse(source)


def imports_of(path: Path, module: str, modules: set[str]) -> set[str]:
    """The modules of MODULES that PATH (MODULE's source) imports, by statement or by name."""
    tree = parsed(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update(_from_import_targets(node, package, modules))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if MODULE_NAME.fullmatch(node.value):
                found.add(node.value)
    return {name for name in found if name in modules and name != module}


def _from_import_targets(node: ast.ImportFrom, package: str, modules: set[str]) -> set[str]:
    """What `from BASE import a, b` uses: the submodules among a, b, and BASE if any is not one."""
    base = node.module or ""
    if node.level:
        anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join(anchor + ([base] if base else []))
    names = {f"{base}.{alias.name}" for alias in node.names}
    submodules = names & modules
    return submodules if submodules == names else submodules | {base}


def module_name_strings(path: Path) -> set[str]:
    """Every string constant in PATH that is shaped like a mistral_cli module name."""
    tree = parsed(path)
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and MODULE_NAME.fullmatch(node.value)}


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the project modules it imports (statements and module names in strings)."""
    paths = module_paths(root)
    modules = set(paths)
    return {module: imports_of(path, module, modules) for module, path in paths.items()}


@functools.cache
def package_graph() -> dict[str, set[str]]:
    """The package's graph as it is, built once for the tests that read it."""
    return graph()


# -- the checks -----------------------------------------------------------------------------------

def modules_without_a_layer(edges: dict[str, set[str]]) -> list[str]:
    """Modules whose top-level package is missing from LAYERS."""
    return sorted(module for module in edges if top_package(module) not in RANK)


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """Every `importer -> imported` where the imported module stands in a higher layer."""
    return sorted(f"{importer} -> {imported}" for importer, targets in edges.items()
                  for imported in targets if layer_of(imported) < layer_of(importer))


def import_cycles(edges: dict[str, set[str]], allowed: tuple[frozenset[str], ...] = ()) -> list[str]:
    """One cycle, `a -> b -> ... -> a`, for each group of modules that import each other,
    except the groups listed in ALLOWED (a group that grows is no longer the listed one)."""
    groups = [group for group in _strong_components(edges)
              if (len(group) > 1 or group[0] in edges[group[0]]) and frozenset(group) not in allowed]
    return sorted(" -> ".join(_cycle_through(group, edges)) for group in groups)


def _strong_components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of EDGES (iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    components.append(_pop_component(node, stack, on_stack))
            elif target not in index:
                index[target] = low[target] = len(index)
                stack.append(target)
                on_stack.add(target)
                work.append((target, iter(sorted(edges.get(target, ())))))
            elif target in on_stack:
                low[node] = min(low[node], index[target])
    return components


def _pop_component(root: str, stack: list[str], on_stack: set[str]) -> list[str]:
    """Pop ROOT's component off STACK, sorted."""
    component = []
    while True:
        node = stack.pop()
        on_stack.discard(node)
        component.append(node)
        if node == root:
            return sorted(component)


def _cycle_through(group: list[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest path from GROUP's first module back to itself, inside GROUP."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges[node] & members):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle in the component {group}")  # cannot happen: it is strong


def unknown_module_names(root: Path = PACKAGE) -> list[str]:
    """Strings shaped like a module name that name no module (a typo in a registry)."""
    paths = module_paths(root)
    return sorted(f"{module}: {name!r}" for module, path in paths.items()
                  for name in module_name_strings(path) if name not in paths)


def long_modules(root: Path = PACKAGE) -> list[str]:
    """Modules over MAX_LINES lines, with their length."""
    lengths = {module: len(path.read_text(encoding="utf-8").splitlines())
               for module, path in module_paths(root).items()}
    return sorted(f"{module}: {count} lines" for module, count in lengths.items() if count > MAX_LINES)


NO_TERMINAL = ("http", "api")  # usable from any front end, cheap to import
TERMINAL_LIBRARIES = frozenset({"typer", "rich", "click"})
STREAMS = frozenset({"stdout", "stderr", "__stdout__", "__stderr__"})


def external_imports(path: Path) -> set[str]:
    """The top-level names of the outside packages PATH imports, wherever the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def terminal_imports(root: Path = PACKAGE) -> list[str]:
    """`module -> library` for every terminal library imported in a NO_TERMINAL package."""
    return sorted(f"{module} -> {name}" for module, path in module_paths(root).items()
                  if top_package(module) in NO_TERMINAL
                  for name in external_imports(path) & TERMINAL_LIBRARIES)


def direct_stream_writes(root: Path = PACKAGE) -> list[str]:
    """`module:line` for every `sys.stdout`/`sys.stderr` or bare `print(...)` in commands/."""
    found: list[str] = []
    for module, path in module_paths(root).items():
        if top_package(module) != "commands":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            stream = (isinstance(node, ast.Attribute) and node.attr in STREAMS
                      and isinstance(node.value, ast.Name) and node.value.id == "sys")
            printed = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
            if stream or printed:
                found.append(f"{module}:{node.lineno}")
    return sorted(found)


# Paths come from the operation table (api/operations.py): no string outside it starts with
# `/v1/` or names a request as `METHOD /v1/...` (docstrings aside). The sandbox is exempt: it is
# the server, answering the spec's paths by the spec's operation ids, and it checks the table's
# paths only if it does not take them from the table. An example command line (`mcli api GET
# /v1/models`) is what a user types, not what mcli sends.
PATH_LITERAL = re.compile(r"^/v1(/|$)|\b(GET|POST|PUT|PATCH|DELETE) /v1\b")
PATHS_ALLOWED_IN = ("mistral_cli.api.operations", "mistral_cli.sandbox")
# The list commands still name their request by hand; the list path's own change replaces these
# with the table's. An entry that is gone fails (test_every_allowed_path_literal_still_exists).


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of TREE's module, classes and functions."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)}


def path_literals(root: Path = PACKAGE) -> list[tuple[str, str]]:
    """(module, string) for each string outside PATHS_ALLOWED_IN that holds a path of its own
    (f-strings' literal parts included)."""
    found: list[tuple[str, str]] = []
    for module, path in module_paths(root).items():
        text = path.read_text(encoding="utf-8")
        if module.startswith(PATHS_ALLOWED_IN) or "/v1" not in text:
            continue
        tree = ast.parse(text, str(path))
        docstrings = _docstrings(tree)
        found.extend((module, node.value) for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str)
                     and id(node) not in docstrings and not node.value.startswith("mcli ")
                     and PATH_LITERAL.search(node.value))
    return sorted(found)


@functools.cache
def package_path_literals() -> frozenset[tuple[str, str]]:
    """The package's path literals as it is, found once for the tests that read them."""
    return frozenset(path_literals())


# -- the package as it is -------------------------------------------------------------------------

def test_every_module_has_a_layer():
    assert modules_without_a_layer(package_graph()) == [], "add these packages to LAYERS"


def test_imports_only_run_downward():
    assert upward_imports(package_graph()) == []


def test_no_import_cycle_of_any_length():
    assert import_cycles(package_graph(), ALLOWED_CYCLES) == []


def test_every_allowed_cycle_still_exists():
    cycles = import_cycles(package_graph())
    assert len(cycles) == len(ALLOWED_CYCLES), f"remove the cycles that are gone from ALLOWED_CYCLES: {cycles}"


def test_every_module_name_in_a_string_names_a_module():
    assert unknown_module_names() == []


def test_no_module_is_over_600_lines():
    assert long_modules() == []


def test_the_http_core_and_the_operations_load_no_terminal_library():
    assert terminal_imports() == []


def test_commands_write_only_through_env():
    assert direct_stream_writes() == []


def test_no_path_outside_the_operation_table():
    assert sorted(package_path_literals()) == []


def test_the_registries_are_edges_of_the_graph():
    edges = package_graph()
    assert "mistral_cli.commands.chat" in edges["mistral_cli.app"]
    assert "mistral_cli.docgen.command" in edges["mistral_cli.app"]


# -- the checker catches what it should -----------------------------------------------------------

@pytest.fixture
def package_copy(tmp_path) -> Path:
    """A copy of the package's sources, to plant faults in."""
    copy = tmp_path / "mistral_cli"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def plant(path: Path, source: str) -> None:
    """Append SOURCE to the module at PATH."""
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + source + "\n", encoding="utf-8")


def test_a_planted_lazy_upward_import_fails_the_check(package_copy):
    plant(package_copy / "http" / "client.py", "def _planted():\n    from mistral_cli.commands.shared import several_ids\n")
    assert upward_imports(graph(package_copy)) == ["mistral_cli.http.client -> mistral_cli.commands.shared.several_ids"]


def test_a_planted_upward_import_under_type_checking_fails_the_check(package_copy):
    plant(package_copy / "errors.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mistral_cli.env\n")
    assert upward_imports(graph(package_copy)) == ["mistral_cli.errors -> mistral_cli.env"]


def test_a_planted_upward_registry_string_fails_the_check(package_copy):
    plant(package_copy / "api" / "tags.py", 'PLANTED = ("x", "mistral_cli.generation.run")')
    assert upward_imports(graph(package_copy)) == ["mistral_cli.api.tags -> mistral_cli.generation.run"]


def test_an_upward_import_in_a_new_sub_package_fails_the_check(package_copy):
    (package_copy / "commands" / "planted").mkdir()
    (package_copy / "commands" / "planted" / "__init__.py").write_text('"""A tag\'s commands."""\n')
    (package_copy / "commands" / "planted" / "watch.py").write_text("from mistral_cli import app\n")
    edges = graph(package_copy)
    assert modules_without_a_layer(edges) == []
    assert upward_imports(edges) == ["mistral_cli.commands.planted.watch -> mistral_cli.app"]


def test_a_planted_three_module_cycle_fails_the_check(package_copy):
    plant(package_copy / "render" / "chart.py", "from mistral_cli.store import ids")
    plant(package_copy / "store" / "ids.py", "import mistral_cli.inputs")
    plant(package_copy / "inputs.py", "def _planted():\n    from mistral_cli.render.chart import line_chart\n")
    assert import_cycles(graph(package_copy), ALLOWED_CYCLES) == [
        "mistral_cli.inputs -> mistral_cli.render.chart -> mistral_cli.store.ids -> mistral_cli.inputs"]


def test_a_package_and_its_submodule_importing_each_other_is_a_cycle(package_copy):
    plant(package_copy / "render" / "__init__.py", "from mistral_cli.render.chart import line_chart")
    plant(package_copy / "render" / "chart.py", "from mistral_cli.render import CONSTANT_OF_INIT")
    assert import_cycles(graph(package_copy), ALLOWED_CYCLES) == [
        "mistral_cli.render -> mistral_cli.render.chart -> mistral_cli.render"]


def test_an_allowed_cycle_that_draws_in_another_module_fails_the_check(package_copy):
    plant(package_copy / "docgen" / "man.py", "from mistral_cli.docgen import command")
    plant(package_copy / "docgen" / "tree.py", "def _planted():\n    from mistral_cli.docgen import man\n")
    assert import_cycles(graph(package_copy), ALLOWED_CYCLES) == [
        "mistral_cli.app -> mistral_cli.docgen.command -> mistral_cli.docgen.tree -> mistral_cli.app"]


def test_a_misspelt_registry_line_fails_the_check(package_copy):
    plant(package_copy / "app.py", 'PLANTED = "mistral_cli.commands.chta"')
    assert unknown_module_names(package_copy) == ["mistral_cli.app: 'mistral_cli.commands.chta'"]


def test_a_module_of_601_lines_fails_the_check(package_copy):
    (package_copy / "inputs.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert long_modules(package_copy) == [f"mistral_cli.inputs: {MAX_LINES + 1} lines"]


def test_a_planted_rich_import_in_the_http_core_fails_the_check(package_copy):
    plant(package_copy / "http" / "body.py", "def _planted():\n    from rich.console import Console\n")
    plant(package_copy / "api" / "files.py", "import typer\n")
    assert terminal_imports(package_copy) == ["mistral_cli.api.files -> typer", "mistral_cli.http.body -> rich"]


def test_a_planted_stdout_write_in_a_command_fails_the_check(package_copy):
    source = (package_copy / "commands" / "models.py").read_text(encoding="utf-8")
    lines = len(source.splitlines())
    plant(package_copy / "commands" / "models.py", "def _planted():\n    sys.stdout.write('x')\n    print('y')\n")
    assert direct_stream_writes(package_copy) == [f"mistral_cli.commands.models:{lines + 4}",
                                                  f"mistral_cli.commands.models:{lines + 5}"]


def test_a_planted_path_literal_fails_the_check(package_copy):
    plant(package_copy / "commands" / "models.py", 'PLANTED = "/v1/models"')
    plant(package_copy / "http" / "transfer.py", 'def _planted(x):\n    return f"unexpected response from POST /v1/files/{x}: id"\n')
    plant(package_copy / "bodies" / "batch.py", 'PLANTED = ("x", "DELETE /v1/fine_tuning/models/{model_id}/archive")')
    assert sorted(set(path_literals(package_copy))) == [
        ("mistral_cli.bodies.batch", "DELETE /v1/fine_tuning/models/{model_id}/archive"),
        ("mistral_cli.commands.models", "/v1/models"),
        ("mistral_cli.http.transfer", "unexpected response from POST /v1/files/")]


def test_docstrings_examples_the_table_and_the_sandbox_may_name_paths(package_copy):
    plant(package_copy / "commands" / "models.py", 'def _planted():\n    """GET /v1/models."""\n    return "mcli api GET /v1/models"\n')
    plant(package_copy / "sandbox" / "world.py", 'PLANTED = "/v1/models"')
    plant(package_copy / "api" / "operations.py", 'PLANTED = "GET /v1/models"')
    assert set(path_literals(package_copy)) == package_path_literals()


@pytest.mark.parametrize("source, expected", [
    ("from mistral_cli.app import main", {"mistral_cli.app"}),
    ("def f():\n    from mistral_cli.commands.shared import several_ids\n",
     {"mistral_cli.commands.shared.several_ids"}),
    ("from mistral_cli.commands.shared import several_ids, REGISTRY_OF_INIT\n",
     {"mistral_cli.commands.shared", "mistral_cli.commands.shared.several_ids"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mistral_cli.env\n",
     {"mistral_cli.env"}),
    ("from .. import inputs\nfrom . import chart\n", {"mistral_cli.inputs", "mistral_cli.render.chart"}),
    ('import importlib\nimportlib.import_module("mistral_cli.api.tags")\n', {"mistral_cli.api.tags"}),
    ('"""Calls `mistral_cli.api.tags` and prints: mistral_cli.env."""\n', set()),
])
def test_the_scanner_sees_every_kind_of_import(tmp_path, source, expected):
    path = tmp_path / "probe.py"
    path.write_text(source)
    modules = set(module_paths(PACKAGE))
    assert imports_of(path, "mistral_cli.render.probe", modules) == expected
