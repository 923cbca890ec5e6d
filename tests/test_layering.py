"""The package's import graph has no circles, lazy imports inside functions included, and the
parts at the bottom never import the floors above them (DESIGN.md, "Package layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import surematch

SRC = Path(surematch.__file__).parent
# a folder or module -> the floors it must never import (dependencies point one way)
NEVER = {
    "surematch.confidence": ("surematch.model", "surematch.index", "surematch.workflows",
                             "surematch.service", "surematch.cli", "surematch.training"),
    "surematch.data": ("surematch.model", "surematch.index", "surematch.workflows",
                       "surematch.service", "surematch.cli"),
    "surematch.folder": ("surematch.model", "surematch.runtime", "surematch.confidence"),
    "surematch.embedder": ("surematch.model", "surematch.runtime"),
    "surematch.index": ("surematch.workflows", "surematch.service", "surematch.cli"),
    "surematch.workflows": ("surematch.service", "surematch.cli"),
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The surematch modules `path` imports anywhere in it (functions too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                     else node.module for a in node.names]
        else:
            continue
        out |= {n for n in names if n in modules}
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()
            if name != "surematch"}  # the package root resolves its public names lazily


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles(graph: dict[str, set[str]]) -> None:
    assert _cycles(graph) == []


def test_circles_are_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("lower", sorted(NEVER))
def test_lower_floors_never_import_upper_ones(graph: dict[str, set[str]], lower: str) -> None:
    bad = sorted(f"{m} -> {d}" for m, deps in graph.items()
                 if m == lower or m.startswith(lower + ".")
                 for d in deps if any(d == u or d.startswith(u + ".") for u in NEVER[lower]))
    assert bad == []
