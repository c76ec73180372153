"""Golden frames of the panel: a pure render of hand-built snapshots on a fixed-size, fixed-colour console.

Regenerate after an intended change with ``BRUMMER_UPDATE_GOLDEN=1 pytest tests/ui/test_panel_render.py`` and
review the ``.txt`` diffs.
"""

from __future__ import annotations

import itertools

from panel_fixtures import (
    CRASHED,
    CRASHED_LOGS,
    ERROR_LOGS,
    ERRORS,
    MCP,
    RUNNING,
    RUNNING_LOGS,
    STARTING,
    STARTING_LOGS,
    check_golden,
    frame,
    plain,
    snapshot,
)

from brummer.ui.panel_model import DropRow, Message, RequestRow, ViewState, compile_filter
from brummer.ui.panel_view import plan


def test_starting() -> None:
    snap = snapshot(STARTING, height=16, logs=STARTING_LOGS)
    check_golden("starting", frame(snap, ViewState(selected="api")))


def test_running_with_urls() -> None:
    snap = snapshot(RUNNING, logs=RUNNING_LOGS, mcp=MCP)
    ansi = frame(snap, ViewState(selected="web"))
    check_golden("running", ansi)
    text = plain(ansi)
    assert "http://127.0.0.1:3001/" in text and "http://localhost:5173/ +1" in text
    assert "1h02m" in text and "MCP http://127.0.0.1:7777/mcp" in text


def test_error_shown() -> None:
    snap = snapshot(RUNNING, logs=ERROR_LOGS, errors=ERRORS, error_total=2, mcp=MCP)
    ansi = frame(snap, ViewState(selected="api"))
    check_golden("error", ansi)
    assert "TS2322" in plain(ansi) and "×3" in plain(ansi)


def test_crashed_and_restarting() -> None:
    drops = (DropRow("mcp", 12, 3_400),)
    snap = snapshot(CRASHED, logs=CRASHED_LOGS, drops=drops)
    view = ViewState(selected="web", message=Message("restarting web", "info", snap.now + 1))
    ansi = frame(snap, view)
    check_golden("crashed", ansi)
    text = plain(ansi)
    assert "backing-off" in text and "restart 3 in 4s" in text and "SIGSEGV" in text
    assert "mcp dropped 12 (3,400 lines)" in text and "restarting web" in text


def test_narrow_terminal_keeps_name_state_and_url() -> None:
    snap = snapshot(RUNNING, width=60, height=20, logs=ERROR_LOGS, errors=ERRORS, error_total=2, mcp=MCP)
    ansi = frame(snap, ViewState(selected="web"))
    check_golden("narrow", ansi)
    rows = plain(ansi).splitlines()
    assert len(rows) == 20 and all(len(row) == 60 for row in rows)
    assert any("api" in row and "ready" in row and "http://127.0.0.1:3001/" in row for row in rows)


def test_one_process_filtered_and_the_prompt() -> None:
    view = ViewState(selected="api", show_all=False, filter_text="GET|listen", pattern=compile_filter("GET|listen"))
    view.prompt, view.prompt_error = "GET(", "invalid regex: missing ), unterminated subpattern at position 3"
    logs = tuple(
        line for line in RUNNING_LOGS if line.process == "api" and ("GET" in line.text or "listen" in line.text)
    )
    snap = snapshot(RUNNING, width=80, height=14, logs=logs)
    check_golden("filtered", frame(snap, view))


def test_help() -> None:
    snap = snapshot(RUNNING, width=80, height=18, logs=RUNNING_LOGS)
    text = plain(frame(snap, ViewState(selected="api", show_help=True)))
    for keys in ("j k", "Enter", "restart", "stop the selected process, or start it", "regex", "clear", "quit"):
        assert keys in text


def test_every_size_fills_the_screen_exactly() -> None:
    for width in (40, 60, 79, 80, 99, 100, 160):
        for height in (6, 10, 24, 50):
            snap = snapshot(CRASHED, width, height, logs=ERROR_LOGS, errors=ERRORS, error_total=2, mcp=MCP)
            rows = plain(frame(snap, ViewState(selected="watch"))).splitlines()
            assert len(rows) == height and {len(row) for row in rows} == {width}, (width, height)


def test_the_table_scrolls_to_keep_the_selection_in_view() -> None:
    names = [f"p{i}" for i in range(30)]
    layout = plan(12, names, 0, ViewState(selected="p25"))
    assert layout.first_row <= 25 < layout.first_row + layout.table_rows
    assert plan(12, names, 0, ViewState(selected="p0")).first_row == 0


def test_requests_pane_and_proxy_urls() -> None:
    proxies = {("web", "http://localhost:5173/"): "http://127.0.0.1:20888/"}
    requests = (
        RequestRow("GET", "/api/items?page=2", 200, 12.34, 2048),
        RequestRow("POST", "/api/items", 500, 3.2, 120),
        RequestRow("GET", "/src/App.tsx", 0, 10.0, 0, "connection refused"),
    )
    snap = snapshot(RUNNING, logs=RUNNING_LOGS, mcp=MCP, proxy_urls=proxies, requests=requests)
    ansi = frame(snap, ViewState(selected="web", show_requests=True))
    check_golden("requests", ansi)
    text = plain(ansi)
    assert "http://localhost:5173/ → :20888 +1" in text
    assert "requests · web · newest first" in text
    rows = [row for row in text.splitlines() if "/api/items" in row or "App.tsx" in row]
    assert "GET" in rows[0] and "200" in rows[0] and "12.3 ms" in rows[0] and "2.0 KB" in rows[0]
    assert "500" in rows[1] and "err" in rows[2] and "connection refused" in rows[2]
    assert "Found 0 errors" not in text  # the pane replaces the log tail


def test_the_mcp_address_in_the_footer_is_never_cut() -> None:
    """At 120 columns the key hints used to win and the address read ``MCP http://127.0.0.1:7777/m…``."""
    long_message = Message("restarted web (pid 4242); " + "a long message " * 10, "info", 1e12)
    for width, drops, message in itertools.product(
        (60, 80, 100, 120, 160), ((), (DropRow("panel", 12_345, 987_654),)), (None, long_message)
    ):
        view = ViewState(selected="web", message=message)
        snap = snapshot(RUNNING, width, 24, logs=RUNNING_LOGS, mcp=MCP, drops=drops)
        footer = plain(frame(snap, view)).splitlines()[-1]
        assert "MCP http://127.0.0.1:7777/mcp " in footer + " ", (width, footer)
        assert len(footer) == width
