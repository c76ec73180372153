"""`brummer up` end to end: its MCP server, its registry entry, `brummer mcp` relaying to it, and a clean exit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import trio
from helpers_mcp import frame, structured, ws_transport
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from test_mcp_stdio import LEGACY, Raw

from brummer import registry
from helpers import PY, serve_script, write_project
from helpers_cli import Brummer, Up


async def test_brummer_up_serves_mcp(tmp_path: Path) -> None:
    root = write_project(tmp_path / "proj", brummer_toml=f'[processes.web]\ncmd = "{serve_script(tmp_path)}"\n')
    up = await Up.launch(root, tmp_path)
    second: Brummer | None = None
    try:
        await up.wait_output("url http://localhost:")
        found = await up.serving()
        assert found.pid == up.proc.pid and found.project == root.resolve()
        assert found.ws is not None and found.token is not None
        assert f"(token in {registry.location() / found.name})" in up.output

        async with Client(ws_transport(found.ws, found.token), mode="auto") as client:
            listed = structured(await client.call_tool("scripts_list", {}))
            assert [(p["name"], p["state"]) for p in listed["processes"]] == [("web", "ready")]
            web_pid = structured(await client.call_tool("scripts_status", {"name": "web"}))["processes"][0]["pid"]

        mcp = ["-m", "brummer", "mcp", "--dir", str(root)]
        params = StdioServerParameters(command=PY, args=mcp, env=dict(os.environ))  # (our registry)
        async with Client(params, mode="legacy") as relayed:  # brummer mcp relays to the running brummer up
            status = structured(await relayed.call_tool("scripts_status", {"name": "web"}))
            assert status["processes"][0]["pid"] == web_pid

        second = await Brummer.start(["up", "--plain", "--dir", str(root), "--mcp-port", "0"], tmp_path)
        assert await second.wait() == 2  # started nothing, left the first one alone
        assert f"already runs in brummer up (pid {up.proc.pid}," in second.output
        assert registry.find_up(root) == found

        pipe = subprocess.PIPE
        relay = Raw(
            await trio.lowlevel.open_process([PY, "-m", "brummer", "mcp", "--dir", str(root)], stdin=pipe, stdout=pipe)
        )
        await relay.send(frame("initialize", 1, **LEGACY))
        assert (await relay.receive())["result"]["serverInfo"]["name"] == "brummer"

        assert await up.stop() == 130
        assert registry.entries(root) == []
        with trio.fail_after(30):
            assert await relay.process.wait() == 1  # brummer up went away: the relay says so and ends
        for stream in (relay.process.stdin, relay.process.stdout):
            assert stream is not None
            await stream.aclose()
        output = up.output
        assert found.token not in output and "Running on" not in output and "Traceback" not in output
    finally:
        await up.kill()
        if second is not None:
            await second.kill()
