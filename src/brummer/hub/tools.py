"""The hub's tool list: an instance's tools with a ``project`` argument, plus ``projects_list`` and its answer.

The tools come from the connected instances' ``tools/list`` (so a newer instance's tools and arguments show as they
are), and from brummer's own schemas for any tool no instance has listed yet (the hub serves a full list before the
first instance connects). Plain data: the server turns it into SDK models.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from brummer.hub.upstreams import Upstreams
from brummer.mcp import schemas

PROJECTS_LIST = "projects_list"
PROJECT = {"type": "string", "maxLength": 4096, "description": "From projects_list (or a path); one running: optional"}
TEMPLATE = {
    "uriTemplate": "brummer://logs/{name}{?project}",
    "name": "logs",
    "description": "The newest log lines of one process of a project, with sequence numbers and a `next` cursor.",
    "mimeType": "application/json",
}
PROJECT_ROW = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Pass as `project` (the path when two projects share a name)."},
        "path": {"type": "string"},
        "pid": {"type": "integer"},
        "version": {"type": "string"},
        "uptime_s": {"type": "number"},
        "connected": {"type": "boolean"},
        "problem": {"type": "string"},
    },
    "required": ["name", "path", "pid", "uptime_s", "connected"],
}
PROJECTS_TOOL = {
    "name": PROJECTS_LIST,
    "description": "Every project a `brummer up` runs on this machine: the name to pass as `project` to the other "
    "tools, its path, brummer's pid and uptime, and whether the hub is connected to it.",
    "inputSchema": {"type": "object", "properties": {}, "additionalProperties": False},
    "outputSchema": {
        "type": "object",
        "properties": {"projects": {"type": "array", "items": PROJECT_ROW}, "count": {"type": "integer"}},
        "required": ["projects", "count"],
    },
    "annotations": {"readOnlyHint": True, "idempotentHint": True, "openWorldHint": False},
}


def _own(spec: schemas.ToolSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "inputSchema": spec.input,
        "outputSchema": spec.output,
        "annotations": spec.annotations,
    }


def hub_tools(listed: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every tool, with ``project`` added to its arguments, and ``projects_list`` first."""
    tools = {spec.name: _own(spec) for spec in schemas.TOOLS}
    tools.update({tool["name"]: tool for tool in listed})
    out = [PROJECTS_TOOL]
    for tool in tools.values():
        schema = dict(tool.get("inputSchema") or {"type": "object"})
        schema["properties"] = {**(schema.get("properties") or {}), "project": PROJECT}
        out.append({**tool, "inputSchema": schema})
    return out


def projects_answer(upstreams: Upstreams, now: float) -> tuple[str, dict[str, Any]]:
    rows = []
    lines = []
    for up in upstreams.projects():
        label = upstreams.label(up)
        row: dict[str, Any] = {
            "name": label,
            "path": str(up.project),
            "pid": up.entry.pid,
            "version": up.entry.version,
            "uptime_s": round(max(0.0, now - up.entry.started_at), 1),
            "connected": up.session is not None,
        }
        if up.problem:
            row["problem"] = up.problem
        rows.append(row)
        state = "connected" if up.session is not None else up.problem or "connecting"
        lines.append(f"{label}: {up.project} (brummer up pid {up.entry.pid}, {state})")
    text = "\n".join(lines) if lines else "no brummer up is running on this machine; start one with `brummer up`"
    return text, {"projects": rows, "count": len(rows)}
