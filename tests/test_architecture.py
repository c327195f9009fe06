"""The shape of the package: no import cycles, a lazy face, one room per study."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import subrational

ROOT = Path(subrational.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Modules ``module`` imports at run time (function-level ones too; not TYPE_CHECKING)."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the subrational modules it imports (and their packages), by static analysis."""
    files = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets = _imports(ast.parse(path.read_text("utf-8")), name, path.name == "__init__.py")
        edges = set()
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
                candidate = ".".join(parts[:i])
                if candidate in files and candidate != name \
                        and not name.startswith(candidate + "."):  # own packages: already run
                    edges.add(candidate)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := dfs(node)):
            return cycle
    return None


def test_no_import_cycles_inside_subrational():
    graph = import_graph()
    assert "subrational.studies.ultimatum.analysis" in graph  # the graph sees the studies
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_function_level_imports_but_not_type_checking_ones():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .x import A\n"
                     "def f():\n    from ..evaluation import y\n")
    found = _imports(tree, "subrational.experiments.core", is_package=False)
    assert "subrational.evaluation" in found and "subrational.experiments.x" not in found


def test_games_never_import_their_analysis():
    graph = import_graph()
    for study in ("ultimatum", "marshmallow", "double_or_nothing", "procrastination"):
        game = f"subrational.studies.{study}.game"
        assert game in graph
        assert not any(m.startswith("subrational.evaluation") or m.endswith(".analysis")
                       for m in graph[game]), (game, graph[game])
    contract = [m for m in graph if m.startswith("subrational.experiments")]
    assert not any(t.startswith(("subrational.evaluation", "subrational.studies"))
                   for m in contract for t in graph[m])


@pytest.mark.parametrize("code", [
    "import subrational",
    "import subrational.cli as c, sys; sys.argv = ['subrational', '--version']\n"
    "try:\n    c.main()\nexcept SystemExit:\n    pass",
])
def test_the_package_face_imports_neither_torch_nor_scipy(code):
    probe = code + "\nimport sys; print(sorted(m for m in ('torch', 'scipy', 'gymnasium', " \
                   "'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_public_names_resolve_lazily():
    for name in subrational.__all__:
        assert getattr(subrational, name) is not None
    with pytest.raises(AttributeError):
        subrational.no_such_name  # noqa: B018
def test_the_lazy_table_and_all_agree():
    assert set(subrational.__all__) - {"__version__"} == set(subrational._PUBLIC)


SCRIPTS = sorted((ROOT.parents[1] / "benchmarks").glob("*.py")) + sorted(
    (ROOT.parents[1] / "examples").rglob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_benchmarks_and_examples_import_names_that_exist(script):
    import importlib

    tree = ast.parse(script.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("subrational"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name) or importlib.util.find_spec(
                    f"{node.module}.{alias.name}"), f"{script.name}: {node.module}.{alias.name}"
