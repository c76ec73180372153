"""A readiness probe that keeps failing says why, in the process's state message, while the process runs."""

from __future__ import annotations

import dataclasses
import re
import socket
from pathlib import Path

import pytest

from brummer.supervise.state import ProcState
from helpers import PY, Running, load, running, write_project

ANSWER_503 = """
import http.server, socketserver, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503)
        self.end_headers()
    def log_message(self, *args):
        pass
server = socketserver.TCPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("API listening", flush=True)
server.serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def probe_notes(r: Running, name: str) -> list[str]:
    lines = r.store.tail(name, limit=1000).lines
    return [line.text for line in lines if line.stream == "brummer" and line.text.startswith("running: waiting for")]


def cases(tmp_path: Path) -> dict[str, tuple[str, str, str, str]]:
    """kind -> (command, ready table, what the message names, why it fails)."""
    port = free_port()  # nothing listens there, or the 503 server does
    (tmp_path / "server.py").write_text(ANSWER_503)
    health = f"http://127.0.0.1:{port}/health"
    return {
        "http": ("sleep 60", f'{{ http = "{health}" }}', health, "connection refused"),
        "tcp": ("sleep 60", f"{{ tcp = {port} }}", f"127.0.0.1:{port}", "connection refused"),
        "exec": ("sleep 60", '{ exec = "exit 3" }', "`exit 3`", "exit code 3"),
        "503": (f"{PY} {tmp_path / 'server.py'} {port}", f'{{ http = "{health}" }}', health, "HTTP 503"),
    }


@pytest.mark.parametrize("kind", ["http", "tcp", "exec", "503"])
async def test_the_state_message_says_why_the_probe_fails(tmp_path: Path, kind: str) -> None:
    cmd, ready, target, reason = cases(tmp_path)[kind]
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.slow]
        cmd = "{cmd}"
        ready = {ready}
        grace = 1
        """,
    )
    expected = re.compile(rf"waiting for {re.escape(target)}: {re.escape(reason)}, (\d+) tries")
    async with running(load(root), ["slow"]) as r:
        await r.wait_for(lambda: bool((m := expected.fullmatch(r.sup.info("slow").message)) and int(m[1]) >= 3))
        info = r.sup.info("slow")
        assert info.state is ProcState.RUNNING and info.detail == info.message
        # Once it has failed for two seconds it is news: one line in the log, and an event for subscribers.
        await r.wait_for(lambda: bool(probe_notes(r, "slow")))
        (note,) = probe_notes(r, "slow")
        assert expected.fullmatch(note.removeprefix("running: "))


async def test_a_normal_start_stays_quiet_and_ready_clears_the_message(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "server.py").write_text(ANSWER_503.replace("503", "200"))
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.api]
        cmd = "sleep 0.6; exec {PY} {tmp_path / "server.py"} {port}"
        ready = {{ http = "http://127.0.0.1:{port}/health" }}
        grace = 1
        """,
    )
    async with running(load(root), ["api"]) as r:
        await r.wait_for(lambda: "connection refused" in r.sup.info("api").message)
        await r.wait_state("api", ProcState.READY)
        info = r.sup.info("api")
        assert info.message == f"http http://127.0.0.1:{port}/health" and info.detail == ""
        assert probe_notes(r, "api") == []  # not failing for two seconds: no line


async def test_a_line_from_the_process_wakes_its_probe(tmp_path: Path) -> None:
    """``API listening`` is the moment to probe again: polling alone would wait out the interval (60 s here)."""
    port = free_port()
    server = tmp_path / "server.py"
    server.write_text(ANSWER_503.replace("503", "200"))
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.api]
        cmd = "echo booting; sleep 0.5; exec {PY} {server} {port}"
        ready = {{ http = "http://127.0.0.1:{port}/health" }}
        grace = 1
        """,
    )
    project = load(root)
    slow = dataclasses.replace(project.processes["api"].ready, interval=60.0)
    project = dataclasses.replace(project, processes={"api": dataclasses.replace(project.processes["api"], ready=slow)})
    async with running(project, ["api"]) as r:
        await r.wait_state("api", ProcState.READY, timeout=30)
        assert r.sup.info("api").message == f"http http://127.0.0.1:{port}/health"
