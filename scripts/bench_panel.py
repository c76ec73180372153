"""The live panel's benchmarks (issue 4): what the panel costs under a flood, and how fast it answers keys.

- flood: one process prints 1,000,000 lines of ~65 bytes. Wall time of ``brummer up`` with the panel (stdout on a
  pseudo-terminal of 120x40, drained by this script) against ``brummer up --plain`` on the same kind of
  pseudo-terminal and ``--plain`` to /dev/null (the setup of scripts/bench.py), interleaved runs, medians.
  Goal: panel <= 1.2x plain.
- keys: while a process floods (it never stops during the sampling), press ``?`` to open the help, then ``?`` to
  close it, many times; each latency is from writing the key to the pty until a frame showing its effect arrives.
  Goal: every key answered within 100 ms.

Usage: python scripts/bench_panel.py [flood|keys ...] [--runs N] [--lines N] [--samples N]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

BRUMMER = [sys.executable, "-m", "brummer", "up", "--no-mcp"]
COLS, ROWS = 120, 40
GENERATOR = """\
import sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    w(f"{i:08d} GET /api/items?page={i % 97} 200 OK in 12ms lorem ipsum dolor\\n")
"""
HELP_SHOWN = b"(? or Esc closes)"
LOGS_SHOWN = b"logs \xc2\xb7 all processes"


class Pty:
    """A command on a fresh pseudo-terminal (its controlling tty), with everything it writes drained and kept."""

    def __init__(self, cmd: list[str], env: dict[str, str], keep: bool = False) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, preexec_fn=_set_ctty
        )
        os.close(slave)
        self.master = master
        self.keep = keep
        self.data = bytearray()
        self.total = 0
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:
                chunk = b""
            with self.cond:
                if not chunk:
                    self.cond.notify_all()
                    return
                self.total += len(chunk)
                if self.keep:
                    self.data += chunk
                self.cond.notify_all()

    def wait_for(self, marker: bytes, start: int, timeout: float = 10.0) -> float:
        """Block until ``marker`` appears in the output after byte ``start``; the time it was seen."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while self.data.find(marker, max(start - len(marker), 0)) < 0:
                left = deadline - time.perf_counter()
                if left <= 0 or not self.thread.is_alive():
                    raise TimeoutError(f"{marker!r} not seen")
                self.cond.wait(left)
            return time.perf_counter()

    def press(self, key: bytes) -> tuple[float, int]:
        with self.cond:
            offset = len(self.data)
        os.write(self.master, key)
        return time.perf_counter(), offset

    def finish(self) -> tuple[float, int]:
        """(wall seconds from start to exit, exit code)."""
        _, status, _ = os.wait4(self.proc.pid, 0)
        wall = time.perf_counter() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.thread.join(5)
        os.close(self.master)
        return wall, self.proc.returncode


def _set_ctty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def devnull_run(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    code = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
    return time.perf_counter() - start, code


def flood_project(lines: int) -> Path:
    work = Path(tempfile.mkdtemp(prefix="brummer-bench-panel-"))
    (work / "gen.py").write_text(GENERATOR)
    (work / "Procfile").write_text(f"flood: {sys.executable} {work / 'gen.py'} {lines}\n")
    return work


def bench_flood(runs: int, lines: int) -> None:
    work = flood_project(lines)
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    cmd = [*BRUMMER, "--dir", str(work)]
    contenders: dict[str, Callable[[], tuple[float, int]]] = {
        "plain > /dev/null": lambda: devnull_run([*cmd, "--plain"], env),
        "plain on a pty": lambda: Pty([*cmd, "--plain"], env).finish(),
        "panel on a pty": lambda: Pty(cmd, env).finish(),
    }
    walls: dict[str, list[float]] = {name: [] for name in contenders}
    print(f"flood: 1 process x {lines:,} lines, {runs} interleaved runs (+1 warm-up), pty {COLS}x{ROWS}")
    for run in range(runs + 1):
        for name, fn in contenders.items():
            wall, code = fn()
            if code != 0:
                print(f"  warning: {name} exited {code}")
            if run:
                walls[name].append(wall)
    base = statistics.median(walls["plain on a pty"])
    for name, values in walls.items():
        wall = statistics.median(values)
        print(f"  {name:20} {wall:7.3f} s (min {min(values):.3f}, max {max(values):.3f})  {wall / base:5.2f}x")
    ratio = statistics.median(walls["panel on a pty"]) / base
    print(f"  panel / plain (both on a pty): {ratio:.2f}x (goal <= 1.2x)")
    ratio = statistics.median(walls["panel on a pty"]) / statistics.median(walls["plain > /dev/null"])
    print(f"  panel / plain > /dev/null:     {ratio:.2f}x")
    shutil.rmtree(work, ignore_errors=True)


def bench_keys(samples: int) -> None:
    work = flood_project(1_000_000_000)  # floods for the whole sampling
    env = {**os.environ, "TERM": "xterm-256color"}
    run = Pty([*BRUMMER, "--dir", str(work)], env, keep=True)
    run.wait_for(b"flood", 0)
    time.sleep(1.0)  # well into the flood
    with run.cond:
        first_line = newest_line(run.data)
        del run.data[:]
    before = run.total
    latencies: list[float] = []
    began = time.perf_counter()
    last_line = first_line
    for _ in range(samples):
        for marker in (HELP_SHOWN, LOGS_SHOWN):
            pressed, offset = run.press(b"?")
            latencies.append(run.wait_for(marker, offset) - pressed)
            with run.cond:  # forget what was seen: the buffer would grow with every frame
                last_line = max(last_line, newest_line(run.data))
                del run.data[:]
        time.sleep(0.05)  # let the flood show between presses
    elapsed = time.perf_counter() - began
    frames_bytes = run.total - before
    run.press(b"q")
    _, code = run.finish()
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    flowed = last_line - first_line
    print(f"keys under a flood: {len(ms)} presses over {elapsed:.1f} s; the tail moved {flowed:,} lines meanwhile")
    print(f"  ({flowed / elapsed:,.0f} lines/s through brummer, {frames_bytes / elapsed / 1e3:,.0f} kB/s of frames)")
    print(f"  latency median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms (goal < 100 ms)")
    print(f"  exit code after q: {code}")
    shutil.rmtree(work, ignore_errors=True)


def newest_line(data: bytearray) -> int:
    """The highest flood line number on screen in ``data`` (0 if none)."""
    return max((int(m) for m in re.findall(rb"(\d{8}) GET", data)), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("what", nargs="*", help="flood, keys (default: both)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=25)
    args = parser.parse_args()
    for what in args.what or ["flood", "keys"]:
        if what == "flood":
            bench_flood(args.runs, args.lines)
        elif what == "keys":
            bench_keys(args.samples)
        else:
            parser.error(f"unknown benchmark {what!r}")


if __name__ == "__main__":
    main()
