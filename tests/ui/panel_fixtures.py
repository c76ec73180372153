"""Hand-built panel snapshots (fixed clock, fixed pids) and a deterministic console for golden frames."""

from __future__ import annotations

import os
import re
from pathlib import Path

from rich.console import Console
from rich.screen import Screen

from brummer.logs.kinds import Stream
from brummer.logs.query import LogLine
from brummer.registry.entry import McpUrls
from brummer.supervise.state import ProcessInfo, ProcState
from brummer.ui.panel_model import ErrorRow, PanelSnapshot, ViewState
from brummer.ui.panel_view import render

NOW = 1_700_000_000.0
GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("BRUMMER_UPDATE_GOLDEN"))
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def proc(name: str, state: ProcState, **fields: object) -> ProcessInfo:
    return ProcessInfo(name, state, f"node {name}.js", "package.json", **fields)  # type: ignore[arg-type]


def line(seq: int, process: str, text: str, stream: str = "stdout") -> LogLine:
    return LogLine(seq, NOW - 1, process, Stream(stream), 1, text)


def snapshot(processes: list[ProcessInfo], width: int = 100, height: int = 24, **fields: object) -> PanelSnapshot:
    return PanelSnapshot("webapp", NOW, width, height, tuple(processes), **fields)  # type: ignore[arg-type]


def frame(snap: PanelSnapshot, view: ViewState) -> str:
    """The exact screen the panel draws for ``snap``: fixed size, standard colours, no environment."""
    console = Console(
        width=snap.width,
        height=snap.height,
        force_terminal=True,
        color_system="standard",
        legacy_windows=False,
        _environ={},
        highlight=False,
        markup=False,
        emoji=False,
    )
    console.begin_capture()
    console.print(Screen(render(snap, view)))
    return console.end_capture()


def plain(ansi: str) -> str:
    return ANSI.sub("", ansi)


def check_golden(name: str, ansi: str) -> None:
    """Compare with tests/ui/golden/<name>.txt (readable) and .ansi (exact); BRUMMER_UPDATE_GOLDEN=1 rewrites."""
    text_path, ansi_path = GOLDEN / f"{name}.txt", GOLDEN / f"{name}.ansi"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        text_path.write_text(plain(ansi))
        ansi_path.write_text(ansi)
    assert plain(ansi) == text_path.read_text(), f"{name}: the frame changed (BRUMMER_UPDATE_GOLDEN=1 to accept)"
    assert ansi == ansi_path.read_text(), f"{name}: the styles changed (BRUMMER_UPDATE_GOLDEN=1 to accept)"


# -- the scenes ---------------------------------------------------------------------------------------------------

STARTING = [
    proc("api", ProcState.STARTING, started_at=NOW),
    proc("web", ProcState.PENDING, message="waiting for api (ready)"),
    proc("watch", ProcState.RUNNING, pid=4103, started_at=NOW - 1, message="pid 4103"),
]
STARTING_LOGS = (
    line(1, "api", "starting", "brummer"),
    line(2, "watch", "starting", "brummer"),
    line(3, "watch", "running: pid 4103", "brummer"),
    line(4, "watch", "\x1b[2m[6:33:14 PM]\x1b[0m Starting compilation in watch mode..."),
)

RUNNING = [
    proc("api", ProcState.READY, pid=4101, started_at=NOW - 125, ready=True, urls=("http://127.0.0.1:3001/",)),
    proc(
        "web",
        ProcState.READY,
        pid=4102,
        started_at=NOW - 3725,
        ready=True,
        urls=("http://localhost:5173/", "http://192.168.1.20:5173/"),
    ),
    proc("watch", ProcState.RUNNING, pid=4103, started_at=NOW - 7, message="pid 4103"),
]
RUNNING_LOGS = (
    line(10, "api", "API listening on \x1b[36mhttp://127.0.0.1:3001\x1b[39m"),
    line(11, "api", "ready: http http://127.0.0.1:3001/health", "brummer"),
    line(12, "web", "  \x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://localhost:5173/\x1b[39m"),
    line(13, "web", "  \x1b[32m➜\x1b[39m  \x1b[1mNetwork\x1b[22m: \x1b[36mhttp://192.168.1.20:5173/\x1b[39m"),
    line(14, "api", "GET /api/items 200 0.4ms"),
    line(15, "web", "[web] fetched http://127.0.0.1:3001/api/items -> 200"),
    line(16, "watch", "\x1b[2m[6:33:15 PM]\x1b[0m Found 0 errors. Watching for file changes."),
    line(17, "api", "deprecated option --legacy-peer-deps", "stderr"),
)
MCP = McpUrls("ws://127.0.0.1:7777/ws", "http://127.0.0.1:7777/mcp")

ERRORS = (
    ErrorRow("watch", "TS2322", "Type 'string' is not assignable to type 'number'.", "src/Counter.tsx:14:7", 3, 40),
    ErrorRow("api", "TypeError", "Cannot read properties of undefined (reading 'id')", "api.js:12:31", 1, 30),
)
ERROR_LOGS = (
    *RUNNING_LOGS[-4:],
    line(30, "api", "TypeError: Cannot read properties of undefined (reading 'id')", "stderr"),
    line(31, "api", "    at Server.<anonymous> (/app/api.js:12:31)", "stderr"),
    line(40, "watch", "src/Counter.tsx(14,7): \x1b[91merror\x1b[0m TS2322: Type 'string' is not assignable."),
)

CRASHED = [
    proc("api", ProcState.READY, pid=4101, started_at=NOW - 125, ready=True, urls=("http://127.0.0.1:3001/",)),
    proc("web", ProcState.BACKING_OFF, exit_code=1, restarts=2, ended_at=NOW - 1, message="restart 3 in 4s"),
    proc("worker", ProcState.FAILED, exit_signal=11, ended_at=NOW - 30, message="killed by SIGSEGV"),
    proc("watch", ProcState.RUNNING, pid=4103, started_at=NOW - 7, restarts=1, exit_code=0, message="pid 4103"),
]
CRASHED_LOGS = (
    line(50, "web", "Error: listen EADDRINUSE: address already in use :::5173", "stderr"),
    line(51, "web", "failed: exit code 1", "brummer"),
    line(52, "web", "backing-off: restart 3 in 4s", "brummer"),
    line(53, "worker", "Segmentation fault (core dumped)", "stderr"),
)
