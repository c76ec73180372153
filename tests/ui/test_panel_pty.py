"""End to end: ``python -m brummer up`` on a real pseudo-terminal (pexpect), driven by keys as a person would."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest
from screen_frames import last_frame, table_cell, table_row

from helpers import PY, pid_alive, write_project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webapp"
BOUND = 30.0  # seconds any one step may take before the test fails (a bound, not a measurement)

WEB = """\
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()  # a URL is the process's own once it listens there
print(f"Local: http://127.0.0.1:{s.getsockname()[1]}/", flush=True)
time.sleep(300)
"""
WEB_URL = re.compile(r"http://127\.0\.0\.1:\d+/")
WORKER = """\
import time
for i in range(10**6):
    print(f"\\x1b[32mtick\\x1b[0m {i}", flush=True)
    time.sleep(0.2)
"""


# What a job-control shell does: brummer in its own process group, made the terminal's foreground group, with its
# parent in the same session (so Ctrl-Z would really stop it). Exit code passed through; a stop is reported.
JOB_SHELL = """\
import os, signal, sys
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    os.tcsetpgrp(0, os.getpgrp())
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.execv(sys.executable, [sys.executable, "-m", "brummer", *sys.argv[1:]])
signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(pid, signum))
while True:
    _, status = os.waitpid(pid, os.WUNTRACED)
    if os.WIFSTOPPED(status):
        print("BRUMMER WAS SUSPENDED", flush=True)
        os.kill(pid, signal.SIGCONT)
        continue
    sys.exit(os.waitstatus_to_exitcode(status))
"""


class Terminal:
    """``brummer up`` on a pty of ``cols`` x ``rows``, its output kept for reading frames."""

    def __init__(self, args: list[str], cols: int = 110, rows: int = 30) -> None:
        env = {**os.environ, "TERM": "xterm-256color"}
        env.pop("NO_COLOR", None)
        self.child = pexpect.spawn(
            sys.executable,
            ["-c", JOB_SHELL, "up", "--no-mcp", *args],
            dimensions=(rows, cols),
            env=env,
            encoding="utf-8",
            codec_errors="replace",
        )
        assert self.child.pid is not None  # spawned
        self.pid: int = self.child.pid
        self.output = ""
        self.restored = False

    def read(self) -> None:
        with contextlib.suppress(pexpect.TIMEOUT):
            self.output += self.child.read_nonblocking(1 << 16, timeout=0.05)

    def wait_frame(self, predicate: Callable[[list[str]], bool], what: str) -> list[str]:
        deadline = time.monotonic() + BOUND
        while not predicate(lines := last_frame(self.output)):
            if time.monotonic() > deadline or not self.child.isalive():
                pytest.fail(f"never saw {what}; last frame:\n" + "\n".join(lines))
            self.read()
        return lines

    def wait_exit(self) -> int:
        deadline = time.monotonic() + BOUND
        while self.child.isalive():
            if time.monotonic() > deadline:
                pytest.fail("brummer did not exit")
            try:
                self.read()
            except pexpect.EOF:
                break
        self.restored = self.cooked()
        self.child.close(force=False)
        assert self.child.exitstatus is not None, f"killed by signal {self.child.signalstatus}"
        return self.child.exitstatus

    def cooked(self) -> bool:
        """The terminal is back in line mode with echo (read through the master side, after brummer is gone)."""
        lflag = termios.tcgetattr(self.child.child_fd)[3]
        return bool(lflag & termios.ICANON and lflag & termios.ECHO)

    def kill(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


def descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def none_alive(pids: set[int] | list[int]) -> bool:
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def wait_pids(path: Path, count: int) -> list[int]:
    deadline = time.monotonic() + BOUND
    while len(pids := [int(p) for p in path.read_text().split()]) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"only {len(pids)} of {count} children wrote their pid")
        time.sleep(0.02)
    return pids


def restarts_of(name: str, lines: list[str]) -> str | None:
    return table_cell(lines, name, "restarts")


def test_restart_by_key_then_quit(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    (tmp_path / "web.py").write_text(WEB)
    (tmp_path / "worker.py").write_text(WORKER)
    root = write_project(
        tmp_path / "proj",
        brummer_toml=f"""
        [processes.web]
        cmd = "echo $$ >> {pids}; exec {PY} {tmp_path / "web.py"}"
        grace = 2
        [processes.worker]
        cmd = "sleep 300 & echo $! >> {pids}; echo $$ >> {pids}; exec {PY} {tmp_path / "worker.py"}"
        grace = 2
        """,
    )
    term = Terminal(["--dir", str(root)])
    try:
        lines = term.wait_frame(
            lambda lines: WEB_URL.search(" ".join(table_row(lines, "web") or ())) is not None, "web's URL"
        )
        assert "restarts" in lines[1] and restarts_of("web", lines) == "0"
        term.wait_frame(lambda lines: any(line.startswith("› web") for line in lines), "web selected")
        term.child.send("r")
        term.wait_frame(lambda lines: restarts_of("web", lines) == "1", "web's restart count go to 1")
        term.wait_frame(lambda lines: "tick" in " ".join(lines), "the worker's log lines")
        term.wait_frame(
            lambda lines: (row := table_row(lines, "web")) is not None and row[1] in ("running", "ready"), "web back"
        )
        victims = wait_pids(pids, 4)  # web twice (restarted), worker and its sleep
        term.child.send("q")
        assert term.wait_exit() == 130 and term.restored
        assert none_alive(victims)
        assert "\x1b[?1049l" in term.output  # the alternate screen was left
    finally:
        term.kill()


@pytest.mark.parametrize(("how", "code"), [("ctrl-c", 130), ("SIGTERM", 143)])
def test_signals_are_the_clean_shutdown(tmp_path: Path, how: str, code: int) -> None:
    (tmp_path / "web.py").write_text(WEB)
    root = write_project(tmp_path / "proj", Procfile=f"web: {PY} {tmp_path / 'web.py'}\n")
    term = Terminal(["--dir", str(root)], cols=60, rows=12)
    try:
        lines = term.wait_frame(lambda lines: WEB_URL.search(" ".join(lines)) is not None, "the URL at 60 columns")
        assert "state" in lines[1] and "pid" not in lines[1]
        term.child.send("\x1a?")  # Ctrl-Z does not suspend brummer in the panel: the next key is answered
        term.wait_frame(lambda lines: any("(? or Esc closes)" in line for line in lines), "the help")
        children = descendants(term.pid)
        if how == "ctrl-c":
            term.child.sendintr()  # SIGINT from the terminal: cbreak keeps ISIG
        else:
            term.child.kill(signal.SIGTERM)
        assert term.wait_exit() == code and term.restored
        assert none_alive(children)
        assert "SUSPENDED" not in term.output
    finally:
        term.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(shutil.which("node") is None, reason="the example project needs Node.js")
def test_example_project(tmp_path: Path) -> None:
    project = tmp_path / "webapp"
    shutil.copytree(EXAMPLE, project)
    web, api = free_port(), free_port()
    toml = (project / "brummer.toml").read_text().replace("5173", str(web)).replace("3001", str(api))
    (project / "brummer.toml").write_text(toml)
    term = Terminal(["--dir", str(project)], cols=120, rows=32)
    try:
        lines = term.wait_frame(
            lambda lines: f"http://localhost:{web}/" in " ".join(lines) and "TS2322" in " ".join(lines),
            "the web URL and the TypeScript error",
        )
        assert f"http://127.0.0.1:{api}/" in " ".join(lines)
        assert {"api", "web", "watch"} <= {row[0] for line in lines if (row := line.replace("›", " ").split())}
        children = descendants(term.pid)
        assert children
        term.child.send("q")
        assert term.wait_exit() == 130 and term.restored
        assert none_alive(children)
    finally:
        term.kill()
