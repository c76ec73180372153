"""What each tool takes and answers: JSON Schemas (the contract agents see in ``tools/list``), descriptions, hints.

Every agent pays for ``tools/list`` in every session, so it is kept small (``TOOLS_LIST_BYTES``): descriptions say
what a model needs to pick the tool and its arguments, conventions shared by all tools are said once (``DETAIL``,
the server's instructions, README), and output schemas name the fields every answer has, compact or detailed,
and what its items have (no types: the JSON says them, and each would be repeated in every tool that answers a
process). Clients rarely show output schemas to a model; the SDK client validates every result against them,
and so do our tests.

Answers are compact unless ``detail`` is true: the same shape either way, with fewer fields per item and only what
fits ``text.ANSWER_BYTES`` (``more``, ``total``, ``truncated`` and the cursors say what was left out).

Plain data, no SDK types, so the tools and their tests do not need the SDK.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from brummer.logs.kinds import LEVELS, OUTPUT
from brummer.logs.reading import MAX_LINE_CHARS
from brummer.supervise.state import ProcState

Schema = dict[str, Any]

TOOLS_LIST_BYTES = 12 * 1024  # the whole tools/list answer as sent, browser tools included
CORE_TOOLS_LIST_BYTES = 8 * 1024  # the same without the five browser tools
MAX_LINES = 10_000  # one logs_tail/logs_search answer (also bounded in size: reading.ANSWER_CHARS)
MAX_WAIT = 600.0


class WaitCondition(enum.StrEnum):
    """What ``wait_for`` waits for."""

    READY = "ready"
    EXITED = "exited"
    URL = "url"
    LOG = "log"


STATES = [str(state) for state in ProcState]  # idle: never started; pending: waiting for its dependencies
STATE: Schema = {"enum": STATES}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
OBJECT: Schema = {"type": "object"}

NAME: Schema = {"type": "string", "maxLength": 200}
SINCE: Schema = {"type": "integer", "minimum": 0, "description": "`next` of an earlier answer"}
DETAIL: Schema = {"type": "boolean", "description": "All fields"}
PATTERN: Schema = {"type": "string", "minLength": 1, "maxLength": 1000}


def _input(properties: Schema, required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties | {"detail": DETAIL}}
    if required:
        schema["required"] = list(required)
    schema["additionalProperties"] = False
    return schema


def _output(*required: str, **lists: Schema) -> Schema:
    """An answer with the ``required`` fields, and lists of items (``_item``) under the keys of ``lists``."""
    schema: Schema = {"type": "object", "required": list(required)}
    if lists:
        schema["properties"] = {key: {"type": "array", "items": item} for key, item in lists.items()}
    return schema


def _item(*required: str, **properties: Schema) -> Schema:
    """An item of a list: an object with (at least) the ``required`` fields."""
    return {"type": "object", "required": list(required)} | ({"properties": properties} if properties else {})


def _limit(default: int, maximum: int) -> Schema:
    return {"type": "integer", "minimum": 1, "maximum": maximum, "default": default}


CONTROL_ANSWER = _output("name", "action", "state", "process")
LINES_ANSWER = _output("lines", "next", "count", lines=_item("seq", "process", "text"))
LINE_READING = {
    "limit": _limit(100, MAX_LINES),
    "max_line_chars": {"type": "integer", "minimum": 1, "maximum": MAX_LINE_CHARS, "description": "Clip lines here"},
}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input: Schema
    output: Schema
    read_only: bool = True
    idempotent: bool = True

    @property
    def annotations(self) -> dict[str, bool]:
        """MCP tool annotations; ``idempotentHint`` only means something for a tool that is not read-only."""
        if self.read_only:
            return {"readOnlyHint": True, "openWorldHint": False}
        return {"readOnlyHint": False, "idempotentHint": self.idempotent, "openWorldHint": False}


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "scripts_list",
        "The project's processes (package.json scripts, Procfile, brummer.toml), by the names the other tools take.",
        _input({}),
        _output("processes", "count", processes=_item("name", "state")),
    ),
    ToolSpec(
        "scripts_run",
        "Start a process from scripts_list and what it depends on (a running one is left alone).",
        _input({"name": NAME}, ("name",)),
        CONTROL_ANSWER,
        read_only=False,
    ),
    ToolSpec(
        "scripts_stop",
        "Stop a process (stop signal, SIGKILL after its grace) and wait until it is gone.",
        _input({"name": NAME}, ("name",)),
        CONTROL_ANSWER,
        read_only=False,
    ),
    ToolSpec(
        "scripts_restart",
        "Stop a process if it runs, then start it.",
        _input({"name": NAME}, ("name",)),
        CONTROL_ANSWER,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "scripts_status",
        "State, pid, uptime, restarts, exit and URLs of one process or all; events brummer's subscribers missed.",
        _input({"name": NAME}),
        _output("processes", processes=_item("name", "state", state=STATE)),
    ),
    ToolSpec(
        "logs_tail",
        "Log lines: the newest, or the ones after `since` (pass `next` back as `since` to follow). Stream "
        "'brummer': brummer's notes.",
        _input(
            {
                "name": NAME,
                "since": SINCE,
                **LINE_READING,
                "stream": {"enum": [str(stream) for stream in OUTPUT]},
                "level": {"enum": list(LEVELS), "description": "This level or above"},
            }
        ),
        LINES_ANSWER,
    ),
    ToolSpec(
        "logs_search",
        "Log lines matching an RE2 regex (no lookaround or backreferences): the newest, or the ones after `since`.",
        _input(
            {
                "pattern": PATTERN,
                "name": NAME,
                "since": SINCE,
                **LINE_READING,
                "ignore_case": BOOLEAN | {"default": True},
            },
            ("pattern",),
        ),
        LINES_ANSWER,
    ),
    ToolSpec(
        "errors_list",
        "Errors from the logs, grouped and counted, newest first; resolved ones (fixed, says their tool) on request.",
        _input({"name": NAME, "since": SINCE, "limit": _limit(20, 500), "include_resolved": BOOLEAN}),
        _output("errors", "total", "next", errors=_item("id", "process", "message")),
    ),
    ToolSpec(
        "urls_list",
        "URLs the processes announced, with the proxy URL in front of each.",
        _input({}),
        _output("urls", urls=_item("process", "url")),
    ),
    ToolSpec(
        "proxy_requests",
        "Requests and WebSockets through brummer's proxy, newest first (after `since`: oldest first); "
        "status=error: no answer.",
        _input(
            {
                "name": NAME,
                "status": {"enum": ["2xx", "3xx", "4xx", "5xx", "error"]},
                "method": {"type": "string", "maxLength": 20},
                "path": PATTERN | {"description": "RE2 regex"},
                "since": SINCE,
                "limit": _limit(50, 1000),
                "headers": BOOLEAN,
            }
        ),
        _output("requests", "next", requests=_item("id", "path")),
    ),
    ToolSpec(
        "proxy_routes",
        "Per route through brummer's proxy (ids as :id): count, errors, p50/p95 ms.",
        _input({"name": NAME, "limit": _limit(50, 500)}),
        _output("routes", routes=_item("route", "count")),
    ),
    ToolSpec(
        "wait_for",
        "Wait until a process is ready, has exited, announced a URL or printed a line matching `pattern` (in its "
        "current or last run), or timeout_s passed; with progress. Says if it was met, else why not.",
        _input(
            {
                "name": NAME,
                "condition": {"enum": [str(condition) for condition in WaitCondition]},
                "pattern": PATTERN | {"description": "RE2 regex: needed for log; for url, URLs matching it"},
                "timeout_s": {"type": "number", "minimum": 0, "maximum": MAX_WAIT, "default": 30},
            },
            ("name", "condition"),
        ),
        _output("met", "reason", "state", "process"),
        idempotent=False,
    ),
)
TAB = {"type": "string", "maxLength": 20, "description": "browser_sessions id (default: last active)"}
MOVED = _output("session", "loaded")  # + url, title
TOOLS += (
    ToolSpec(
        "browser_sessions",
        "Browser tabs on brummer's proxy pages: url, title, loads, errors.",
        _input({}),
        _output("sessions", sessions=_item("id", "process", "url")),
    ),
    ToolSpec(
        "browser_events",
        "What tabs reported (console, exceptions, failed requests, Vite overlay, timing); newest first, or oldest "
        "after `since`. Errors are in errors_list too.",
        _input(
            {
                "session": TAB,
                "kind": {"enum": ["console", "error", "rejection", "network", "overlay", "timing", "hmr", "page"]},
                "since": SINCE,
                "limit": _limit(10, 500),
            }
        ),
        _output("events", "next", events=_item("id", "session", "kind", "text")),
    ),
    ToolSpec(
        "browser_reload",
        "Reload a tab; waits for the new page.",
        _input({"session": TAB}),
        MOVED,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "browser_navigate",
        "Open a same-origin URL or path in a tab; waits for it.",
        _input({"url": {"type": "string", "minLength": 1, "maxLength": 4000}, "session": TAB}, ("url",)),
        MOVED,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "browser_eval",
        "Run a JS expression in a tab (awaits promises, 10 s max); answers its JSON value. Only if the user "
        "allowed it.",
        _input(
            {"expression": {"type": "string", "minLength": 1, "maxLength": 100_000}, "session": TAB}, ("expression",)
        ),
        _output("session", "json"),
        read_only=False,
        idempotent=False,
    ),
)
TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}
