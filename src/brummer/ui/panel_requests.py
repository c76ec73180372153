"""The requests pane (key ``w``): the selected process's requests through the proxy, newest first, in the log
tail's place. Pure rendering, like ``panel_view``: one line per request, cells never wrap."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from brummer.proxy.record import size_text
from brummer.ui.panel_model import PanelSnapshot, RequestRow, ViewState
from brummer.ui.render_text import one_line

STATUS_STYLES = {2: "green", 3: "cyan", 4: "yellow", 5: "bold red"}


def requests_title(view: ViewState, proxied: bool) -> str:
    if not proxied:
        return f"requests · {view.selected or '-'} · the proxy is off (w: back to the logs)"
    return f"requests · {view.selected or '-'} · newest first (w: back to the logs)"


def _status(row: RequestRow) -> Text:
    if row.status == 0:
        return Text("err", style="bold red")
    return Text(str(row.status), style=STATUS_STYLES.get(row.status // 100, ""))


def requests_pane(snap: PanelSnapshot, rows: int) -> list[Table | Text]:
    """Exactly ``rows`` lines: the requests, or a hint, then blank lines."""
    if rows <= 0:
        return []
    if not snap.requests:
        hint = Text("no requests through the proxy yet", style="dim italic")
        return [hint, *(Text("") for _ in range(rows - 1))]
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, style="bold", min_width=6)  # method
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)  # path
    table.add_column(no_wrap=True, justify="right", min_width=3)  # status
    table.add_column(no_wrap=True, justify="right", style="dim", min_width=9)  # duration
    table.add_column(no_wrap=True, justify="right", style="dim", min_width=8)  # size
    shown = snap.requests[:rows]
    for row in shown:
        path = Text(one_line(row.path))
        if row.error:
            path.append(f"  {one_line(row.error)}", style="red")
        duration = f"{row.duration_ms:.1f} ms" if row.duration_ms < 10_000 else f"{row.duration_ms / 1000:.1f} s"
        table.add_row(Text(one_line(row.method)), path, _status(row), Text(duration), Text(size_text(row.size)))
    return [table, *(Text("") for _ in range(rows - len(shown)))]
