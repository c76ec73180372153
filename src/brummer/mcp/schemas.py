"""What each tool takes and answers: JSON Schemas (the contract agents see in ``tools/list``), descriptions, hints.

Plain data, no SDK types, so the tools and their tests do not need the SDK. Output schemas describe
``structuredContent`` exactly; the SDK client validates every result against them, and so do our tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brummer.logs.reading import ANSWER_CHARS, LINE_CHARS, MAX_LINE_CHARS

Schema = dict[str, Any]

MAX_LINES = 10_000  # one logs_tail/logs_search answer (also bounded in size: reading.ANSWER_CHARS)
MAX_WAIT = 600.0

NAME = {"type": "string", "minLength": 1, "maxLength": 200, "description": "A process name from scripts_list."}
OPTIONAL_NAME = {**NAME, "description": "Only this process (a name from scripts_list); default: all."}
SINCE = {
    "type": "integer",
    "minimum": 0,
    "description": "A log sequence number: only what came after it (pass the `next` of an earlier answer).",
}
NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}
STRINGS = {"type": "array", "items": {"type": "string"}}
STATES = ["pending", "starting", "running", "ready", "stopping", "exited", "failed", "backing-off"]

PROCESS = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "state": {"type": "string", "enum": STATES},
        "command": {"type": "string"},
        "source": {"type": "string"},
        "pid": NULLABLE_INT,
        "run_id": NULLABLE_STRING,
        "uptime_s": {"type": ["number", "null"]},
        "restarts": {"type": "integer"},
        "exit_code": NULLABLE_INT,
        "exit_signal": NULLABLE_STRING,
        "stopped_by_brummer": {"type": "boolean"},
        "ready": {"type": "boolean"},
        "message": {"type": "string"},
        "urls": STRINGS,
        "proxy_urls": STRINGS,
    },
    "required": ["name", "state", "command", "source", "pid", "uptime_s", "restarts", "exit_code", "ready", "urls"],
}
LINE = {
    "type": "object",
    "properties": {
        "seq": {"type": "integer"},
        "time": {"type": "number"},
        "process": {"type": "string"},
        "stream": {"type": "string", "enum": ["stdout", "stderr", "brummer"]},
        "text": {"type": "string", "description": "Without terminal escapes; a long line is clipped (marked)."},
        "level": {"type": "string", "enum": ["debug", "info", "warn", "error"]},
        "length": {
            "type": "integer",
            "description": "Only when `text` was clipped: the whole line's length (see max_line_chars).",
        },
    },
    "required": ["seq", "time", "process", "stream", "text", "level"],
}
LINES_ANSWER = {
    "type": "object",
    "properties": {
        "lines": {"type": "array", "items": LINE},
        "next": {"type": "integer", "description": "Pass as `since` to get what comes after these lines."},
        "gap": {"type": "integer", "description": "Lines after `since` that retention had already dropped."},
        "count": {"type": "integer"},
        "truncated": {
            "type": "boolean",
            "description": f"The size budget (about {ANSWER_CHARS // 1024:,} KiB per answer) ended the answer before "
            "`limit` lines. Reading forward (`since`): continue with since=`next`. A tail keeps the newest lines; "
            "`earlier` reads the rest.",
        },
        "earlier": {
            "type": ["object", "null"],
            "description": "A truncated tail: pass these as `since` and `limit` to read the lines it left out.",
            "properties": {"since": {"type": "integer"}, "limit": {"type": "integer"}},
            "required": ["since", "limit"],
        },
    },
    "required": ["lines", "next", "gap", "count", "truncated", "earlier"],
}
MAX_LINE_CHARS_ARG = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_LINE_CHARS,
    "default": LINE_CHARS,
    "description": "Clip each line's text at this many characters (marked, with its `length`); brummer keeps up to "
    "64 KiB of a line.",
}
ERROR_GROUP = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "process": {"type": "string"},
        "stream": {"type": "string"},
        "family": {"type": "string"},
        "type": {"type": "string"},
        "message": {"type": "string"},
        "location": NULLABLE_STRING,
        "count": {"type": "integer"},
        "first_seen": {"type": "number"},
        "last_seen": {"type": "number"},
        "first_seq": {"type": "integer"},
        "last_seq": {"type": "integer"},
        "state": {"enum": ["open", "resolved"]},
        "resolved_at": {"type": ["number", "null"]},
        "resolved_by": NULLABLE_STRING,
        "reopened": {"type": "integer"},
        "lines": STRINGS,
    },
    "required": ["id", "process", "type", "message", "location", "count", "first_seen", "last_seen", "state"],
}

REQUEST = {  # also: error, sizes, content_type, started, ttfb_ms; websocket; headers when asked
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "process": {"type": "string"},
        "method": {"type": "string"},
        "path": {"type": "string"},
        "status": {"type": "integer"},
        "duration_ms": {"type": "number"},
    },
    "required": ["id", "process", "method", "path", "status", "duration_ms"],
}


def _input(properties: Schema, required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def _output(properties: Schema, required: tuple[str, ...]) -> Schema:
    return {"type": "object", "properties": properties, "required": list(required)}


def _limit(default: int, maximum: int) -> Schema:
    return {"type": "integer", "minimum": 1, "maximum": maximum, "default": default, "description": "At most this many"}


CONTROL_ANSWER = _output(
    {
        "name": {"type": "string"},
        "action": {"type": "string", "enum": ["started", "already-running", "stopped", "not-running", "restarted"]},
        "state": {"type": "string", "enum": STATES},
        "process": PROCESS,
    },
    ("name", "action", "state", "process"),
)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input: Schema
    output: Schema
    read_only: bool = True
    idempotent: bool = True


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "scripts_list",
        "Every process brummer knows in this project (package.json scripts, Procfile, brummer.toml): name, command, "
        "source and state. Use the names with the other tools.",
        _input({}),
        _output(
            {
                "processes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "command": {"type": "string"},
                            "source": {"type": "string"},
                            "state": {"type": "string", "enum": STATES},
                            "default": {"type": "boolean"},
                        },
                        "required": ["name", "command", "source", "state", "default"],
                    },
                },
                "count": {"type": "integer"},
            },
            ("processes", "count"),
        ),
    ),
    ToolSpec(
        "scripts_run",
        "Start a known process (and what it depends on). Idempotent: a running process is left alone. "
        "Only names from scripts_list can be run, never arbitrary commands.",
        _input({"name": NAME}, ("name",)),
        CONTROL_ANSWER,
        read_only=False,
    ),
    ToolSpec(
        "scripts_stop",
        "Stop a process gracefully (its stop signal, then SIGKILL after its grace period) and wait until it is gone. "
        "Idempotent: stopping a stopped process does nothing.",
        _input({"name": NAME}, ("name",)),
        CONTROL_ANSWER,
        read_only=False,
    ),
    ToolSpec(
        "scripts_restart",
        "Stop a process if it runs, then start it again (starts it if it was not running).",
        _input({"name": NAME}, ("name",)),
        CONTROL_ANSWER,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "scripts_status",
        "State, pid, uptime, restarts, exit code, readiness and URLs of one process, or of all; also the events "
        "that brummer's subscribers (its display, this server) missed because they could not keep up.",
        _input({"name": OPTIONAL_NAME}),
        _output(
            {
                "processes": {"type": "array", "items": PROCESS},
                "dropped": {
                    "type": "object",
                    "description": "Per subscriber: dropped events by type, and the log lines inside them. The log "
                    "store itself never drops (within retention).",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "events": {"type": "object", "additionalProperties": {"type": "integer"}},
                            "lines": {"type": "integer"},
                        },
                        "required": ["events", "lines"],
                    },
                },
            },
            ("processes", "dropped"),
        ),
    ),
    ToolSpec(
        "logs_tail",
        "Log lines with their sequence numbers. Without `since`: the newest `limit` lines. With `since`: the lines "
        "after it, oldest first; pass the answer's `next` as `since` to follow the log. Lines of stream 'brummer' "
        "are brummer's own notes (state changes, exits).",
        _input(
            {
                "name": OPTIONAL_NAME,
                "since": SINCE,
                "limit": _limit(100, MAX_LINES),
                "stream": {"type": "string", "enum": ["stdout", "stderr"], "description": "Only this stream."},
                "level": {
                    "type": "string",
                    "enum": ["debug", "info", "warn", "error"],
                    "description": "Only lines at this level or above (classified from the text).",
                },
                "max_line_chars": MAX_LINE_CHARS_ARG,
            }
        ),
        LINES_ANSWER,
    ),
    ToolSpec(
        "logs_search",
        "Search log lines with a regular expression (RE2 syntax: like Python's, without lookaround, backreferences "
        "or possessive quantifiers; it runs in time linear in the text). The newest matches unless `since` is given.",
        _input(
            {
                "pattern": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "A regex (RE2)."},
                "name": OPTIONAL_NAME,
                "since": SINCE,
                "limit": _limit(100, MAX_LINES),
                "ignore_case": {"type": "boolean", "default": True},
                "max_line_chars": MAX_LINE_CHARS_ARG,
            },
            ("pattern",),
        ),
        LINES_ANSWER,
    ),
    ToolSpec(
        "errors_list",
        "Open errors found in the logs, grouped (the same error seen again counts up): type, message, location, "
        "count, first and last seen, the lines of the error. Most recent first. include_resolved: also the ones "
        "their tool reported fixed.",
        _input(
            {
                "name": OPTIONAL_NAME,
                "since": SINCE,
                "limit": _limit(20, 500),
                "include_resolved": {"type": "boolean", "default": False},
            }
        ),
        _output(
            {
                "errors": {"type": "array", "items": ERROR_GROUP},
                "total": {"type": "integer", "description": "Groups matching, before `limit`."},
                "next": {"type": "integer", "description": "Pass as `since` to see only errors active after now."},
            },
            ("errors", "total", "next"),
        ),
    ),
    ToolSpec(
        "urls_list",
        "URLs the processes announced (dev servers, APIs), per process, with their proxy URLs.",
        _input({}),
        _output(
            {
                "urls": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "process": {"type": "string"},
                            "url": {"type": "string"},
                            "proxy_url": NULLABLE_STRING,
                        },
                        "required": ["process", "url", "proxy_url"],
                    },
                },
                "note": {"type": "string"},
            },
            ("urls",),
        ),
    ),
    ToolSpec(
        "proxy_requests",
        "Requests and WebSockets through brummer's proxy (urls_list); status=error: the server did not answer "
        "(brummer's 502/504). Newest first, or oldest after `since`.",
        _input(
            {
                "name": OPTIONAL_NAME,
                "status": {"type": "string", "enum": ["2xx", "3xx", "4xx", "5xx", "error"]},
                "method": {"type": "string", "maxLength": 20},
                "path": {"type": "string", "maxLength": 1000, "description": "RE2 regex"},
                "since": {"type": "integer", "minimum": 0, "description": "`next` of an earlier answer"},
                "limit": _limit(50, 1000),
                "headers": {"type": "boolean", "description": "with headers (secrets masked)"},
            }
        ),
        _output(
            {"requests": {"type": "array", "items": REQUEST}, "next": {"type": "integer"}, "note": {"type": "string"}},
            ("requests", "next"),
        ),
    ),
    ToolSpec(
        "proxy_routes",
        "Per route through brummer's proxy (ids as :id): count, errors, p50/p95 ms.",
        _input({"name": OPTIONAL_NAME, "limit": _limit(50, 500)}),
        _output(
            {
                "routes": {
                    "type": "array",
                    "items": {  # also errors, error_rate, p50_ms, p95_ms
                        "type": "object",
                        "properties": {"route": {"type": "string"}, "count": {"type": "integer"}},
                        "required": ["route", "count"],
                    },
                },
                "note": {"type": "string"},
            },
            ("routes",),
        ),
    ),
    ToolSpec(
        "wait_for",
        "Block until a process is ready, has exited, has announced a URL, or printed a line matching `pattern` "
        "(condition=log; lines of its current or last run count, so a line printed just after scripts_restart is "
        "not missed), or until `timeout_s` passes. Sends progress notifications while waiting; the answer says "
        "whether the condition was met and why not.",
        _input(
            {
                "name": NAME,
                "condition": {"type": "string", "enum": ["ready", "exited", "url", "log"]},
                "pattern": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 1000,
                    "description": "A regex (RE2 syntax): required for condition=log; for url, only URLs matching it.",
                },
                "timeout_s": {"type": "number", "minimum": 0, "maximum": MAX_WAIT, "default": 30},
            },
            ("name", "condition"),
        ),
        _output(
            {
                "met": {"type": "boolean"},
                "condition": {"type": "string"},
                "reason": {"type": "string", "enum": ["met", "timeout", "not-running", "ended"]},
                "waited_s": {"type": "number"},
                "state": {"type": "string", "enum": STATES},
                "match": NULLABLE_STRING,
                "process": PROCESS,
            },
            ("met", "condition", "reason", "waited_s", "state", "match", "process"),
        ),
        idempotent=False,
    ),
)
TAB = {"type": "string", "maxLength": 20, "description": "browser_sessions id (default: last active)"}
OBJECTS = {"type": "array", "items": {"type": "object"}}
MOVED = _output({"session": {"type": "string"}, "loaded": {"type": "boolean"}}, ("session", "loaded"))  # + url, title
TOOLS += (
    ToolSpec(
        "browser_sessions",
        "Browser tabs on brummer's proxy pages: url, title, loads, errors.",
        _input({}),
        _output({"sessions": OBJECTS, "note": {"type": "string"}}, ("sessions",)),
    ),
    ToolSpec(
        "browser_events",
        "What tabs reported (console, exceptions, failed requests, Vite overlay, timing); newest first, or oldest "
        "after `since`. Errors are in errors_list too.",
        _input(
            {
                "session": TAB,
                "kind": {"enum": ["console", "error", "rejection", "network", "overlay", "timing", "hmr", "page"]},
                "since": {"type": "integer", "minimum": 0, "description": "`next` of an earlier answer"},
                "limit": _limit(10, 500),
            }
        ),
        _output({"events": OBJECTS, "next": {"type": "integer"}}, ("events", "next")),
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
        _output({"session": {"type": "string"}, "value": {}, "json": {"type": "string"}}, ("session", "json")),
        read_only=False,
        idempotent=False,
    ),
)
TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}
