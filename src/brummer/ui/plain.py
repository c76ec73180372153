"""Plain output: ``HH:MM:SS name | line`` for every line, plus brummer's own lines (``name » ...``).

Used when stdout is not a terminal, or with ``--plain``. It is a bus subscriber like any other: under a flood it
formats whole batches with one ``join`` each, and if the terminal still cannot keep up, the bus drops log batches for
it (never state changes or errors) and it says so, once a second at most, with the count.

Nothing a child wrote reaches the terminal unsanitised (``sanitize``): its lines keep only their colours (on a
terminal) or only their text (piped), and brummer's own lines carry child text (names, commands, messages, URLs)
as one line of plain text.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable, Sequence

import trio

from brummer.bus import (
    ErrorDetected,
    ErrorResolved,
    Event,
    LogLines,
    Notice,
    ProcessChanged,
    ServiceFailed,
    Subscription,
    UrlDetected,
    UrlsCleared,
)
from brummer.logs.kinds import Stream
from brummer.sanitize import for_pipe, for_terminal, one_line
from brummer.supervise.state import ProcState
from brummer.ui.output import Output

PALETTE = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")
RESET = "\x1b[0m"
DIM = "\x1b[2m"
STATE_COLOURS = {
    ProcState.READY: "32",
    ProcState.RUNNING: "36",
    ProcState.FAILED: "31",
    ProcState.STOPPING: "33",
    ProcState.BACKING_OFF: "33",
}
DROP_REPORT_EVERY = 1.0


def colour_for(name: str) -> str:
    """A colour per process name, the same on every run."""
    return PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def use_colour(output: Output) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return output.isatty or bool(os.environ.get("FORCE_COLOR"))


ProxyUrl = Callable[[str, str], str | None]  # (process, url) -> the proxy URL in front of it


class PlainFormatter:
    def __init__(self, names: Sequence[str], colour: bool, proxy_url: ProxyUrl | None = None) -> None:
        self.colour = colour
        self.proxy_url = proxy_url
        self.width = max([len(one_line(n)) for n in names] + [len("brummer")])
        self._second = -1
        self._stamp = ""
        self._prefixes: dict[tuple[str, str, str], str] = {}

    def _clock(self, when: float) -> str:
        second = int(when)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%H:%M:%S", time.localtime(when))
        return self._stamp

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}{RESET}" if self.colour else text

    def prefix(self, when: float, name: str, sep: str) -> str:
        stamp = self._clock(when)
        key = (stamp, name, sep)
        prefix = self._prefixes.get(key)
        if prefix is None:
            if len(self._prefixes) > 256:
                self._prefixes.clear()
            label = one_line(name).ljust(self.width)
            if self.colour:
                sep_code = "31" if sep == "!" else "2"
                prefix = f"{DIM}{stamp}{RESET} \x1b[{colour_for(name)}m{label}{RESET} {self._paint(sep_code, '|')} "
            else:
                prefix = f"{stamp} {label} | "
            self._prefixes[key] = prefix
        return prefix

    def lines(self, event: LogLines) -> str:
        batch = event.batch
        prefix = self.prefix(batch.time, batch.process, "!" if batch.stream == Stream.STDERR else "|")
        text = batch.text if not batch.skip else "\n".join(batch.lines)
        if not self.colour:
            return prefix + for_pipe(text).replace("\n", "\n" + prefix) + "\n"
        # a child's unterminated colour must not bleed into the next prefix
        return prefix + for_terminal(text).replace("\n", RESET + "\n" + prefix) + RESET + "\n"

    def say(self, name: str, text: str, code: str | None = None, when: float | None = None) -> str:
        """One line of brummer's own: ``text`` may quote a child (an error message, a URL), so it is made plain."""
        stamp = self._clock(time.time() if when is None else when)
        label = one_line(name).ljust(self.width)
        text = one_line(text)
        if self.colour:
            head = f"{DIM}{stamp}{RESET} \x1b[{colour_for(name)}m{label}{RESET} » "
            return head + (self._paint(code, text) if code else text) + "\n"
        return f"{stamp} {label} » {text}\n"

    def event(self, event: Event) -> str:
        if isinstance(event, LogLines):
            return self.lines(event)
        if isinstance(event, ProcessChanged):
            return self.say(event.info.name, event.describe(), STATE_COLOURS.get(event.info.state))
        if isinstance(event, UrlDetected):
            proxy = self.proxy_url(event.process, event.url) if self.proxy_url is not None else None
            return self.say(event.process, event.describe() + (f" → proxy {proxy}" if proxy else ""), "4")
        if isinstance(event, UrlsCleared):
            return ""
        if isinstance(event, ErrorDetected):
            return self.say(event.group.process, event.describe(), "31")
        if isinstance(event, ErrorResolved):
            return "".join(self.say(event.process, line, "32") for line in event.describe())
        if isinstance(event, Notice):
            code = {"warn": "33", "error": "31"}.get(event.level)
            return self.say(event.process or "brummer", event.text, code)
        if isinstance(event, ServiceFailed):
            text = f"service {event.service} failed ({event.error}); restarting in {event.retry_in:g}s"
            return self.say("brummer", text, "31")
        return ""


async def serve_plain(
    subscription: Subscription,
    output: Output,
    names: Sequence[str],
    *,
    proxy_url: ProxyUrl | None = None,
    colour: bool | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Print every event of ``subscription`` until the bus closes; in colour if ``colour`` (default: on a terminal,
    or with ``FORCE_COLOR``; never with ``NO_COLOR``)."""
    fmt = PlainFormatter(names, use_colour(output) if colour is None else colour, proxy_url)
    task_status.started()
    reported_lines = subscription.dropped.lines
    last_report = 0.0
    while True:
        try:
            batch = await subscription.receive_batch()
        except trio.EndOfChannel:
            break
        text = "".join(map(fmt.event, batch))
        dropped = subscription.dropped.lines
        now = trio.current_time()
        if dropped != reported_lines and now - last_report >= DROP_REPORT_EVERY:
            text += fmt.say(
                "brummer",
                f"output fell behind: {dropped - reported_lines:,} log lines not shown "
                "here (all are kept in the log store)",
                "33",
            )
            reported_lines, last_report = dropped, now
        await output.write(text)
    if subscription.dropped.lines != reported_lines:
        await output.write(
            fmt.say(
                "brummer",
                f"{subscription.dropped.lines - reported_lines:,} more log lines "
                "were not shown here (all are kept in the log store)",
                "33",
            )
        )
