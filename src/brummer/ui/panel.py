"""The live status panel of ``brummer up`` on a terminal: a Trio service, run isolated like any other.

Three tasks share one ``Panel``: the bus watcher (events only say "something changed"; the panel never keeps the
flood), the key reader (cbreak tty, ``wait_readable``), and the renderer, which builds a ``PanelSnapshot`` from the
runtime and hands ``render(snapshot, view)`` to rich's ``Live`` with ``auto_refresh=False``, so no thread ever
reads Trio-owned state. Background changes draw at most ~10 frames a second; a key draws at once.

``Live`` runs on the alternate screen (``screen=True``): the panel owns the whole terminal, a resize is a clean
redraw rather than a scrolled mess, and on exit the shell's screen comes back as it was, followed by a short
summary of how each process ended. ``Live`` writes into a ``FrameSink``; frames reach the terminal through
``Output`` (a worker thread), so a terminal stopped with Ctrl-S never stalls the loop. Nothing else writes to the
terminal while the panel is up: brummer's own messages and Python warnings go to the log store and show in the panel.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from collections.abc import Callable

import trio
from rich.console import Console
from rich.live import Live

from brummer.bus import Notice, ServiceFailed, Subscription
from brummer.logs.query import LogLine
from brummer.runtime import Runtime
from brummer.supervise.state import ProcState
from brummer.ui.keys import Action, Command, KeyDecoder, handle_key
from brummer.ui.output import Output
from brummer.ui.panel_filter import FilterMatches
from brummer.ui.panel_model import DropRow, ErrorRow, PanelSnapshot, RequestRow, ViewState
from brummer.ui.panel_view import plan, render, summary
from brummer.ui.plain import serve_plain
from brummer.ui.terminal import (
    RESTORE_SCREEN,
    FrameSink,
    cbreak,
    key_fd,
    read_chunks,
    terminal_size,
    warnings_to_store,
    write_now,
)

FRAME_INTERVAL = 0.1  # background changes: at most ~10 frames a second
TICK = 1.0  # uptimes move: one frame a second while a process is alive and nothing else happens
CLEAR_SCREEN = "\x1b[2J"
DUMB_TERMINALS = ("dumb", "unknown")


class Panel:
    """The panel's state between frames: the view, what changed, and the commands in flight. Trio thread only."""

    def __init__(self, runtime: Runtime, subscription: Subscription, output: Output, clock: Callable[[], float]):
        self.runtime = runtime
        self.subscription = subscription
        self.output = output
        self.clock = clock
        self.view = ViewState()
        self.dirty = trio.Event()
        self.urgent = trio.Event()
        self.ended = False  # the bus closed: brummer is done
        self.alive = True  # some process is alive (uptimes are moving)
        self.busy: set[str] = set()
        self.matches: FilterMatches | None = None  # the `/` filter's lines, read between frames
        self.dirty.set()

    def changed(self, urgent: bool = False) -> None:
        self.dirty.set()
        if urgent:
            self.urgent.set()

    # -- reading the runtime -----------------------------------------------------------------------------------

    def snapshot(self, width: int, height: int) -> PanelSnapshot:
        sup, store, view = self.runtime.supervisor, self.runtime.store, self.view
        processes = tuple(sup.snapshot())
        names = [p.name for p in processes]
        view.settle(names)
        groups = [g for g in store.errors.groups() if g.last_seq > view.cleared.get(g.process, 0)]
        layout = plan(height, names, len(groups), view)
        errors = tuple(
            ErrorRow(g.process, g.type, g.message, g.location, g.count, g.last_seq)
            for g in reversed(groups[-max(layout.error_rows, 1) :])
        )
        drops = tuple(
            DropRow(name, counts.total, counts.lines)
            for name, counts in self.runtime.bus.drop_counts().items()
            if counts.total
        )
        self.alive = any(p.state.alive or p.state is ProcState.BACKING_OFF for p in processes)
        proxy_urls = {
            (p.name, url): proxy
            for p in processes
            for url in p.urls[:1]
            if (proxy := self.runtime.proxy_url(p.name, url))
        }
        return PanelSnapshot(
            title=self.runtime.project.root.name,
            now=self.clock(),
            width=width,
            height=height,
            processes=processes,
            logs=self.tail(layout.log_rows),
            errors=errors if layout.error_rows else (),
            error_total=len(groups),
            mcp=self.runtime.mcp_urls,
            drops=drops,
            stopping=view.quitting,
            proxy_urls=proxy_urls,
            requests=self.requests(layout.log_rows),
        )

    def requests(self, rows: int) -> tuple[RequestRow, ...]:
        """The selected process's newest proxied requests, when the requests pane is shown."""
        proxy, view = self.runtime.proxy, self.view
        if not view.show_requests or view.show_help or proxy is None or view.selected is None or rows <= 0:
            return ()
        return tuple(
            RequestRow(r.method, r.path, r.status, r.duration_ms, r.response_bytes, r.error)
            for r in proxy.recorder.newest(view.selected, rows)
        )

    def tail(self, rows: int) -> tuple[LogLine, ...]:
        """The newest ``rows`` lines in view: per process (so a cleared process hides only its own), merged."""
        view, store = self.view, self.runtime.store
        if rows <= 0 or view.show_help or view.show_requests:
            return ()
        processes = store.processes() if view.show_all else [view.selected] if view.selected else []
        matches = self.matches if view.pattern is not None and self.matches is not None else None
        found: list[LogLine] = []
        for name in processes:
            cleared = view.cleared.get(name, 0)
            lines = matches.lines.get(name, []) if matches else store.tail(name, limit=rows).lines
            found.extend(line for line in lines[-rows:] if line.seq > cleared)
        found.sort(key=lambda line: line.seq)
        return tuple(found[-rows:])

    async def follow_filter(self, height: int) -> None:
        """Bring the ``/`` filter's matches up to date for a frame of ``height`` rows (the most a tail can show)."""
        pattern = self.view.pattern
        if pattern is None:
            self.matches = None
            return
        if self.matches is None or self.matches.pattern is not pattern or self.matches.rows < height:
            self.matches = FilterMatches(pattern, height)
        await self.matches.update(self.runtime.store)

    # -- tasks -----------------------------------------------------------------------------------------------

    async def watch_bus(self) -> None:
        """Mark the frame dirty on every event; surface brummer's warnings in the footer; end with the bus."""
        while True:
            try:
                events = await self.subscription.receive_batch()
            except trio.EndOfChannel:
                self.ended = True
                self.changed(urgent=True)
                return
            for event in events:
                if isinstance(event, Notice) and event.level in ("warn", "error"):
                    self.view.say(event.text, self.clock(), event.level)
                elif isinstance(event, ServiceFailed):
                    text = f"service {event.service} failed ({event.error}); restarting in {event.retry_in:g}s"
                    self.view.say(text, self.clock(), "error")
            self.changed()

    async def read_keys(self, fd: int, nursery: trio.Nursery) -> None:
        decoder = KeyDecoder()
        while data := await read_chunks(fd):
            names = self.runtime.supervisor.names()
            for key in decoder.feed(data):
                command = handle_key(self.view, key, names, self.clock(), self.runtime.store.last_seq)
                if command is not None:
                    nursery.start_soon(self.run_command, command)
            self.changed(urgent=True)

    async def run_command(self, command: Command) -> None:
        if command.action is Action.QUIT:
            self.runtime.quit()
            return
        name, sup, now = command.process or "", self.runtime.supervisor, self.clock()
        if name in self.busy:
            self.view.say(f"{name}: the last command is still running", now, "warn")
            return
        self.busy.add(name)
        try:
            if command.action is Action.RESTART:
                self.view.say(f"restarting {name}", now)
                await sup.restart(name)
            elif sup.info(name).active:
                self.view.say(f"stopping {name}", now)
                await sup.stop(name)
            else:
                self.view.say(f"starting {name}", now)
                await sup.start(name)
        except Exception as exc:  # a refused command is a message, not a panel crash
            self.view.say(f"{command.action} {name}: {exc}", self.clock(), "error")
        finally:
            self.busy.discard(name)
            self.changed(urgent=True)

    async def watch_resize(self) -> None:
        with trio.open_signal_receiver(signal.SIGWINCH) as resizes:
            async for _ in resizes:
                self.changed(urgent=True)

    async def render_loop(self, live: Live, console: Console, sink: FrameSink) -> None:
        last = -math.inf
        while True:
            with trio.move_on_after(TICK if self.alive else math.inf):
                await self.dirty.wait()
            if not self.urgent.is_set():
                with trio.move_on_at(last + FRAME_INTERVAL):
                    await self.urgent.wait()
            self.dirty, self.urgent = trio.Event(), trio.Event()
            await self.draw(live, console, sink)
            last = trio.current_time()
            if self.ended:
                return

    async def draw(self, live: Live, console: Console, sink: FrameSink) -> None:
        if self.output.closed:  # the terminal went away (SIGHUP follows): nothing to draw on
            return
        size = terminal_size(self.output.fd)
        if size != (console.width, console.height):
            console.size = size
            sink.write(CLEAR_SCREEN)
        await self.follow_filter(size[1])
        live.update(render(self.snapshot(*size), self.view), refresh=True)
        await self.output.write(sink.take())


def make_console(sink: FrameSink, size: tuple[int, int]) -> Console:
    return Console(
        file=sink,
        width=size[0],
        height=size[1],
        force_terminal=True,
        legacy_windows=False,
        highlight=False,
        markup=False,
        emoji=False,
    )


async def serve_panel(
    runtime: Runtime,
    subscription: Subscription,
    output: Output,
    *,
    keys_fd: int | None = None,
    clock: Callable[[], float] = time.time,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Show the panel until the bus closes. ``keys_fd`` defaults to the terminal (stdin, else /dev/tty)."""
    if os.environ.get("TERM", "").lower() in DUMB_TERMINALS:  # no cursor control: plain lines instead
        await serve_plain(subscription, output, list(runtime.project.processes), task_status=task_status)
        return
    opened = False
    if keys_fd is None:
        keys_fd, opened = key_fd(output.fd)
    panel = Panel(runtime, subscription, output, clock)
    sink = FrameSink()
    console = make_console(sink, terminal_size(output.fd))
    live = Live(console=console, auto_refresh=False, screen=True, redirect_stdout=False, redirect_stderr=False)
    try:
        with cbreak(keys_fd) as keys_ok, warnings_to_store(runtime.store):
            if not keys_ok:
                panel.view.say("no keyboard here: the panel only shows (Ctrl-C still quits)", clock(), "warn", 30)
            stopped = False
            try:
                live.start()
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(panel.watch_bus)
                    nursery.start_soon(panel.watch_resize)
                    if keys_ok and keys_fd is not None:
                        nursery.start_soon(panel.read_keys, keys_fd, nursery)
                    task_status.started()
                    await panel.render_loop(live, console, sink)
                    nursery.cancel_scope.cancel()
                live.stop()
                stopped = True
            finally:
                if not stopped:
                    with contextlib.suppress(Exception):
                        live.stop()
                write_now(output.fd, sink.take() + ("" if stopped else RESTORE_SCREEN))
        if panel.ended and not output.closed:
            console.print(summary(tuple(runtime.supervisor.snapshot())))
            await output.write(sink.take())
    finally:
        if opened and keys_fd is not None:
            os.close(keys_fd)
