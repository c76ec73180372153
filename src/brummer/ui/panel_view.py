"""Drawing the panel: a pure function from (``PanelSnapshot``, ``ViewState``) to a rich renderable.

Every part is a known number of lines (cells never wrap, long text ends in an ellipsis), so ``plan`` can say
before reading the store how many log lines and error groups fit, and the frame always fills the screen exactly:
title, process table, log tail (or help), errors pane, footer. Columns give way as the terminal narrows; at 60
columns the table still shows name, state and URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

from brummer.logs.kinds import Stream
from brummer.logs.query import LogLine
from brummer.supervise.state import ProcessInfo, ProcState, signal_name
from brummer.ui.keys import HELP
from brummer.ui.panel_model import PanelSnapshot, ViewState
from brummer.ui.panel_requests import requests_pane, requests_title
from brummer.ui.plain import colour_for
from brummer.ui.render_text import colour_style, log_text, one_line

STATE_STYLES = {
    ProcState.IDLE: "dim",
    ProcState.PENDING: "dim",
    ProcState.STARTING: "blue",
    ProcState.RUNNING: "cyan",
    ProcState.READY: "green",
    ProcState.STOPPING: "yellow",
    ProcState.EXITED: "dim",
    ProcState.FAILED: "bold red",
    ProcState.BACKING_OFF: "yellow",
}
MAX_ERROR_ROWS = 5
WIDE = 100  # every column
MEDIUM = 80  # below this: name, state and URL only
STREAM_MARKS = {Stream.STDOUT: ("│ ", "dim"), Stream.STDERR: ("! ", "red"), Stream.BRUMMER: ("» ", "dim italic")}


@dataclass(frozen=True, slots=True)
class Plan:
    """How many lines each part gets in a frame of ``height`` lines."""

    table_rows: int  # visible process rows (the table scrolls to keep the selection in view)
    first_row: int
    log_rows: int
    error_rows: int


def plan(height: int, names: list[str], error_count: int, view: ViewState) -> Plan:
    room = max(height - 4, 0)  # title, table header, logs rule, footer
    table_rows = min(len(names), max(1, room // 2))
    index = names.index(view.selected) if view.selected in names else 0
    first_row = 0 if index < table_rows else index - table_rows + 1
    room -= table_rows
    error_rows = min(error_count, MAX_ERROR_ROWS, max(0, room // 3 - 1)) if view.show_errors else 0
    if error_rows:
        room -= error_rows + 1
    return Plan(table_rows, first_row, max(room, 0), error_rows)


def render(snap: PanelSnapshot, view: ViewState) -> RenderableType:
    names = [p.name for p in snap.processes]
    layout = plan(snap.height, names, len(snap.errors), view)
    parts: list[RenderableType] = [_title(snap, view), _table(snap, view, layout)]
    if view.show_help:
        parts.append(_help(layout.log_rows + 1))
    elif view.show_requests:
        parts.append(_rule(requests_title(view, bool(snap.proxy_urls) or bool(snap.requests)), snap.width))
        parts.extend(requests_pane(snap, layout.log_rows))
    else:
        parts.append(_rule(_logs_title(view), snap.width))
        parts.extend(_log_lines(snap, view, layout.log_rows))
    if layout.error_rows:
        more = f" · {snap.error_total} in all" if snap.error_total > layout.error_rows else ""
        parts.append(_rule(f"errors · newest first{more}", snap.width, "red"))
        parts.append(_errors(snap, layout.error_rows))
    parts.append(_footer(snap, view))
    return Group(*parts)


def _rule(title: str, width: int, style: str = "dim") -> Text:
    text = Text("── ", style=style)
    text.append(title, style="bold")
    text.append(" ")
    text.append("─" * max(width - text.cell_len, 0), style=style)
    text.truncate(width, overflow="ellipsis")
    return text


def _title(snap: PanelSnapshot, view: ViewState) -> Table:
    counts: dict[str, int] = {}
    for info in snap.processes:
        counts[str(info.state)] = counts.get(str(info.state), 0) + 1
    right = Text(" · ".join(f"{n} {state}" for state, n in counts.items()), style="dim")
    if snap.stopping or view.quitting:
        right = Text("stopping every process…", style="bold yellow")
    grid = Table.grid(expand=True)
    grid.add_column(no_wrap=True, overflow="ellipsis")
    grid.add_column(no_wrap=True, overflow="ellipsis", justify="right")
    grid.add_row(Text.assemble(("brummer", "bold magenta"), " · ", (one_line(snap.title), "bold")), right)
    return grid


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _exit(info: ProcessInfo) -> Text:
    if info.exit_signal is not None:
        return Text(signal_name(info.exit_signal), style="dim" if info.stopped else "red")
    if info.exit_code is not None:
        return Text(str(info.exit_code), style="dim" if info.exit_code == 0 else "red")
    return Text("")


def _urls(urls: tuple[str, ...], proxy: str | None = None) -> Text:
    if not urls:
        return Text("")
    text = Text(one_line(urls[0]), style="underline cyan")
    if proxy:  # always http://127.0.0.1:PORT/: the port says it all where columns are scarce
        text.append(" → ", style="dim")
        text.append(":" + proxy.rstrip("/").rsplit(":", 1)[-1], style="cyan")
    if len(urls) > 1:
        text.append(f" +{len(urls) - 1}", style="dim")
    return text


def _table(snap: PanelSnapshot, view: ViewState, layout: Plan) -> Table:
    wide, medium = snap.width >= WIDE, snap.width >= MEDIUM
    table = Table(box=None, padding=(0, 1), pad_edge=False, expand=True, header_style="bold dim", show_edge=False)
    table.add_column("  name", no_wrap=True, overflow="ellipsis", max_width=24)
    table.add_column("state", no_wrap=True, overflow="ellipsis")
    if wide:
        table.add_column("pid", no_wrap=True, justify="right")
    if medium:
        table.add_column("uptime", no_wrap=True, justify="right")
        table.add_column("restarts", no_wrap=True, justify="right")
        table.add_column("exit", no_wrap=True, justify="right")
    if wide:
        table.add_column("ready", no_wrap=True, justify="center")
    if wide:  # URLs keep their natural width; the state message takes what is left
        table.add_column("urls", no_wrap=True, overflow="ellipsis")
        table.add_column("", no_wrap=True, overflow="ellipsis", ratio=1, style="dim")
    else:
        table.add_column("urls", no_wrap=True, overflow="ellipsis", ratio=1)
    visible = snap.processes[layout.first_row : layout.first_row + layout.table_rows]
    for info in visible:
        selected = info.name == view.selected
        name = Text("› " if selected else "  ", style="bold")
        name.append(one_line(info.name), style=colour_style(colour_for(info.name)) + Style(bold=selected))
        state = Text(str(info.state), style=STATE_STYLES.get(info.state, ""))
        cells: list[Text] = [name, state]
        if wide:
            cells.append(Text(str(info.pid) if info.pid else "", style="dim"))
        if medium:
            cells.append(Text(_uptime(info.uptime(snap.now))))
            cells.append(Text(str(info.restarts), style="yellow" if info.restarts else "dim"))
            cells.append(_exit(info))
        if wide:
            cells.append(Text("✓", style="green") if info.ready else Text("·", style="dim"))
        cells.append(_urls(info.urls, snap.proxy_urls.get((info.name, info.urls[0])) if info.urls else None))
        if wide:
            cells.append(Text(one_line(info.detail)))  # not "pid 123" or "url ...": already in the row
        table.add_row(*cells)
    return table


def _logs_title(view: ViewState) -> str:
    title = "logs · all processes" if view.show_all else f"logs · {view.selected or '-'}"
    if view.filter_text:
        title += f" · filter /{view.filter_text}/"
    if not view.show_all and view.selected in view.cleared:
        title += " · cleared"
    return title


def _log_lines(snap: PanelSnapshot, view: ViewState, rows: int) -> list[Text]:
    if rows <= 0:
        return []
    lines = list(snap.logs[-rows:])
    width = max([len(p.name) for p in snap.processes] + [len("brummer")])
    texts = [_log_line(line, view.show_all, width, snap.width) for line in lines]
    if not texts:
        hint = "no lines match the filter" if view.filter_text else "no output yet"
        texts.append(Text(hint, style="dim italic"))
    texts.extend(Text("") for _ in range(rows - len(texts)))
    return texts


def _log_line(line: LogLine, show_name: bool, name_width: int, width: int) -> Text:
    mark, mark_style = STREAM_MARKS.get(line.stream, STREAM_MARKS[Stream.STDOUT])
    text = Text(no_wrap=True, overflow="ellipsis")
    if show_name:
        text.append(one_line(line.process).ljust(name_width), style=colour_style(colour_for(line.process)))
        text.append(" ")
    text.append(mark, style=mark_style)
    start = len(text)
    text.append_text(log_text(line.text, width))  # cached: copied here, never changed
    if line.stream == Stream.BRUMMER:
        text.stylize("dim italic", start)
    text.truncate(width, overflow="ellipsis")
    return text


def _help(rows: int) -> Group:
    lines: list[RenderableType] = [Text.assemble(("── ", "dim"), ("keys", "bold"), (" (? or Esc closes)", "dim"))]
    for keys, meaning in HELP:
        lines.append(Text.assemble(("  " + keys.ljust(12), "bold cyan"), meaning, no_wrap=True, overflow="ellipsis"))
    lines = lines[:rows]
    lines.extend(Text("") for _ in range(rows - len(lines)))
    return Group(*lines)


def _errors(snap: PanelSnapshot, rows: int) -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, max_width=16)
    table.add_column(no_wrap=True, overflow="ellipsis", style="bold red", max_width=28)
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=2)
    if snap.width >= MEDIUM:
        table.add_column(no_wrap=True, overflow="ellipsis", style="dim", ratio=1)
    table.add_column(no_wrap=True, justify="right", style="yellow")
    for row in snap.errors[:rows]:
        cells = [Text(one_line(row.process), style=colour_style(colour_for(row.process))), Text(one_line(row.type))]
        cells.append(Text(one_line(row.message)))
        if snap.width >= MEDIUM:
            cells.append(Text(one_line(row.location or "")))
        cells.append(Text(f"×{row.count}"))
        table.add_row(*cells)
    return table


HINTS = (  # the footer's key hints, longest first: the longest that fits is shown
    "↑↓ select  ⏎ one/all  r restart  s stop/start  e errors  w requests  / filter  c clear  ? help  q quit",
    "↑↓ select  ⏎ one/all  r restart  s stop/start  / filter  ? help  q quit",
    "? help  q quit",
)


def _footer(snap: PanelSnapshot, view: ViewState) -> Text:
    if view.prompt is not None:
        text = Text.assemble(("/", "bold cyan"), " regex: ", (view.prompt, "bold"), ("▏", "cyan"))
        if view.prompt_error:
            text.append(f"  {view.prompt_error}", style="bold red")
        elif view.filter_text and not view.prompt:
            text.append(f"  Enter clears /{one_line(view.filter_text)}/ · Esc keeps it", style="dim")
        else:
            text.append("  Enter applies · Esc cancels · empty clears", style="dim")
        text.truncate(snap.width, overflow="ellipsis")
        return text
    # The MCP address is never cut (it is what an agent is pointed at): the rest takes what is left after it.
    mcp = Text()
    if snap.mcp:
        mcp.append("MCP ", style="bold")
        mcp.append(snap.mcp.http, style="cyan")
    room = max(snap.width - mcp.cell_len - (2 if mcp else 0), 0)
    message = view.current_message(snap.now)
    if message is not None:
        style = {"warn": "yellow", "error": "bold red"}.get(message.level, "bold")
        right = Text(one_line(message.text), style=style)
    else:
        right = next((Text(hints, style="dim") for hints in HINTS if len(hints) + 2 <= room), Text())
    right.truncate(room, overflow="ellipsis")
    said = "  ".join(f"{drop.subscriber} dropped {drop.events:,} ({drop.lines:,} lines)" for drop in snap.drops)
    drops = Text(("  " if mcp and said else "") + said, style="yellow")
    drops.truncate(max(room - right.cell_len - 2, 0), overflow="ellipsis")  # drops give way to hints and messages
    left = Text.assemble(mcp, drops)
    text = Text.assemble(left, " " * max(snap.width - left.cell_len - right.cell_len, 0), right, no_wrap=True)
    text.truncate(snap.width, overflow="ellipsis")
    return text


def summary(processes: tuple[ProcessInfo, ...]) -> Text:
    """How each process ended, printed on the normal screen after the panel leaves the alternate one."""
    ran = [info for info in processes if info.state is not ProcState.IDLE or info.message]
    width = max([len(info.name) for info in ran] + [0])
    text = Text()
    for info in ran:
        text.append(one_line(info.name).ljust(width), style=colour_style(colour_for(info.name)))
        text.append(" » ")
        text.append(str(info.state), style=STATE_STYLES.get(info.state, ""))
        if info.message:
            text.append(f": {one_line(info.message)}")
        text.append("\n")
    text.rstrip()
    return text
