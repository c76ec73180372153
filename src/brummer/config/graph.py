"""The ``depends_on`` graph: name lookup, cycle detection, and a stable start order.

Start order is a topological sort that, among the processes whose dependencies are already placed, always
takes the one discovered first. So without dependencies the order is exactly discovery order, and adding one
edge moves as little as possible: ``up``, ``ls`` and the panel all show processes in the same predictable
order.
"""

from __future__ import annotations

import difflib
import fnmatch
import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from brummer.config.files import toml_line
from brummer.config.spec import ProcessSpec, ProjectSpec
from brummer.errors import ConfigError, DependencyCycleError

if TYPE_CHECKING:
    from brummer.config.toml_file import TomlDocument

_GLOB = re.compile(r"[*?\[]")


def unknown_process(name: str, known: Iterable[str]) -> str:
    """``unknown process 'wbe' (known: api, web); did you mean 'web'?``"""
    known = list(known)
    message = f"unknown process {name!r} (known: {', '.join(known) or 'none'})"
    close = difflib.get_close_matches(name, known, n=1)
    return f"{message}; did you mean {close[0]!r}?" if close else message


def resolve_name(processes: Mapping[str, ProcessSpec], name: str) -> str:
    """The process ``name`` refers to: itself, or a scoped workspace script by its short form.

    ``web:dev`` finds ``@acme/web:dev`` when exactly one scope has a ``web`` package with a ``dev`` script.
    Raises ConfigError (with a suggestion) for an unknown or ambiguous name.
    """
    if name in processes:
        return name
    if ":" in name and not name.startswith("@"):
        matches = [full for full in processes if full.startswith("@") and full.partition("/")[2] == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ConfigError(f"process name {name!r} is ambiguous: {', '.join(matches)}")
    raise ConfigError(unknown_process(name, processes))


def find_cycle(processes: Mapping[str, ProcessSpec], among: Iterable[str] | None = None) -> list[str] | None:
    """A dependency cycle as ``[a, b, a]``, or None; depth-first in discovery order, so deterministic."""
    nodes = set(processes if among is None else among)
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for dep in processes[name].depends_on:
            if dep not in nodes or dep not in processes:
                continue
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[name] = 2
        return None

    for name in processes:
        if name in nodes and name not in state and (cycle := visit(name)):
            return cycle
    return None


def check_acyclic(processes: Mapping[str, ProcessSpec], document: TomlDocument) -> None:
    """Raise a cycle error at the ``depends_on`` line of the cycle's first process (cycles are only made in
    brummer.toml: no other source has dependencies)."""
    if cycle := find_cycle(processes):
        line = toml_line(document.text, ("processes", cycle[0]), "depends_on", cycle[1])
        raise DependencyCycleError(cycle, document.path, line)


def _toml_path(project: ProjectSpec) -> Path | None:
    return next((f for f in project.files if f.name == "brummer.toml" and f.parent == project.root), None)


def start_order(project: ProjectSpec, names: Iterable[str]) -> list[str]:
    """``names`` sorted so that each comes after its dependencies (those among ``names``), else by discovery.

    Dependencies outside ``names`` are ignored here; ``select_processes`` adds them first.
    """
    processes = project.processes
    wanted = list(dict.fromkeys(resolve_name(processes, name) for name in names))
    index = {name: i for i, name in enumerate(processes)}
    members = set(wanted)
    waiting = {name: {dep for dep in processes[name].depends_on if dep in members} for name in wanted}
    dependents: dict[str, list[str]] = {name: [] for name in wanted}
    for name, deps in waiting.items():
        for dep in deps:
            dependents[dep].append(name)
    ready = [(index[name], name) for name, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for dependent in dependents[name]:
            waiting[dependent].discard(name)
            if not waiting[dependent]:
                heapq.heappush(ready, (index[dependent], dependent))
    if len(order) < len(wanted):
        cycle = find_cycle(processes, members) or sorted(members - set(order))
        raise DependencyCycleError(cycle, _toml_path(project))
    return order


def expand_names(processes: Mapping[str, ProcessSpec], names: Iterable[str]) -> list[str]:
    """Names as a user types them: a name (or workspace short form), or a glob (``'*:dev'``: every workspace
    member's ``dev`` script; ``api*``), which matches processes in discovery order and must match one at least."""
    found: list[str] = []
    for name in names:
        if name in processes or not _GLOB.search(name):
            found.append(resolve_name(processes, name))
            continue
        matches = [full for full in processes if fnmatch.fnmatchcase(full, name)]
        if not matches and ":" in name and not name.startswith("@"):  # '*:dev' also finds '@acme/web:dev'
            matches = [full for full in processes if fnmatch.fnmatchcase(full.partition("/")[2] or full, name)]
        if not matches:
            raise ConfigError(f"no process matches {name!r} (known: {', '.join(processes) or 'none'})")
        found += matches
    return list(dict.fromkeys(found))


def select_processes(project: ProjectSpec, names: Sequence[str]) -> list[str]:
    """What ``brummer up NAME...`` runs: the named processes (or the defaults) plus everything they depend on,
    transitively, in start order. Names may be globs (``expand_names``)."""
    requested = expand_names(project.processes, names or project.default)
    selected: dict[str, None] = {}
    stack = list(reversed(requested))
    while stack:
        name = stack.pop()
        if name in selected:
            continue
        selected[name] = None
        stack.extend(resolve_name(project.processes, dep) for dep in project.processes[name].depends_on)
    return start_order(project, selected)
