"""The proxy as a service over a real supervisor and real child servers: waiting through a restart, the 502 page
naming a stopped process, and `brummer up --plain` end to end with the request visible over MCP."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
import trio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from test_refusals import free_port

from brummer.proxy.service import Proxy, serve_proxy
from brummer.runtime import Runtime
from brummer.supervise.state import ProcState
from helpers import PY, load, poll, running, wait_until, write_project
from helpers_cli import Brummer, Up, run_brummer_async

SERVER = """
import http.server, sys, time
port, delay = int(sys.argv[1]), float(sys.argv[2])
time.sleep(delay)  # a dev server takes a moment to listen
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b'{"pid": %d, "path": "%s"}' % (__import__("os").getpid(), self.path.encode())
        self.send_response(500 if self.path.startswith("/boom") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), Handler)
print(f"Listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
server.serve_forever()
"""


async def test_requests_wait_for_a_restarting_process_then_succeed(tmp_path: Path) -> None:
    port = free_port()
    root = write_project(
        tmp_path,
        **{"server.py": SERVER},
        brummer_toml=f"""
            [processes.web]
            cmd = ["{PY}", "server.py", "{port}", "1.0"]
            proxy = {{ target = "http://127.0.0.1:{port}" }}
            grace = 2
        """,
    )
    project = load(root, proxy_base_port=0)
    async with running(project) as run:
        runtime = Runtime(project, run.sup, run.store, run.bus)
        runtime.proxy = proxy = Proxy(project, run.bus, run.store, wait=15)
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_proxy, runtime, proxy)
            (target,) = proxy.targets
            url = f"http://127.0.0.1:{target.proxy_port}"
            async with httpx.AsyncClient(timeout=30) as client:
                # configured: the proxy listens before the server does, and the first request waits for it
                first = await client.get(f"{url}/first")
                assert first.status_code == 200
                first_run = run.sup.info("web").run_id
                nursery.start_soon(run.sup.restart, "web")
                # the new run is spawned; its server listens only a second later (unless this machine is slower)
                await run.wait_for(lambda: run.sup.info("web").run_id not in (None, first_run))
                during = await client.get(f"{url}/during", headers={"Accept": "application/json"})
                assert during.status_code == 200 and during.json()["pid"] != first.json()["pid"]
                await run.sup.stop("web")
                stopped = await client.get(f"{url}/after", headers={"Accept": "application/json"})
                assert stopped.status_code == 502
                assert stopped.json()["state"] == "exited" and stopped.json()["process"] == "web"
            nursery.cancel_scope.cancel()
        proxy.close()
    statuses = [(r.path, r.status) for r in proxy.recorder.records()]
    assert statuses == [("/first", 200), ("/during", 200), ("/after", 502)]


ONE_ANSWER = """
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(f"listening on http://127.0.0.1:{s.getsockname()[1]}/", flush=True)
c, _ = s.accept(); c.recv(65536)
c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok"); c.close()
s.close()
print("crashed: no longer listening, still alive", flush=True)
time.sleep(300)
"""


async def test_a_ready_process_that_stopped_listening_gets_a_502_at_once(tmp_path: Path) -> None:
    """`node --watch` after a crash: the process lives on, nothing listens. Nothing is restarting, so the request
    does not wait for the restart wait (60 s here) before its 502."""
    root = write_project(tmp_path, **{"server.py": ONE_ANSWER}, Procfile=f"web: {PY} -u server.py\n")
    project = load(root, proxy_base_port=0)
    async with running(project) as run:
        runtime = Runtime(project, run.sup, run.store, run.bus)
        runtime.proxy = proxy = Proxy(project, run.bus, run.store, wait=60)
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_proxy, runtime, proxy)
            await run.wait_state("web", ProcState.READY)
            (url,) = run.sup.info("web").urls
            proxy_url = proxy.proxy_url("web", url)
            async with httpx.AsyncClient(timeout=60) as client:
                assert (await client.get(f"{proxy_url}first")).status_code == 200
                await run.wait_for(lambda: "no longer listening" in " ".join(run.text("web")))
                with trio.fail_after(20):
                    second = await client.get(f"{proxy_url}second", headers={"Accept": "application/json"})
            assert second.status_code == 502
            body = second.json()
            assert (body["state"], body["process"]) == ("ready", "web")
            assert body["reason"] == "connection refused: the process runs, but nothing listens there any more"
            nursery.cancel_scope.cancel()
        proxy.close()


async def test_brummer_up_shows_the_proxy_and_mcp_lists_its_requests(tmp_path: Path) -> None:
    root = write_project(tmp_path, **{"server.py": SERVER}, Procfile=f"web: {PY} server.py 0 0\n")
    up = await Up.launch(root, tmp_path)  # the proxy on any free port (BRUMMER_PROXY_BASE_PORT=0: tests/conftest.py)
    try:
        await up.wait_output(" → proxy http://127.0.0.1:")
        found = re.search(r"url (http://\S+) → proxy http://127\.0\.0\.1:(\d+)/", up.output)
        assert found is not None, up.output
        upstream, port = found.group(1), int(found.group(2))
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/api/items/42?q=1")).status_code == 200
            assert (await client.get(f"http://127.0.0.1:{port}/boom")).status_code == 500
        await up.wait_output("proxy GET /boom → 500")  # 5xx answers are brummer lines too
        params = StdioServerParameters(
            command=PY, args=["-m", "brummer", "mcp", "--dir", str(root)], env=dict(os.environ)
        )
        async with Client(params, mode="legacy") as client:
            # brummer mcp relays once brummer up's MCP server is there
            result = await poll(
                lambda: client.call_tool("proxy_requests", {"name": "web"}),
                lambda answer: answer.structured_content["requests"],
                every=0.1,
            )
            requests = result.structured_content["requests"]
            assert [(r["method"], r["path"], r["status"]) for r in requests] == [
                ("GET", "/boom", 500),
                ("GET", "/api/items/42?q=1", 200),
            ]
            failed = (await client.call_tool("proxy_requests", {"status": "5xx"})).structured_content
            assert [r["path"] for r in failed["requests"]] == ["/boom"]
            routes = (await client.call_tool("proxy_routes", {})).structured_content["routes"]
            assert {r["route"] for r in routes} == {"GET /api/items/:id", "GET /boom"}
            urls = (await client.call_tool("urls_list", {})).structured_content["urls"]
            assert urls == [{"process": "web", "url": upstream, "proxy_url": f"http://127.0.0.1:{port}/"}]
            status = (await client.call_tool("scripts_status", {"name": "web", "detail": True})).structured_content
            assert status["processes"][0]["proxy_urls"] == [f"http://127.0.0.1:{port}/"]
        assert await up.stop() == 130 and "Traceback" not in up.output
    finally:
        await up.kill()


async def test_a_server_without_a_free_proxy_port_gets_one_line_and_nothing_breaks(tmp_path: Path) -> None:
    """`--proxy-base-port 65535` with two servers: the second has no proxy (port 65536 does not exist); the proxy,
    the printer and MCP's `urls_list` / `scripts_status` keep working."""
    root = write_project(tmp_path, **{"server.py": SERVER}, Procfile=f"a: {PY} server.py 0 0\nb: {PY} server.py 0 0\n")
    args = ["up", "--plain", "--dir", str(root), "--mcp-port", "0", "--proxy-base-port", "65535"]
    up = await Brummer.start(args, tmp_path)
    try:

        def announced() -> bool:
            assert up.proc.poll() is None, up.output
            return len(re.findall(r" » url http://", up.output)) >= 2 and "no free proxy port" in up.output

        await wait_until(announced, within=30)
        urls = await run_brummer_async(["urls", "--json", "--dir", str(root)], tmp_path)
        assert urls.returncode == 0, urls.stdout + urls.stderr
        rows = {row["process"]: row for row in json.loads(urls.stdout)["urls"]}
        assert set(rows) == {"a", "b"} and sum(row["proxy_url"] is None for row in rows.values()) >= 1
        status = await run_brummer_async(["ps", "--json", "--dir", str(root)], tmp_path)
        assert status.returncode == 0, status.stdout + status.stderr
        await trio.sleep(0.5)  # time for a crash-looping service to say so
        out = up.output
        assert "failed (" not in out and "Traceback" not in out, out
        (line,) = [line for line in out.splitlines() if "no free proxy port" in line]
        assert "(every port from 65535 to 65535 is in use)" in line
        assert await up.stop() == 130
    finally:
        await up.kill()
