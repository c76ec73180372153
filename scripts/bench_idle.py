"""What an idle ``brummer up`` costs: wake-ups over a quiet stretch (issue 9, "wake on events, not timers").

One project with one child that only sleeps. ``brummer up --plain`` (stdout to /dev/null, MCP on a free port) is
left to settle (its MCP server up, trio's idle worker threads gone: they exit after 10 s idle), then sampled for
``--seconds``: context switches of every brummer thread (``/proc/PID/task/*/status``) and CPU time
(``/proc/PID/task/*/schedstat``); then, for as long again, when ``strace`` can attach, the system calls made
(``strace -c -f``; ``epoll_wait`` counts the event loop's wake-ups). The
same for the panel (``brummer up`` on a 120x40 pseudo-terminal, drained by this script), whose one-second uptime
tick is by design.

Usage: python scripts/bench_idle.py [--seconds 10] [--settle 12] [--runs 3] [--no-strace] [--no-panel]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

BRUMMER = [sys.executable, "-m", "brummer", "up"]
COLS, ROWS = 120, 40


def _threads(pid: int) -> list[str]:
    try:
        return os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []


def sample(pid: int) -> dict[str, tuple[int, int, int]]:
    """Per thread: (voluntary, involuntary context switches, CPU ns)."""
    found: dict[str, tuple[int, int, int]] = {}
    for tid in _threads(pid):
        vol = invol = 0
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vol = int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        invol = int(line.split()[1])
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                cpu = int(f.read().split()[0])
        except OSError:
            continue
        found[tid] = (vol, invol, cpu)
    return found


def difference(before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]]) -> tuple[int, ...]:
    """What the threads did in between (a thread that ended meanwhile is missed: hence the settle time)."""
    zero = (0, 0, 0)
    return tuple(sum(a[i] - before.get(tid, zero)[i] for tid, a in after.items()) for i in range(3))


def strace_calls(pid: int, seconds: float) -> dict[str, int] | None:
    """System calls of every thread of ``pid`` over ``seconds`` (strace -c -f), or None if it cannot attach."""
    if shutil.which("strace") is None:
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        tracer = subprocess.Popen(
            ["strace", "-c", "-f", "-o", out.name, "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(seconds)
        tracer.send_signal(signal.SIGINT)
        _, err = tracer.communicate(timeout=10)
        if tracer.returncode not in (0, -signal.SIGINT) and b"attach" in err:
            return None
        calls: dict[str, int] = {}
        for line in out.read().splitlines():
            parts = line.split()
            if len(parts) >= 5 and parts[-1] not in ("syscall", "total") and parts[3].isdigit():
                calls[parts[-1]] = int(parts[3])
        return calls


def project(tmp: Path) -> Path:
    (tmp / "Procfile").write_text("sleeper: sleep 3600\n")
    return tmp


class Terminal:
    """``cmd`` on a pseudo-terminal that this script drains (a panel must have a reader)."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.master = master
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                if not os.read(self.master, 1 << 16):
                    return
            except OSError:
                return


def measure(panel: bool, seconds: float, settle: float, use_strace: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="brummer-idle-") as tmp:
        root = project(Path(tmp))
        env = {**os.environ, "TERM": "xterm-256color"}
        cmd = [*BRUMMER, "--dir", str(root), "--mcp-port", "0"] + ([] if panel else ["--plain"])
        if panel:
            proc = Terminal(cmd, env).proc
        else:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            time.sleep(settle)
            before, began = sample(proc.pid), time.perf_counter()
            time.sleep(seconds)
            after, took = sample(proc.pid), time.perf_counter() - began
            done = difference(before, after)
            # then, separately (a tracer's stops are context switches too): the system calls
            calls = strace_calls(proc.pid, seconds) if use_strace else None
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    per_s = took or 1.0
    return {
        "voluntary/s": done[0] / per_s,
        "involuntary/s": done[1] / per_s,
        "cpu ms/s": done[2] / 1e6 / per_s,
        "threads": len(after),
        "calls": calls,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--settle", type=float, default=16.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-strace", action="store_true")
    ap.add_argument("--no-panel", action="store_true")
    args = ap.parse_args()
    for panel in (False,) if args.no_panel else (False, True):
        label = "panel (pty)" if panel else "--plain"
        runs = [measure(panel, args.seconds, args.settle, not args.no_strace) for _ in range(args.runs)]
        vol = statistics.median(float(r["voluntary/s"]) for r in runs)  # type: ignore[arg-type]
        invol = statistics.median(float(r["involuntary/s"]) for r in runs)  # type: ignore[arg-type]
        cpu = statistics.median(float(r["cpu ms/s"]) for r in runs)  # type: ignore[arg-type]
        threads = max(int(r["threads"]) for r in runs)  # type: ignore[call-overload]
        print(
            f"{label}: {vol:.1f} voluntary + {invol:.1f} involuntary context switches/s, {cpu:.2f} ms CPU/s "
            f"({threads} threads)"
        )
        for r in runs:
            calls = r["calls"]
            if isinstance(calls, dict):
                top = sorted(calls.items(), key=lambda kv: -kv[1])[:6]
                total = sum(calls.values())
                print(f"  syscalls in {args.seconds:g}s: {total} ({', '.join(f'{k} {v}' for k, v in top)})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
