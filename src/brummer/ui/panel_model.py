"""What the panel draws from: an immutable snapshot of brummer's state, and the mutable view state the keys change.

Rendering (``panel_view.render``) is a pure function of these two, so the golden tests can build a snapshot by hand
(with a fixed clock) and get the same frame every time. ``ViewState`` lives on the Trio thread and is only touched
by the key handler and the panel service; nothing here reads Trio-owned objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from brummer.logs.kinds import Level
from brummer.logs.patterns import Pattern, compile_pattern
from brummer.logs.query import LogLine
from brummer.registry.entry import McpUrls
from brummer.supervise.state import ProcessInfo

MESSAGE_SECONDS = 4.0  # how long a one-line message (a key's result, a warning from brummer) stays in the footer


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """One error group as the errors pane shows it (a copy: the store's groups keep changing)."""

    process: str
    type: str
    message: str
    location: str | None
    count: int
    last_seq: int


@dataclass(frozen=True, slots=True)
class DropRow:
    """Low-priority events a bus subscriber missed because it could not keep up."""

    subscriber: str
    events: int
    lines: int


@dataclass(frozen=True, slots=True)
class RequestRow:
    """One request through the proxy as the requests pane shows it (``status`` 0: no answer, see ``error``)."""

    method: str
    path: str
    status: int
    duration_ms: float
    size: int
    error: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    level: Level = "info"
    until: float = 0.0  # wall time after which it is no longer shown


@dataclass(frozen=True)
class PanelSnapshot:
    """Everything one frame shows, read from the runtime at one instant (``now`` is injected)."""

    title: str
    now: float
    width: int
    height: int
    processes: tuple[ProcessInfo, ...]
    logs: tuple[LogLine, ...] = ()
    errors: tuple[ErrorRow, ...] = ()  # newest first, already cut to what fits
    error_total: int = 0
    mcp: McpUrls | None = None
    drops: tuple[DropRow, ...] = ()
    stopping: bool = False  # a clean shutdown is under way
    proxy_urls: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (process, url) -> its proxy URL
    requests: tuple[RequestRow, ...] = ()  # the selected process's, newest first, cut to what fits


@dataclass
class ViewState:
    """What the person at the keyboard chose to look at."""

    selected: str | None = None  # process name (stable while the table changes)
    show_all: bool = True  # the log tail: every process interleaved, or only the selected one
    show_errors: bool = True
    show_help: bool = False
    show_requests: bool = False  # the log area shows the selected process's proxied requests instead
    filter_text: str = ""
    pattern: Pattern | None = None
    prompt: str | None = None  # the regex being typed after ``/``; None when no prompt is open
    prompt_error: str = ""
    cleared: dict[str, int] = field(default_factory=dict)  # process -> sequence number its view was cleared at
    message: Message | None = None
    quitting: bool = False

    def select(self, names: list[str], step: int) -> None:
        """Move the selection ``step`` rows (clamped), or onto the first row if nothing valid is selected."""
        if not names:
            self.selected = None
            return
        if self.selected not in names:
            self.selected = names[0]
            return
        index = min(max(names.index(self.selected) + step, 0), len(names) - 1)
        self.selected = names[index]

    def settle(self, names: list[str]) -> None:
        """Keep the selection on a known process."""
        if self.selected not in names:
            self.selected = names[0] if names else None

    def say(self, text: str, now: float, level: Level = "info", seconds: float = MESSAGE_SECONDS) -> None:
        self.message = Message(text, level, now + seconds)

    def current_message(self, now: float) -> Message | None:
        return self.message if self.message is not None and now < self.message.until else None


def compile_filter(text: str) -> Pattern:
    """The ``/`` filter: a regex (RE2), case-insensitive unless it contains an upper-case letter (smart case)."""
    return compile_pattern(text, ignore_case=not any(ch.isupper() for ch in text))
