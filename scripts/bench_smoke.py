"""``scripts/bench smoke``: ``brummer smoke`` on examples/webapp against the same steps done the way CI scripts do
them today, measured in one run, interleaved.

By hand (a bash script, as in a CI job): start the three dev processes with ``&``, ``npx wait-on`` the API's health
URL and the web page (wait-on polls every 250 ms), run the check, kill the jobs and wait for them. The jobs are
killed as process groups (``set -m``): the usual ``kill $(jobs -p)`` reaches only ``npm``, which does not pass
SIGTERM on, and leaves the node servers running after the job. brummer: ``brummer
smoke`` with the project's own brummer.toml (``web`` starts once ``api`` answers; ``watch`` is up at its first
compile; readiness of ``web`` is read from its log). Both run the same ``npm run`` scripts and the same
``node check.js``, on free ports. The figure is total wall time, from start to everything stopped; the goal is a
ratio <= 1.0. wait-on is installed with npm into bench-cache/npm on first use.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench-cache" / "npm"
EXAMPLE = ROOT / "examples" / "webapp"
BRUMMER = [str(Path(sys.executable).parent / "brummer")]
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")}

BY_HAND = """\
set -um  # job control: each job in its own process group, so that the kill below reaches the servers too
cd "$WORK"
PORT=$API_PORT npm run api &
PORT=$WEB_PORT API_URL=http://127.0.0.1:$API_PORT npm run web &
npm run watch &
npx wait-on http://127.0.0.1:$API_PORT/health http://127.0.0.1:$WEB_PORT/
WEB_URL=http://127.0.0.1:$WEB_PORT/ API_URL=http://127.0.0.1:$API_PORT/ node check.js
status=$?
kill -- $(jobs -p | sed 's/^/-/')
wait
exit $status
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_on_bin() -> Path | None:
    """node_modules/.bin of a wait-on install in bench-cache (npx finds it on PATH, as in a project)."""
    bin_dir = CACHE / "node_modules" / ".bin"
    if not (bin_dir / "wait-on").exists():
        if not shutil.which("npm"):
            return None
        CACHE.mkdir(parents=True, exist_ok=True)
        found = subprocess.run(["npm", "install", "--prefix", str(CACHE), "--silent", "wait-on"], capture_output=True)
        if found.returncode != 0:
            return None
    return bin_dir


def project(work: Path, web: int, api: int) -> Path:
    copy = work / "webapp"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("node_modules"))
    toml = (copy / "brummer.toml").read_text().replace("5173", str(web)).replace("3001", str(api))
    (copy / "brummer.toml").write_text(toml)
    return copy


def timed(cmd: list[str], env: dict[str, str], log: Path) -> float:
    """Wall time of ``cmd``; its output goes to ``log``, whose end is shown if it fails."""
    with open(log, "wb") as out:
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(f"  warning: {' '.join(cmd[:2])} exited {done.returncode}:", *tail, sep="\n    ")
    return wall


def bench_smoke(runs: int) -> dict[str, list[float]] | None:
    if not shutil.which("node") or (bin_dir := wait_on_bin()) is None:
        print("smoke: needs Node.js and npm (wait-on could not be installed); skipped")
        return None
    work = Path(tempfile.mkdtemp(prefix="brummer-bench-"))
    script = work / "by-hand.sh"
    script.write_text(BY_HAND)
    walls: dict[str, list[float]] = {"by hand (&, npx wait-on, kill)": [], "brummer smoke": []}
    print(f"smoke: examples/webapp up, `node check.js`, everything stopped; {runs} interleaved runs")
    try:
        for run in range(runs + 1):  # the first round warms caches and is not counted
            web, api = free_port(), free_port()
            copy = project(work / str(run), web, api)
            env = {**ENV, "NO_COLOR": "1", "PATH": f"{bin_dir}:{ENV['PATH']}"}
            hand = {**env, "WORK": str(copy), "WEB_PORT": str(web), "API_PORT": str(api)}
            by_hand = timed(["bash", str(script)], hand, work / f"{run}-by-hand.log")
            brummer = timed([*BRUMMER, "smoke", "--dir", str(copy)], env, work / f"{run}-brummer.log")
            if run:
                walls["by hand (&, npx wait-on, kill)"].append(by_hand)
                walls["brummer smoke"].append(brummer)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(walls["by hand (&, npx wait-on, kill)"])
    print(f"  {'':32} {'wall (median)':>14} {'min':>7} {'max':>7} {'ratio':>7}")
    for name, values in walls.items():
        wall = statistics.median(values)
        print(f"  {name:32} {wall:13.3f}s {min(values):6.3f}s {max(values):6.3f}s {wall / base:6.2f}x")
    return walls
