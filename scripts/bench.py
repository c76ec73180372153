"""brummer's benchmarks; run through ``scripts/bench`` (which prepares .venv). Results go in docs/benchmarks.md.

- flood: one process prints 1,000,000 lines of ~60 bytes. Wall time of ``brummer up`` (output to /dev/null) over
  the wall time of the same generator writing straight to /dev/null, measured in the same run, interleaved; the
  same for concurrently (npm) and honcho (PyPI), installed into bench-cache/ on first use. Also brummer's peak RSS.
- startup: time from starting ``brummer up`` to its first child's exec, against ``python -c 'import trio'``.
- kill9: after ``kill -9`` of brummer (--grace 1), how long until its processes (escapees, TERM-ignorers, a pipe
  holder) and its guardian are gone; idle and with a busy loop on every core.
- flood-colour: the flood with SGR-coloured lines and FORCE_COLOR=1 (the printer's colour path and its sanitiser).
- proxy: the recording proxy against Node's http-proxy (scripts/bench_proxy.py; writes its docs/benchmarks.md part).
- remote, watch: ``brummer ps`` against a running ``brummer up`` vs ``python -c 'import trio'``, and the registry
  watch of the hub (scripts/bench_remote.py).
- smoke: ``brummer smoke`` on examples/webapp against the same steps done by hand as CI scripts do (see
  ``bench_smoke.py``).

Usage: scripts/bench [flood|flood-colour|retention|startup|kill9|proxy|remote|watch|smoke ...] [--runs N]
       [--lines N] [--skip-peers]
"""

from __future__ import annotations

import argparse
import functools
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

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench-cache"
VENV_BIN = Path(sys.executable).parent
BRUMMER = [str(VENV_BIN / "brummer")]

# The generator: a plain Python program that prints one line at a time (block-buffered, as on any pipe).
GENERATOR = """\
import sys
for i in range(int(sys.argv[1])):
    print(f"{i:08d} GET /api/items?page={i % 97} 200 OK in 12ms lorem ipsum dolor")
"""
# A harsher one, reported too: the same lines through one bound ``write`` (about twice as fast, so brummer's
# fixed start-up and exit cost weigh twice as much in the ratio).
FAST_GENERATOR = (
    GENERATOR.replace("    print(f", "    w(f")
    .replace('dolor")', 'dolor\\n")')
    .replace("import sys\n", "import sys\nw = sys.stdout.write\n")
)


# Ordinary colourful output (what dev servers print: dim times, coloured tags and status), printed with colour on
# (FORCE_COLOR): every sequence is SGR, so the printer's sanitiser must let it through on its fast path.
COLOUR_GENERATOR = GENERATOR.replace(
    'print(f"{i:08d} GET /api/items?page={i % 97} 200 OK in 12ms lorem ipsum dolor")',
    'print(f"\\x1b[2m{i:08d}\\x1b[22m \\x1b[36mGET\\x1b[39m /api/items?page={i % 97} \\x1b[1;32m200\\x1b[0m OK 12ms")',
)
assert COLOUR_GENERATOR != GENERATOR

LINE_BYTES = len("00000000 GET /api/items?page=0 200 OK in 12ms lorem ipsum dolor\n")


# Every contender runs with the same, ordinary environment: block-buffered output (no PYTHONUNBUFFERED) and
# bytecode caches on (no PYTHONDONTWRITEBYTECODE), as on a developer's machine.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")}


def timed(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in KiB of the process, exit code), output to /dev/null."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env or CLEAN_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss, proc.returncode


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return f"{median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f})"


# -- peers ------------------------------------------------------------------------------------------------


def honcho() -> list[str] | None:
    venv = CACHE / "honcho"
    exe = venv / "bin" / "honcho"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        result = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "honcho"], capture_output=True)
        if result.returncode != 0:
            print("  (honcho could not be installed; skipped)")
            return None
    return [str(exe)]


def concurrently() -> list[str] | None:
    prefix = CACHE / "npm"
    exe = prefix / "node_modules" / ".bin" / "concurrently"
    if not exe.exists():
        if not shutil.which("npm"):
            print("  (npm not found; concurrently skipped)")
            return None
        prefix.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--silent", "concurrently"], capture_output=True
        )
        if result.returncode != 0:
            print("  (concurrently could not be installed; skipped)")
            return None
    return [str(exe)]


# -- flood ------------------------------------------------------------------------------------------------


def bench_flood(
    runs: int, lines: int, peers: bool, source: str = GENERATOR, label: str = "print()", colour: bool = False
) -> None:
    work = Path(tempfile.mkdtemp(prefix="brummer-bench-"))
    gen = work / "gen.py"
    gen.write_text(source)
    gen_cmd = f"{sys.executable} {gen} {lines}"
    (work / "Procfile").write_text(f"flood: {gen_cmd}\n")
    env = {**CLEAN_ENV, "FORCE_COLOR": "1"} if colour else {**CLEAN_ENV, "NO_COLOR": "1"}
    contenders: dict[str, Callable[[], tuple[float, int, int]]] = {
        "generator > /dev/null": lambda: timed([sys.executable, str(gen), str(lines)]),
        "brummer up": lambda: timed([*BRUMMER, "up", "--dir", str(work)], env=env),
    }
    if peers:
        if (c := concurrently()) is not None:
            contenders["concurrently"] = functools.partial(timed, [*c, gen_cmd], env=env)
        if (h := honcho()) is not None:
            contenders["honcho start"] = functools.partial(timed, [*h, "start"], cwd=work, env=env)
    walls: dict[str, list[float]] = {name: [] for name in contenders}
    rss: dict[str, list[int]] = {name: [] for name in contenders}
    print(f"flood: 1 process x {lines:,} lines of ~{LINE_BYTES} bytes written with {label}, {runs} interleaved runs")
    for run in range(runs + 1):  # the first round warms caches and is not counted
        for name, fn in contenders.items():
            if name == "honcho start" and run != 1:
                continue  # ~12k lines/s: one counted run is plenty
            wall, maxrss, code = fn()
            if code != 0:
                print(f"  warning: {name} exited {code}")
            if run:
                walls[name].append(wall)
                rss[name].append(maxrss)
    base = median(walls["generator > /dev/null"])
    print(f"  {'':24} {'wall (median)':>14} {'ratio':>7} {'lines/s':>12} {'peak RSS':>10}")
    for name in contenders:
        wall = median(walls[name])
        print(f"  {name:24} {wall:13.3f}s {wall / base:6.2f}x {lines / wall:12,.0f} {max(rss[name]) / 1024:8.1f}MB")
    shutil.rmtree(work, ignore_errors=True)


def bench_retention(lines: int) -> None:
    """Peak RSS of brummer during the flood, for a few retention settings."""
    work = Path(tempfile.mkdtemp(prefix="brummer-bench-"))
    gen = work / "gen.py"
    gen.write_text(GENERATOR)
    (work / "Procfile").write_text(f"flood: {sys.executable} {gen} {lines}\n")
    print(f"peak RSS of brummer up during a {lines:,}-line flood, by retention (log_max_lines per process):")
    for keep in (10_000, 50_000, 200_000, 1_000_000):
        env = {**CLEAN_ENV, "NO_COLOR": "1", "BRUMMER_LOG_MAX_LINES": str(keep)}
        _, maxrss, _ = timed([*BRUMMER, "up", "--dir", str(work)], env=env)
        print(f"  {keep:>9,} lines kept: {maxrss / 1024:6.1f} MB")
    shutil.rmtree(work, ignore_errors=True)


# -- startup ----------------------------------------------------------------------------------------------


def bench_startup(runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="brummer-bench-"))
    stamp = work / "stamp"
    (work / "brummer.toml").write_text(
        f'[processes.first]\ncmd = ["/bin/sh", "-c", "date +%s%N > {stamp}"]\ngrace = 0\n'
    )
    to_exec: list[float] = []
    trio_import: list[float] = []
    for run in range(runs + 1):
        t0 = time.time_ns()
        subprocess.run([*BRUMMER, "up", "--dir", str(work)], stdout=subprocess.DEVNULL, env=CLEAN_ENV, check=False)
        first = int(stamp.read_text())
        t1 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import trio"], env=CLEAN_ENV, check=True)
        t2 = time.perf_counter()
        if run:
            to_exec.append((first - t0) / 1e9)
            trio_import.append(t2 - t1)
    print(f"startup, {runs} runs:")
    print(f"  brummer up -> first child's exec: {spread(to_exec)}")
    print(f"  python -c 'import trio':          {spread(trio_import)}")
    print(f"  ratio (medians): {median(to_exec) / median(trio_import):.2f}x (goal <= 1.3x)")
    shutil.rmtree(work, ignore_errors=True)


# -- kill -9 ----------------------------------------------------------------------------------------------


KILL9_TREE = """\
sleep 300 & echo $! >> {pids}
setsid sleep 301 & echo $! >> {pids}
setsid {py} -c '{ignore}; time.sleep(302)' &
{py} -c '{ignore}; time.sleep(303)' &
sh -c 'sleep 304 & echo $! >> {pids}' &
echo $$ >> {pids}
wait
"""
KILL9_IGNORE = (
    "import os,signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    ' open("{pids}", "a").write(f"{{os.getpid()}}\\n")'
)


def bench_kill9(runs: int) -> None:
    """The tests' case: a child in the group, a setsid escapee, a TERM-ignorer in the group and one escaped, a
    grandchild holding the stdout pipe; --grace 1. Idle, then with a busy loop on every core (each in its own
    session), then also with the guardian's autogroup given its nice value, which is what the guardian gets on a
    kernel without autogroup (a session's nice counts only inside its autogroup otherwise)."""
    work = Path(tempfile.mkdtemp(prefix="brummer-bench-"))
    pids = work / "pids"
    tree = KILL9_TREE.format(pids=pids, py=sys.executable, ignore=KILL9_IGNORE.format(pids=pids))
    (work / "tree.sh").write_text(tree)
    (work / "brummer.toml").write_text(f'[processes.tree]\ncmd = "sh {work / "tree.sh"}"\n')
    for what, busy, no_autogroup in [
        ("idle", False, False),
        ("busy loop on every core", True, False),
        ("busy loop on every core, as without autogroup", True, True),
    ]:
        burners = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
            for _ in range((os.cpu_count() or 1) if busy else 0)
        ]
        try:
            gone = [_kill9_once(work, pids, no_autogroup) for _ in range(runs)]
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()
        print(f"kill -9 of brummer (--grace 1) -> 6 processes and the guardian all gone, {what}: {spread(gone)}")
    shutil.rmtree(work, ignore_errors=True)


def _kill9_once(work: Path, pids: Path, no_autogroup: bool) -> float:
    pids.unlink(missing_ok=True)
    cmd = [*BRUMMER, "up", "--dir", str(work), "--grace", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while (not pids.exists() or len(pids.read_text().split()) < 6) and time.monotonic() < deadline:
        time.sleep(0.01)
    guardian = [c for c in _children(proc.pid) if b"guardian.py" in _read(f"/proc/{c}/cmdline")]
    victims = [int(p) for p in pids.read_text().split()] + guardian
    if no_autogroup:
        for pid in guardian:
            with open(f"/proc/{pid}/autogroup", "w") as f:
                f.write(str(os.getpriority(os.PRIO_PROCESS, pid)))
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    while any(_alive(p) for p in victims) and time.perf_counter() - t0 < 30:
        time.sleep(0.005)
    return time.perf_counter() - t0


def _children(pid: int) -> list[int]:
    return [
        int(c) for tid in os.listdir(f"/proc/{pid}/task") for c in _read(f"/proc/{pid}/task/{tid}/children").split()
    ]


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "which", nargs="*", default=["flood", "retention", "startup", "kill9", "proxy", "remote", "watch", "smoke"]
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], env=CLEAN_ENV, check=False)
    for which in args.which:
        if which == "flood":
            bench_flood(args.runs, args.lines, not args.skip_peers)
            bench_flood(args.runs, args.lines, False, FAST_GENERATOR, "sys.stdout.write")
        elif which == "flood-colour":
            bench_flood(args.runs, args.lines, False, COLOUR_GENERATOR, "print() in colour, FORCE_COLOR=1", True)
        elif which == "retention":
            bench_retention(args.lines)
        elif which == "startup":
            bench_startup(max(args.runs, 10))
        elif which == "kill9":
            bench_kill9(args.runs)
        elif which == "proxy":
            rounds = str(min(args.runs, 3))
            proxy = [
                sys.executable,
                str(ROOT / "scripts" / "bench_proxy.py"),
                "--rounds",
                rounds,
                "--lines",
                str(args.lines),
            ]
            subprocess.run(proxy, check=False)
        elif which == "remote":
            from bench_remote import bench_remote

            bench_remote(max(args.runs, 10), CLEAN_ENV, timed)
        elif which == "watch":
            from bench_remote import bench_watch

            bench_watch(max(args.runs, 20))
        elif which == "smoke":
            from bench_smoke import bench_smoke

            bench_smoke(args.runs)
        else:
            parser.error(f"unknown benchmark {which!r}")


if __name__ == "__main__":
    main()
