"""The bundled example (what `scripts/demo` and `scripts/smoke-example` run): its processes, URLs and a TypeScript
error show up, and its smoke check passes as the README's GitHub Actions job runs it."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
from pathlib import Path

import pytest

from helpers_cli import Brummer, run_brummer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webapp"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="the example project needs Node.js")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def example_copy(tmp_path: Path) -> tuple[Path, int, int]:
    """The example in ``tmp_path``, on free ports: (its folder, the web port, the API port)."""
    project = tmp_path / "webapp"
    shutil.copytree(EXAMPLE, project)
    web, api = free_port(), free_port()
    toml = (project / "brummer.toml").read_text().replace("5173", str(web)).replace("3001", str(api))
    (project / "brummer.toml").write_text(toml)
    return project, web, api


async def test_demo_shows_processes_urls_and_an_error(tmp_path: Path) -> None:
    project, web, api = example_copy(tmp_path)
    brummer = await Brummer.start(["up", "--dir", str(project), "--no-mcp"], tmp_path)
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
        await brummer.kill()


def test_the_example_passes_its_smoke_check(tmp_path: Path) -> None:
    project, web, api = example_copy(tmp_path)
    report = tmp_path / "report.json"
    result = run_brummer(["smoke", "--dir", str(project), "--report", str(report)], tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"check   | ok http://localhost:{web}/ (200)" in result.stdout
    assert f"check   | ok http://127.0.0.1:{api}/api/items (200)" in result.stdout
    doc = json.loads(report.read_text())
    assert [(p["name"], p["ready"]) for p in doc["processes"]] == [("api", True), ("web", True), ("watch", True)]
    assert doc["checks"][0]["command"] == "node check.js"
