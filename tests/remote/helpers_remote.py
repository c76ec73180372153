"""Real ``brummer up`` instances for the remote commands and the hub, and running ``brummer`` commands against them.

Every test has its own ``XDG_RUNTIME_DIR`` (tests/conftest.py), which the brummers it starts inherit: they meet in
that test's registry and nowhere else.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import write_project
from helpers_cli import Up, run_brummer_async

PY = sys.executable
# A real HTTP server (so that the URL it prints is its own), then an error on stderr, then it serves on.
WEB = """
import http.server, sys, threading
server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
print(f"Local: http://localhost:{server.server_port}/", flush=True)
print("TypeError: cannot read property 'x' of undefined", file=sys.stderr, flush=True)
print("    at main (src/app.js:3:7)", file=sys.stderr, flush=True)
server.serve_forever()
"""
TICKER = """
import time
for i in range(1_000_000):
    print(f"tick {i}", flush=True)
    time.sleep(0.01)
"""


def demo(root: Path, *, ticker: bool = False) -> Path:
    """web (serves and reports an error), job (prints and exits 3), idle (not started); ticker counts if asked."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "web.py").write_text(WEB)
    (root / "ticker.py").write_text(TICKER)
    default = '["web", "job", "ticker"]' if ticker else '["web", "job"]'
    return write_project(
        root,
        brummer_toml=f"""
        default = {default}
        [processes.web]
        cmd = "{PY} -u web.py"
        grace = 1
        [processes.job]
        cmd = "echo job says hello; exit 3"
        ready = "none"
        [processes.idle]
        cmd = "sleep 300"
        ready = "none"
        grace = 1
        [processes.ticker]
        cmd = "{PY} -u ticker.py"
        ready = "none"
        grace = 1
        """,
    )


@asynccontextmanager
async def running_up(root: Path, cwd: Path) -> AsyncIterator[Up]:
    up = await Up.launch(root, cwd)
    try:
        await up.serving()
        yield up
    finally:
        await up.stop()


@dataclass
class Done:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


async def brummer(*args: str, cwd: Path, timeout: float = 60) -> Done:
    """Run ``brummer ARGS`` to its end."""
    done = await run_brummer_async(list(args), cwd, timeout=timeout)
    return Done(done.returncode, done.stdout.decode(), done.stderr.decode())
