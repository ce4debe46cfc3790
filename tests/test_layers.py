"""The engine's layers, read from its imports: each sub-package imports only those below it,
no module takes part in an import cycle (an import inside a function counts too), the
repository root holds no UI module but app.py, and no module outgrows 400 lines."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "lstm_core"

# Lowest first: a module imports only from its own sub-package or one listed before it.
LAYERS = (
    "domain",
    "store",
    "data",
    "models",
    "search",
    "execution",
    "jobs",
    "insight",
    "api",
    "cli",
)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def engine_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> list[tuple[str, int]]:
    """Our modules that `path` imports, anywhere in it: `from lstm_core.x import y` names
    module `lstm_core.x.y` when that is a module, else `lstm_core.x`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                target = child if child in known else node.module
                if target in known:
                    found.append((target, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name in known]
    return found


def import_graph() -> list[Edge]:
    modules = engine_modules()
    known = set(modules)
    return [
        Edge(source, target, line)
        for source, path in modules.items()
        for target, line in imports_of(path, known)
        if target != source
    ]


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def cycles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_engine_module_lives_in_a_layer():
    loose = [
        name
        for name in engine_modules()
        if layer(name) is None and name not in {"lstm_core", "lstm_core.__main__"}
    ]
    assert loose == [], f"modules outside the layers {LAYERS}: {loose}"


def test_imports_only_go_down_the_layers():
    upward = [
        f"{e.source} (line {e.line}) imports {e.target}"
        for e in import_graph()
        if layer(e.source) is not None
        and layer(e.target) is not None
        and layer(e.target) > layer(e.source)
    ]
    assert upward == [], "imports going up the layers:\n" + "\n".join(upward)


def test_no_module_takes_part_in_an_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_sees_a_cycle_hidden_in_a_function():
    edges = [Edge("a", "b", 1), Edge("b", "c", 1), Edge("c", "a", 9), Edge("c", "d", 1)]
    assert cycles(edges) == [["a", "b", "c"]]


def test_the_repository_root_holds_no_ui_module_but_app_py():
    assert sorted(p.name for p in ROOT.glob("*.py")) == ["app.py"]


def test_no_module_of_the_project_is_longer_than_400_lines():
    sources = [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("bench/*.py")]
    sources += [*PACKAGE.rglob("*.py"), *(ROOT / "dashboard").rglob("*.py")]
    long = {
        str(p.relative_to(ROOT)): n
        for p in sources
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}, f"split by responsibility: {long}"
