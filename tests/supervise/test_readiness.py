"""Every readiness kind against a real server or command."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from brummer.supervise.readiness import http_probe, tcp_probe
from brummer.supervise.state import ProcState
from helpers import PY, load, running, serve_script, write_project

SERVER = """
import http.server, socketserver, sys, time
time.sleep(0.2)  # not ready at once
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(204 if self.path == "/health" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
server = socketserver.TCPServer(("127.0.0.1", int(sys.argv[1])), Handler)
open("port", "w").write(sys.argv[1])
print(f"Local: http://localhost:{sys.argv[1]}/", flush=True)
server.serve_forever()
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("kind", ["url", "log", "tcp", "http", "exec"])
async def test_ready_kinds(tmp_path: Path, kind: str) -> None:
    port = free_port()
    server = tmp_path / "server.py"
    server.write_text(SERVER)
    ready = {
        "url": "{ url = true }",
        "log": '{ log = "^Local: http" }',
        "tcp": f"{{ tcp = {port} }}",
        "http": f'{{ http = "http://127.0.0.1:{port}/health" }}',
        "exec": '{ exec = "test -f port" }',
    }[kind]
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.server]
        cmd = "{PY} -u {server} {port}"
        ready = {ready}
        """,
    )
    async with running(load(root), ["server"]) as r:
        await r.wait_state("server", ProcState.READY)
        assert r.sup.info("server").message.startswith(kind)
        assert await tcp_probe("127.0.0.1", port) is None


async def test_probes_say_no_without_a_server() -> None:
    port = free_port()
    with trio.fail_after(10):
        assert await tcp_probe("127.0.0.1", port) == "connection refused"
        assert await http_probe(f"http://127.0.0.1:{port}/") == "connection refused"


async def test_none_never_becomes_ready(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        brummer_toml=f"""
        [processes.quiet]
        cmd = "{serve_script(tmp_path)}"
        ready = "none"
        grace = 1
        """,
    )
    async with running(load(root), ["quiet"]) as r:
        await r.wait_for(lambda: bool(r.store.urls("quiet")))
        assert r.state("quiet") is ProcState.RUNNING


async def test_log_readiness_while_another_process_floods(tmp_path: Path) -> None:
    """A `log =` check must wait (not spin) while other processes push the sequence numbers past its cursor."""
    root = write_project(
        tmp_path,
        brummer_toml=f"""
        [processes.chatty]
        cmd = "{PY} -c 'import time\\\\nwhile True: print(\\"noise\\", flush=True); time.sleep(0.001)'"
        [processes.slow]
        cmd = "echo booting; sleep 0.5; echo ready now; sleep 30"
        ready = {{ log = "ready now" }}
        """,
    )
    async with running(load(root), ["chatty", "slow"]) as r:
        await r.wait_state("slow", ProcState.READY)
        assert r.store.stats("chatty")[2] > 0


async def test_the_ready_message_shows_the_pattern_as_written(tmp_path: Path) -> None:
    """Not its repr: `worker\\s+up` in brummer.toml is shown as `'worker\\s+up'`, not `'worker\\\\s+up'`."""
    root = write_project(
        tmp_path,
        brummer_toml="""
        [processes.worker]
        cmd = "echo 'worker   up'; exec sleep 30"
        ready = { log = 'worker\\s+up' }
        grace = 1
        """,
    )
    async with running(load(root), ["worker"]) as r:
        await r.wait_state("worker", ProcState.READY)
        assert r.sup.info("worker").message == "log line matched 'worker\\s+up'"
