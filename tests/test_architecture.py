"""The layout checks itself: read every module's imports (statically, nothing is imported) and hold them to the
house rules: no import cycles between modules or between folders, `infra/` stands on no business folder, and only the
entry points in `app/` import `app/`."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINTS = "app"
GROUND_FLOOR = "infra"
NOT_PACKAGES = {"tests", "bench"}


def packages() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name not in NOT_PACKAGES)


def modules() -> dict[str, Path]:
    found = {}
    for package in packages():
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (at the top or inside functions; `TYPE_CHECKING` imports included)."""
    known = modules()
    graph = {}
    for name, path in known.items():
        named: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                named.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                named.add(node.module)
                named.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {target for target in named if target in known and target != name and
                       not name.startswith(target + ".")}  # a module's own package __init__ is no import of note
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
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
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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


def folder_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Folder -> the folders whose code it uses. A folder's `events.py` is the contract it publishes, not code others
    lean on, so two folders may read each other's events (the feed's records, the item service's outcomes)."""
    folders: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        folders[source.split(".")[0]].update(t.split(".")[0] for t in targets
                                             if t.split(".")[0] != source.split(".")[0] and not t.endswith(".events"))
    return folders


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports that run against the layers: `infra` importing anything above it, anything but `app` importing `app`."""
    wrong = []
    for source, targets in graph.items():
        folder = source.split(".")[0]
        for target in targets:
            above_infra = folder == GROUND_FLOOR and target.split(".")[0] != GROUND_FLOOR
            into_app = target.split(".")[0] == ENTRY_POINTS and folder != ENTRY_POINTS
            if above_infra or into_app:
                wrong.append((source, target))
    return sorted(wrong)


def test_no_module_imports_another_in_a_cycle():
    assert cycles(import_graph()) == []


def test_no_folder_imports_another_in_a_cycle():
    assert cycles(folder_graph(import_graph())) == []


def test_infra_stands_on_no_business_folder_and_only_app_imports_app():
    assert upward_imports(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert cycles(graph) == [["a", "b", "c"]]


def test_an_upward_import_is_reported():
    graph = {"infra.consumer": {"inbound.events"}, "orders.api": {"app.builder"}, "app.api": {"orders.api"}}

    assert upward_imports(graph) == [("infra.consumer", "inbound.events"), ("orders.api", "app.builder")]


if __name__ == "__main__":  # `python -m tests.test_architecture`: the figures for a report
    graph = import_graph()
    print(f"modules: {len(graph)}, imports: {sum(map(len, graph.values()))}")
    print(f"module cycles: {cycles(graph)}")
    print(f"folder cycles: {cycles(folder_graph(graph))}")
    print(f"upward imports: {len(upward_imports(graph))}")
    for source, target in upward_imports(graph):
        print(f"  {source} -> {target}")
