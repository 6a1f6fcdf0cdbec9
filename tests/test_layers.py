"""The package's layers hold: the import-linter contracts of pyproject.toml, and no import
cycle between obskit's top-level modules and packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _lint_imports() -> str | None:
    """The ``lint-imports`` next to this Python (the venv's), else the one on PATH."""
    here = Path(sys.executable).parent / "lint-imports"
    return str(here) if here.is_file() else shutil.which("lint-imports")


def test_import_linter_contracts_hold():
    """``lint-imports`` keeps every contract of ``[tool.importlinter]``: the layers of the
    README's Layout, no cycle between siblings, no private module imported from outside
    its package."""
    command = _lint_imports()
    if command is None:
        pytest.skip("lint-imports is not installed (pip install import-linter, in the dev "
                    "extra)")
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([command, "--no-cache"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"lint-imports found broken contracts:\n{done.stdout}\n" \
                                 f"{done.stderr}"


def _unit(module: str) -> str:
    """The top-level module or package of obskit a module belongs to (``obskit`` itself for
    the package's ``__init__``)."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_top_level_modules():
    """No cycle of imports (at module level or inside functions) between ``obskit``'s
    top-level modules and packages, the package's ``__init__`` counted as one of them."""
    grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (dev extra)")
    graph = grimp.build_graph("obskit")
    edges: dict[str, set[str]] = defaultdict(set)
    lines: dict[tuple[str, str], str] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _unit(module), _unit(imported)
            if a != b:
                edges[a].add(b)
                if (a, b) not in lines:
                    detail = graph.get_import_details(importer=module, imported=imported)
                    where = f" (l.{detail[0]['line_number']})" if detail else ""
                    lines[(a, b)] = f"{module} -> {imported}{where}"
    cycles = _cycles(edges)
    report = []
    for component in cycles:
        members = set(component)
        report.append(" <-> ".join(component) + ":\n" + "\n".join(
            f"    {lines[(a, b)]}" for a in component for b in sorted(edges[a] & members)))
    assert not cycles, "import cycles between top-level modules:\n" + "\n".join(report)


#: "modules with one job, each at most ~400 lines" (issue 13): the bound, with the ~
MAX_MODULE_LINES = 420


def test_every_module_is_short():
    """No module of the package is longer than :data:`MAX_MODULE_LINES` lines."""
    long = {str(p.relative_to(REPO)): n for p in sorted((REPO / "obskit").rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by job): {long}"


def test_plotting_lives_in_render_only():
    """matplotlib is imported by obskit.render and nothing else in the package."""
    import grimp

    graph = grimp.build_graph("obskit", include_external_packages=True)
    users = {m for m in graph.find_modules_that_directly_import("matplotlib")}
    assert users, "render draws with matplotlib: the import graph must show it"
    outside = sorted(m for m in users if not m.startswith("obskit.render"))
    assert not outside, f"matplotlib imported outside obskit.render: {outside}"
