"""The bundled example (what `scripts/demo` runs): its processes, URLs and a TypeScript error show up."""

from __future__ import annotations

import re
import shutil
import signal
import socket
from pathlib import Path

import pytest

from helpers_cli import Brummer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webapp"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="the example project needs Node.js")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_demo_shows_processes_urls_and_an_error(tmp_path: Path) -> None:
    project = tmp_path / "webapp"
    shutil.copytree(EXAMPLE, project)
    web, api = free_port(), free_port()
    toml = (project / "brummer.toml").read_text().replace("5173", str(web)).replace("3001", str(api))
    (project / "brummer.toml").write_text(toml)
    brummer = Brummer(["up", "--dir", str(project), "--no-mcp"], tmp_path)
    try:
        await brummer.wait_output(f"url http://localhost:{web}/")
        await brummer.wait_output("error [typescript TS2322] src/components/Counter.tsx:14:7")
        out = brummer.output
        assert re.search(rf"api +» ready: http http://127.0.0.1:{api}/health", out)
        assert re.search(r"web +» ready: url", out)
        web_starts = re.search(r"web +» starting", out)
        assert web_starts and out.index("ready: http") < web_starts.start()  # depends_on api = ready
        assert f"url http://127.0.0.1:{api}/" in out
        brummer.signal(signal.SIGINT)
        assert await brummer.wait() == 130
        assert re.search(r"web +» exited: stopped", brummer.output)
    finally:
        brummer.kill()
