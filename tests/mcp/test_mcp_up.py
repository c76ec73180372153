"""`brummer up` end to end: its MCP server, its registry entry, `brummer mcp` relaying to it, and a clean exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import trio
from helpers_mcp import frame, structured, ws_transport
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from test_mcp_stdio import LEGACY, Raw

from brummer import registry
from helpers import PY, serve_script, write_project


class Up:
    """A real ``python -m brummer up --plain`` in its own session, its output in a file."""

    def __init__(self, root: Path, out: Path) -> None:
        self.out = out
        with out.open("wb") as sink:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "brummer", "up", "--plain", "--dir", str(root), "--mcp-port", "0"],
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "NO_COLOR": "1"},
            )

    @property
    def output(self) -> str:
        return self.out.read_text(errors="replace")

    async def wait_for_output(self, text: str) -> None:
        with trio.fail_after(30):
            while text not in self.output:
                assert self.proc.poll() is None, self.output
                await trio.sleep(0.05)

    async def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        with trio.fail_after(30):
            while self.proc.poll() is None:
                await trio.sleep(0.05)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


async def test_brummer_up_serves_mcp(tmp_path: Path) -> None:
    root = write_project(tmp_path / "proj", brummer_toml=f'[processes.web]\ncmd = "{serve_script(tmp_path)}"\n')
    up = Up(root, tmp_path / "up.out")
    second: Up | None = None
    try:
        await up.wait_for_output("url http://localhost:")
        with trio.fail_after(30):
            while (found := registry.find_up(root)) is None or not found.connectable:
                await trio.sleep(0.05)
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

        second = Up(root, tmp_path / "second.out")
        with trio.fail_after(30):
            while second.proc.poll() is None:
                await trio.sleep(0.05)
        assert second.proc.returncode == 2  # started nothing, left the first one alone
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
        up.kill()
        if second is not None:
            second.kill()
