"""No import circles between brummer's modules.

Every import counts: at module level, inside a function (a lazy import only hides a circle until that function
runs) and under ``TYPE_CHECKING`` (a type that names its user's module is a circle of knowledge). Read from the
source with ``ast``, so no module is executed and the answer does not depend on what was imported first.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import brummer

SRC = Path(brummer.__file__).parent

# Type-only references back inside the proxy's relay: a connection names its Site, the hooks and the WebSocket pump
# name the connection. Left while the browser telemetry builds on ``proxy.hooks``; an entry that no longer exists
# must leave this list (the test says so).
ALLOWED = {
    # type-only: the telemetry keeps a tab's PageReports, which apply to its Session and Telemetry
    ("brummer.browser.telemetry", "brummer.browser.page_errors"),
    ("brummer.proxy.hooks", "brummer.proxy.http1"),
    ("brummer.proxy.http1", "brummer.proxy.server"),
    ("brummer.proxy.websocket", "brummer.proxy.http1"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> Iterator[str]:
    """The brummer modules ``path`` imports (``from pkg import mod`` is ``pkg.mod``; ``from mod import name`` is
    ``mod``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in SRC.rglob("*.py")}
    return {name: set(imports(path, set(paths))) for name, path in paths.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_no_module_imports_itself_through_others() -> None:
    graph = import_graph()
    stale = sorted(edge for edge in ALLOWED if edge[1] not in graph.get(edge[0], set()))
    assert not stale, f"these imports are gone: take them out of ALLOWED: {stale}"
    for source, target in ALLOWED:
        graph[source].discard(target)
    assert circles(graph) == []


def test_the_check_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert "brummer.bus.events" in import_graph()["brummer.bus"]  # a package's re-exports count
