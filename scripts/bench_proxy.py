"""The recording proxy's benchmark, run by ``scripts/bench proxy`` (or directly with the venv's python).

One Node upstream (a ~100-byte JSON answer with keep-alive, a 100 MB download, a WebSocket echo), measured in one
run through: nothing (direct), brummer (``brummer up --plain``, recording on, the printer subscribed), and Node's
``http-proxy`` (what Vite uses, configured as Vite does; and with a keep-alive agent), installed with npm into
bench-cache/. Rates come from ``wrk`` (Debian's package, installed with apt-get when running as root; skipped
otherwise), 5 s per round, interleaved rounds, medians. Then: the log flood with the proxy off, idle, and under a
wrk load. The figures are written into docs/benchmarks.md between the ``proxy-bench`` markers.

Usage: scripts/bench proxy [--rounds N] [--seconds S] [--no-docs]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import trio
from trio_websocket import open_websocket_url

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench-cache" / "npm"
DOCS = ROOT / "docs" / "benchmarks.md"
BRUMMER = str(Path(sys.executable).parent / "brummer")
START, END = "<!-- proxy-bench:start -->", "<!-- proxy-bench:end -->"
PEER_KEPT = "node http-proxy, keep-alive agent"  # Vite configures http-proxy without one: the default is the peer
NO_INJECT = "brummer, inject = false"  # the same proxy without the telemetry hooks: their cost on the hot path
NAV = ("Accept: text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Dest: document")

UPSTREAM = """
const http = require('http');
const { WebSocketServer } = require(process.env.WS_MODULE);
const body = JSON.stringify({ok: true, id: 42, name: 'brummer', tags: ['dev', 'proxy'], note: 'a small answer'});
const block = Buffer.alloc(65536, 120);
const page = '<!doctype html><html><head><meta charset="utf-8"><title>bench</title></head><body>'
  + '<p>lorem ipsum dolor sit amet</p>'.repeat(120) + '</body></html>';
const server = http.createServer((req, res) => {
  if (req.url === '/page') {
    res.writeHead(200, {'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(page)});
    return res.end(page);
  }
  if (req.url === '/big') {
    const size = 100 * 1024 * 1024;
    res.writeHead(200, {'Content-Type': 'application/octet-stream', 'Content-Length': size});
    let left = size;
    const pump = () => {
      while (left > 0) { left -= block.length; if (!res.write(block)) return res.once('drain', pump); }
      res.end();
    };
    return pump();
  }
  res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body)});
  res.end(body);
});
new WebSocketServer({server}).on('connection', ws => ws.on('message', (m, binary) => ws.send(m, {binary})));
server.listen(0, '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${server.address().port}/`));
"""
PEER = """
const http = require('http');
const httpProxy = require(process.env.HTTP_PROXY_MODULE);
const options = {target: process.argv[2], ws: true};
if (process.argv[3] === 'keep-alive') options.agent = new http.Agent({keepAlive: true});
const proxy = httpProxy.createProxyServer(options);
proxy.on('error', (err, req, res) => { if (res.writeHead) { res.writeHead(502); res.end(); } });
const server = http.createServer((req, res) => proxy.web(req, res));
server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head));
server.listen(0, '127.0.0.1', () => console.log(`proxy on http://127.0.0.1:${server.address().port}/`));
"""
FLOOD = """
import sys, time
time.sleep(float(sys.argv[3]))
start = time.perf_counter()
for i in range(int(sys.argv[1])):
    print(f"{i:08d} GET /api/items?page={i % 97} 200 OK in 12ms lorem ipsum dolor")
sys.stdout.flush()
open(sys.argv[2], "w").write(str(time.perf_counter() - start))
"""


def npm_modules() -> Path | None:
    modules = CACHE / "node_modules"
    if not (modules / "http-proxy").exists() or not (modules / "ws").exists():
        if not shutil.which("npm"):
            return None
        CACHE.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["npm", "install", "--prefix", str(CACHE), "--silent", "http-proxy", "ws"], check=False)
        if result.returncode != 0:
            return None
    return modules


def wrk_path() -> str | None:
    """wrk, installed from Debian's package when running as root (after refreshing the package lists if needed)."""
    if shutil.which("wrk") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(install, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False)
            subprocess.run(install, capture_output=True, check=False)
    return shutil.which("wrk")


@contextmanager
def spawn(cmd: list[str], pattern: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Iterator[str]:
    """Start ``cmd`` and yield the first match of ``pattern`` in its output; stop it (its whole group) after."""
    out = Path(tempfile.mkstemp(prefix="brummer-bench-")[1])
    with out.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(pattern, out.read_text(errors="replace"))):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} did not start:\n{out.read_text(errors='replace')}")
            time.sleep(0.05)
        yield found.group(1)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.unlink()


def wrk(exe: str, url: str, connections: int, seconds: float, headers: tuple[str, ...] = ()) -> tuple[float, float]:
    """(requests per second, p50 latency in ms)."""
    cmd = [exe, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", *(f"-H{h}" for h in headers), url]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return rate, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def download(url: str) -> float:
    """Seconds for a 100 MB download with curl (its output to /dev/null)."""
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{time_total}", url]
    return float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


async def _echo_rtt(url: str, count: int) -> float:
    async with open_websocket_url(url) as ws:
        times = []
        for i in range(count):
            t0 = time.perf_counter()
            await ws.send_message(f"ping {i}")
            await ws.get_message()
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def echo_rtt(url: str, count: int = 2000) -> float:
    return trio.run(_echo_rtt, url, count)


def bench_relay(args: argparse.Namespace, modules: Path, exe: str | None, work: Path) -> list[str]:
    env = {**os.environ, "WS_MODULE": str(modules / "ws"), "HTTP_PROXY_MODULE": str(modules / "http-proxy")}
    (work / "upstream.js").write_text(UPSTREAM)
    (work / "peer.js").write_text(PEER)
    (work / "Procfile").write_text("web: node upstream.js\n")
    brummer_env = {**env, "NO_COLOR": "1", "BRUMMER_PROXY_BASE_PORT": "0"}
    plain = work / "no-inject"  # a second project: one brummer up per project
    plain.mkdir(exist_ok=True)
    for name in ("upstream.js", "Procfile"):
        (plain / name).write_text((work / name).read_text())
    node = ["node", str(work / "upstream.js")]
    with (
        spawn(node, r"Listening on (http://\S+)", env) as direct,
        spawn(["node", str(work / "peer.js"), direct], r"proxy on (http://\S+)", env) as peer,
        spawn(["node", str(work / "peer.js"), direct, "keep-alive"], r"proxy on (http://\S+)", env) as peer_kept,
        spawn(
            [BRUMMER, "up", "--plain", "--no-mcp", "--dir", str(work)], r"→ proxy (http://\S+)", brummer_env
        ) as brummer,
        spawn(
            [BRUMMER, "up", "--plain", "--no-mcp", "--dir", str(plain)],
            r"→ proxy (http://\S+)",
            {**brummer_env, "BRUMMER_INJECT": "0"},
        ) as brummer_plain,
    ):
        urls = {"direct": direct, "brummer": brummer, NO_INJECT: brummer_plain, "node http-proxy": peer}
        urls[PEER_KEPT] = peer_kept
        version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        lines = [f"upstream: Node {version}"]
        results: dict[str, dict[str, list[float]]] = {name: {} for name in urls}
        if exe is not None:
            for url in urls.values():  # warm-up (JIT, pools)
                wrk(exe, url, 10, 1)
        for _ in range(args.rounds):
            for name, url in urls.items():
                measured = results[name]
                if exe is not None:
                    for conns in (10, 1):
                        rate, p50 = wrk(exe, url, conns, args.seconds)
                        measured.setdefault(f"c{conns}", []).append(rate)
                        if conns == 1:
                            measured.setdefault("p50", []).append(p50)
                measured.setdefault("download", []).append(download(url + "big"))
                measured.setdefault("ws", []).append(echo_rtt(url.replace("http://", "ws://"), 1000))
            if exe is not None:  # an HTML navigation: the telemetry script goes into the page
                for name in ("direct", "brummer", NO_INJECT):
                    results[name].setdefault("page", []).append(wrk(exe, urls[name] + "page", 1, args.seconds, NAV)[1])
        lines += table(results, exe is not None)
        if exe is not None:
            pages = {name: statistics.median(results[name]["page"]) for name in ("direct", "brummer", NO_INJECT)}
            lines += ["", "| HTML navigation (4 KB page, 1 connection) | p50 | added to direct |", "|---|---|---|"]
            lines += [f"| {n} | {v:.3f} ms | +{v - pages['direct']:.3f} ms |" for n, v in pages.items()]
    return lines


def table(results: dict[str, dict[str, list[float]]], with_wrk: bool) -> list[str]:
    med = {name: {key: statistics.median(values) for key, values in r.items()} for name, r in results.items()}
    peer, direct = med["node http-proxy"], med["direct"]
    rows = ["", "| through | 10 connections | 1 connection | p50 at 1 conn (added) | 100 MB download | WebSocket RTT |"]
    rows.append("|---|---|---|---|---|---|")
    for name, m in med.items():
        if with_wrk:
            ratio = f" ({m['c10'] / peer['c10']:.2f}x node)" if name not in ("node http-proxy", "direct") else ""
            ratio1 = f" ({m['c1'] / peer['c1']:.2f}x node)" if name not in ("node http-proxy", "direct") else ""
            added = m["p50"] - direct["p50"]
            cells = [f"{m['c10']:,.0f} req/s{ratio}", f"{m['c1']:,.0f} req/s{ratio1}"]
            cells.append(f"{m['p50']:.3f} ms (+{added:.3f})")
        else:
            cells = ["(no wrk)"] * 3
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {m['download']:.2f} s | {m['ws'] * 1000:.0f} µs |")
    return rows


def bench_flood(args: argparse.Namespace, modules: Path, exe: str | None, work: Path) -> list[str]:
    """The flood's own duration (its lines through brummer) with the proxy off, idle, and under a wrk load."""
    env = {**os.environ, "NO_COLOR": "1", "BRUMMER_PROXY_BASE_PORT": "0", "WS_MODULE": str(modules / "ws")}
    (work / "flood.py").write_text(FLOOD)
    stamp = work / "flood.time"
    (work / "Procfile").write_text(
        f"web: node upstream.js\nflood: {sys.executable} flood.py {args.lines} {stamp} 1.5\n"
    )
    timings: dict[str, list[float]] = {"proxy off": [], "proxy idle": [], "proxy under wrk -c10": []}
    for _ in range(args.rounds):
        for case in timings:
            stamp.unlink(missing_ok=True)
            flags = ["--no-proxy"] if case == "proxy off" else []
            pattern = r"(flood)\s+» running" if flags else r"→ proxy (http://\S+)"
            cmd = [BRUMMER, "up", "--plain", "--no-mcp", "--dir", str(work), *flags]
            with spawn(cmd, pattern, env) as url:
                load = None
                if case.startswith("proxy under") and exe is not None:
                    load = subprocess.Popen([exe, "-t1", "-c10", "-d6s", url], stdout=subprocess.DEVNULL)
                deadline = time.monotonic() + 60
                while not stamp.exists() or not stamp.read_text():
                    assert time.monotonic() < deadline, "the flood did not finish"
                    time.sleep(0.05)
                timings[case].append(float(stamp.read_text()))
                if load is not None:
                    load.wait()
    title = f"| log flood of {args.lines:,} lines (its own duration, median) | seconds | vs proxy off |"
    lines = ["", title, "|---|---|---|"]
    base = statistics.median(timings["proxy off"])
    for case, values in timings.items():
        lines.append(f"| {case} | {statistics.median(values):.3f} | {statistics.median(values) / base:.2f}x |")
    return lines


def write_docs(lines: list[str]) -> None:
    text = DOCS.read_text()
    block = "\n".join([START, *lines, END])
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n## The recording proxy\n\n" + block + "\n"
    DOCS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--only", choices=["relay", "flood"], help="one half of the benchmark (implies --no-docs)")
    args = parser.parse_args()
    modules = npm_modules()
    if modules is None:
        print("proxy: npm (http-proxy, ws) not available; skipped")
        return
    exe = wrk_path()
    if exe is None:
        print("proxy: wrk not found (Debian package `wrk`; installed automatically only as root): rates skipped")
    work = Path(tempfile.mkdtemp(prefix="brummer-bench-proxy-"))
    try:
        stamp = time.strftime("%Y-%m-%d")
        load = os.getloadavg()[0]
        lines = [f"Measured on {stamp}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, wrk -t1, "]
        lines[0] += f"{args.rounds} interleaved rounds of {args.seconds:g} s, medians; load average {load:.1f} "
        (work / "upstream.js").write_text(UPSTREAM)
        if args.only != "flood":
            lines += bench_relay(args, modules, exe, work)
        if args.only != "relay":
            lines += bench_flood(args, modules, exe, work)
        lines[0] += f"at the start, {os.getloadavg()[0]:.1f} at the end."
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))
    if not args.no_docs and not args.only:
        write_docs(lines)


if __name__ == "__main__":
    main()
