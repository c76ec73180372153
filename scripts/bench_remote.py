"""The remote commands' benchmarks, run by ``scripts/bench`` (``scripts/bench remote``); results in
docs/benchmarks.md.

- remote: ``brummer ps`` against a running ``brummer up`` (a connection, two tool calls, a table), whole process,
  against ``python -c 'import trio'`` in the same run, interleaved; ``brummer logs -n 100`` too. Goal: ps <= 1.5x.
- watch: what the hub's registry watch costs. Without inotify it would ``stat`` the directory once a second (the
  cost of one look); with inotify, how long after an entry is written the watcher wakes.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
BRUMMER = [str(VENV_BIN / "brummer")]


def bench_remote(runs: int, clean_env: dict[str, str], timed: Callable[..., tuple[float, int, int]]) -> None:
    work = Path(tempfile.mkdtemp(prefix="brummer-bench-"))
    runtime = work / "runtime"
    runtime.mkdir(mode=0o700)
    project = work / "proj"
    project.mkdir()
    (project / "brummer.toml").write_text(
        '[processes.web]\ncmd = "echo started; sleep 300"\nready = "none"\n[processes.api]\ncmd = "sleep 300"\n'
    )
    env = {**clean_env, "XDG_RUNTIME_DIR": str(runtime), "NO_COLOR": "1"}
    up = subprocess.Popen(
        [*BRUMMER, "up", "--plain", "--dir", str(project), "--mcp-port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        ps = [*BRUMMER, "ps", "--dir", str(project)]
        while subprocess.run(ps, env=env, capture_output=True, check=False).returncode != 0:
            if time.monotonic() > deadline or up.poll() is not None:
                print("  (brummer up did not serve MCP; remote benchmark skipped)")
                return
            time.sleep(0.1)
        contenders: dict[str, Callable[[], tuple[float, int, int]]] = {
            "brummer ps": lambda: timed(ps, env=env),
            "brummer logs -n 100": lambda: timed([*BRUMMER, "logs", "-n", "100", "--dir", str(project)], env=env),
            "python -c 'import trio'": lambda: timed([sys.executable, "-c", "import trio"], env=clean_env),
        }
        walls: dict[str, list[float]] = {name: [] for name in contenders}
        for run in range(runs + 1):  # the first round warms caches and is not counted
            for name, fn in contenders.items():
                wall, _, code = fn()
                if code != 0:
                    print(f"  warning: {name} exited {code}")
                if run:
                    walls[name].append(wall)
        base = statistics.median(walls["python -c 'import trio'"])
        print(f"remote commands against a running brummer up, {runs} interleaved runs:")
        for name, values in walls.items():
            middle = statistics.median(values)
            spread = f"(min {min(values):.3f}, max {max(values):.3f})"
            print(f"  {name:26} {middle:.3f} s {spread}  {middle / base:.2f}x")
        print("  goal: brummer ps <= 1.5x python -c 'import trio'")
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(30)
        except subprocess.TimeoutExpired:
            up.kill()
        shutil.rmtree(work, ignore_errors=True)


def bench_watch(runs: int) -> None:
    """The registry watch: a stat per poll, and inotify's wake-up after an entry is written (renamed in)."""
    import trio

    from brummer.remote.watch import SETTLE, RegistryWatch

    folder = Path(tempfile.mkdtemp(prefix="brummer-bench-"))
    folder.chmod(0o700)
    count = 100_000
    t0 = time.perf_counter()
    for _ in range(count):
        os.stat(folder, follow_symlinks=False)
    per_stat = (time.perf_counter() - t0) / count

    written: list[float] = []

    async def write(index: int) -> None:
        await trio.sleep(0.05)
        temp = folder / f".entry.{index}.tmp"
        temp.write_text("{}")
        written.append(time.perf_counter())
        temp.rename(folder / f"entry.{index}.json")

    async def wakeups() -> list[float]:
        delays = []
        with RegistryWatch(folder) as watch:
            assert watch.inotify, "no inotify here"
            for index in range(runs):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(write, index)
                    await watch.changed()
                delays.append(time.perf_counter() - written[-1])
        return delays

    delays = trio.run(wakeups) if sys.platform.startswith("linux") else []
    print("registry watch:")
    print(f"  poll: one stat of the directory: {per_stat * 1e6:.1f} µs (once a second without inotify)")
    if delays:
        settle = f"of which {SETTLE * 1e3:.0f} ms is the pause that gathers a write's events"
        print(f"  inotify: woken {statistics.median(delays) * 1e3:.1f} ms after an entry is written ({settle})")
    shutil.rmtree(folder, ignore_errors=True)
