"""The panel service in-process on a real pseudo-terminal, over a real supervisor with real children."""

from __future__ import annotations

import fcntl
import functools
import os
import pty
import signal
import struct
import termios
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
from rich.console import RenderableType
from screen_frames import last_frame, table_row

import brummer.ui.panel as panel_module
from brummer.bus import ServiceFailed
from brummer.runtime import Runtime
from brummer.services import run_isolated
from brummer.supervise.state import ProcState
from brummer.ui import panel_view
from brummer.ui.output import Output
from brummer.ui.panel import Panel, serve_panel
from brummer.ui.panel_model import PanelSnapshot, ViewState, compile_filter
from helpers import PY, Running, append_lines, load, running, wait_until, write_project

WEB = "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); " + (
    "print(f'Local: http://127.0.0.1:{s.getsockname()[1]}/'); time.sleep(300)"  # listens: the URL is its own
)
PROCFILE = f"""\
ticker: {PY} -u -c "import time; [print('tick', i, flush=True) or time.sleep(0.05) for i in range(10**6)]"
web: {PY} -u -c "{WEB}"
"""


class Screen:
    """The master side of a pty whose slave is the panel's terminal: drained, sized, typed into."""

    def __init__(self, cols: int = 100, rows: int = 24) -> None:
        self.master, self.slave = pty.openpty()
        self.resize(cols, rows)
        self.original = termios.tcgetattr(self.slave)
        self.text = ""

    def resize(self, cols: int, rows: int) -> None:
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    async def drain(self) -> None:
        while True:
            await trio.lowlevel.wait_readable(self.master)
            try:
                self.text += os.read(self.master, 1 << 16).decode("utf-8", "replace")
            except OSError:
                return

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def cbreak(self) -> bool:
        return not termios.tcgetattr(self.slave)[3] & termios.ICANON

    def restored(self) -> bool:
        return termios.tcgetattr(self.slave) == self.original

    async def wait(self, predicate: Callable[[list[str]], bool], timeout: float = 20) -> list[str]:
        await wait_until(lambda: predicate(last_frame(self.text)), within=timeout, every=0.02)
        return last_frame(self.text)

    async def left_alternate_screen(self, timeout: float = 10) -> None:
        await wait_until(lambda: self.text.rstrip().endswith("\x1b[?1049l"), within=timeout, every=0.01)

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


@asynccontextmanager
async def panel_on_pty(tmp_path: Path, **screen_size: int) -> AsyncIterator[tuple[Running, Screen, trio.Nursery]]:
    async with running(load(write_project(tmp_path, Procfile=PROCFILE))) as r:
        screen = Screen(**screen_size)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(screen.drain)
                yield r, screen, nursery
                nursery.cancel_scope.cancel()
        finally:
            screen.close()


def start_panel(r: Running, screen: Screen) -> Callable[..., Awaitable[None]]:
    """``serve_panel`` on ``screen`` (pass ``task_status`` to know when it draws)."""
    runtime = Runtime(r.sup.project, r.sup, r.store, r.bus)
    subscription = r.bus.subscribe("panel")
    return functools.partial(serve_panel, runtime, subscription, Output(screen.slave), keys_fd=screen.slave)


async def test_keys_restart_stop_and_start_then_the_terminal_is_restored(tmp_path: Path) -> None:
    async with panel_on_pty(tmp_path) as (r, screen, _):
        async with trio.open_nursery() as panel_nursery:
            panel_nursery.start_soon(start_panel(r, screen))
            await screen.wait(lambda lines: (row := table_row(lines, "web")) is not None and "http" in " ".join(row))
            assert screen.cbreak()
            screen.type(b"jk")  # ticker is first; j then k comes back to it; then down to web
            screen.type(b"j")
            await screen.wait(lambda lines: any(line.startswith("› web") for line in lines))
            pid = r.sup.info("web").pid
            screen.type(b"r")
            lines = await screen.wait(lambda lines: (row := table_row(lines, "web")) is not None and "1" in row[3:])
            await r.wait_state("web", ProcState.RUNNING, ProcState.READY)
            assert r.sup.info("web").restarts == 1 and r.sup.info("web").pid != pid
            assert "restarts" in lines[1]
            screen.type(b"s")
            await r.wait_state("web", ProcState.EXITED)
            await screen.wait(lambda lines: (row := table_row(lines, "web")) is not None and row[1] == "exited")
            screen.type(b"s")
            await r.wait_state("web", ProcState.RUNNING, ProcState.READY)
            panel_nursery.cancel_scope.cancel()  # the shutdown's deadline: the service is cancelled mid-frame
        await wait_until(screen.restored, within=5, every=0.01)
        await screen.left_alternate_screen()


async def test_bus_end_leaves_the_screen_and_prints_a_summary(tmp_path: Path) -> None:
    async with panel_on_pty(tmp_path) as (r, screen, nursery):
        done = trio.Event()

        async def panel_then_done() -> None:
            await start_panel(r, screen)()
            done.set()

        nursery.start_soon(panel_then_done)
        await screen.wait(lambda lines: table_row(lines, "ticker") is not None)
        r.bus.close()
        with trio.fail_after(10):
            await done.wait()
        assert screen.restored()
        # the summary, on the normal screen
        await wait_until(lambda: "»" in screen.text.rpartition("\x1b[?1049l")[2], within=10, every=0.01)
        after = screen.text.rpartition("\x1b[?1049l")[2]
        assert "ticker" in after and "web" in after


async def test_a_crashing_panel_restores_the_terminal_and_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_render = panel_view.render
    calls = 0

    def flaky_render(snapshot: PanelSnapshot, view: ViewState) -> RenderableType:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("render bug")
        return real_render(snapshot, view)

    monkeypatch.setattr(panel_module, "render", flaky_render)
    async with panel_on_pty(tmp_path) as (r, screen, nursery):
        with r.bus.subscribe("watch", low=0) as watcher:
            service = functools.partial(run_isolated, "panel", start_panel(r, screen), r.store, first_retry=1.0)
            await nursery.start(service)
            with trio.fail_after(20):
                failure = None
                async for event in watcher:
                    if isinstance(event, ServiceFailed):
                        failure = event
                        break
            assert failure is not None and failure.error == "RuntimeError: render bug"
            assert screen.restored()  # before the restart: a normal terminal, not cbreak on the alternate screen
            await screen.left_alternate_screen()
            mark = len(screen.text)
            await wait_until(
                lambda: screen.cbreak() and table_row(last_frame(screen.text[mark:]), "ticker"), within=20, every=0.02
            )
            # the failure shows in the panel that came back
            await screen.wait(lambda lines: any("panel failed (RuntimeError: render bug)" in line for line in lines))
        nursery.cancel_scope.cancel()


async def test_resize_lays_the_panel_out_again(tmp_path: Path) -> None:
    async with panel_on_pty(tmp_path, cols=120, rows=30) as (r, screen, nursery):
        nursery.start_soon(start_panel(r, screen))
        lines = await screen.wait(lambda lines: table_row(lines, "web") is not None and len(lines) >= 30)
        assert "pid" in lines[1] and len(lines[0]) == 120
        screen.resize(60, 16)
        os.kill(os.getpid(), signal.SIGWINCH)  # what the terminal sends its foreground job
        lines = await screen.wait(lambda lines: len(lines[0]) == 60 and len(lines) >= 16)
        assert "pid" not in lines[1] and "state" in lines[1] and "urls" in lines[1]
        nursery.cancel_scope.cancel()


async def test_warnings_go_into_the_panel_not_the_terminal(tmp_path: Path) -> None:
    async with panel_on_pty(tmp_path) as (r, screen, nursery):
        await nursery.start(start_panel(r, screen))
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("something odd", UserWarning, stacklevel=1)
        notes = [line.text for line in r.store.tail("brummer", limit=50).lines]
        assert any("UserWarning: something odd" in note for note in notes)
        await screen.wait(lambda lines: any("UserWarning: something odd" in line for line in lines))
        nursery.cancel_scope.cancel()


async def test_tail_selection_clear_filter_and_errors(tmp_path: Path) -> None:
    async with running(load(write_project(tmp_path, Procfile=PROCFILE))) as r:
        runtime = Runtime(r.sup.project, r.sup, r.store, r.bus)
        panel = Panel(runtime, r.bus.subscribe("panel"), Output(1), clock=lambda: 0.0)  # never draws here
        await r.wait_for(lambda: len(r.text("ticker")) > 5 and bool(r.sup.info("web").urls))
        append_lines(
            r.store, "web", "stderr", ["Traceback (most recent call last):", '  File "x.py", line 1', "KeyError: 1"]
        )
        r.store.flush_errors("web")
        snap = panel.snapshot(100, 30)
        assert {line.process for line in snap.logs} >= {"ticker", "web"} and snap.errors[0].type == "KeyError"
        panel.view.selected, panel.view.show_all = "web", False
        assert {line.process for line in panel.snapshot(100, 30).logs} == {"web"}
        panel.view.cleared["web"] = r.store.last_seq  # what `c` does
        snap = panel.snapshot(100, 30)
        assert snap.logs == () and snap.errors == ()  # web's view is empty, its error group hidden too
        assert r.store.tail("web", limit=100).lines  # the store still has everything
        panel.view.show_all = True
        assert {line.process for line in panel.snapshot(100, 30).logs} == {"ticker"}  # others untouched
        append_lines(r.store, "web", "stdout", ["after the clear"])
        assert "after the clear" in [line.text for line in panel.snapshot(100, 30).logs]
        panel.view.pattern = compile_filter("tick 3$")
        await panel.follow_filter(30)
        assert [line.text for line in panel.snapshot(100, 30).logs] == ["tick 3"]


async def test_a_process_never_started_is_idle_in_the_rows_and_the_header(tmp_path: Path) -> None:
    """The header counts the states the rows show: one word for "never started", and it is not "pending"."""
    procfile = PROCFILE + "spare: sleep 300\n"
    async with running(load(write_project(tmp_path, Procfile=procfile)), ["ticker"]) as r:
        screen = Screen()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(screen.drain)
                nursery.start_soon(start_panel(r, screen))
                lines = await screen.wait(
                    lambda lines: (row := table_row(lines, "ticker")) is not None and row[1] == "running"
                )
                assert table_row(lines, "web")[1] == table_row(lines, "spare")[1] == "idle"  # type: ignore[index]
                assert lines[0].rstrip().endswith("1 running · 2 idle") and "pending" not in lines[0]
                nursery.cancel_scope.cancel()
        finally:
            screen.close()
