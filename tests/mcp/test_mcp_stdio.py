"""`brummer mcp` on stdio without a running `brummer up`: a headless supervisor, started in a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
import trio
from helpers_mcp import demo_project, frame, structured, web_url
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from brummer.mcp.schemas import TOOLS
from brummer.mcp.stdio_lines import Lines
from helpers import PY, pid_alive, wait_until

LEGACY = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}


def brummer_mcp(root: Path) -> list[str]:
    return [PY, "-m", "brummer", "mcp", "--dir", str(root)]


async def wait_gone(pid: int) -> None:
    await wait_until(lambda: not pid_alive(pid), within=20)


@pytest.mark.parametrize(("mode", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
async def test_headless_over_stdio(tmp_path: Path, mode: str, version: str) -> None:
    project = demo_project(tmp_path)
    command = brummer_mcp(project.root)
    params = StdioServerParameters(command=command[0], args=command[1:], cwd=str(tmp_path), env=dict(os.environ))
    reported: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append(progress)

    with trio.fail_after(60):
        async with Client(params, mode=mode) as client:
            assert client.protocol_version == version
            assert len((await client.list_tools()).tools) == len(TOOLS)
            listed = structured(await client.call_tool("scripts_list", {}))
            assert {p["state"] for p in listed["processes"]} == {"idle"}  # nothing runs until the agent asks
            assert structured(await client.call_tool("scripts_run", {"name": "web"}))["action"] == "started"
            url = await client.call_tool(
                "wait_for", {"name": "web", "condition": "url", "timeout_s": 30}, progress_callback=on_progress
            )
            web = structured(url)["process"]
            assert structured(url)["match"] == web_url(project) and web["pid"]
            tail = structured(await client.call_tool("logs_tail", {"name": "web", "stream": "stdout"}))
            assert "booting" in [line["text"] for line in tail["lines"]]
            read = await client.read_resource("brummer://urls")
            (urls,) = read.contents
            assert isinstance(urls, types.TextResourceContents) and web_url(project) in urls.text
        await wait_gone(web["pid"])  # the agent left: what it started is stopped


class Raw:
    """``brummer mcp`` driven by hand over its pipes: every stdout line must be one JSON-RPC message."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        assert process.stdout is not None
        self.lines = Lines(process.stdout)

    async def send(self, text: str) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send_all(text.encode() + b"\n")

    async def receive(self) -> dict[str, Any]:
        line = await self.lines.next()
        assert isinstance(line, str), f"brummer mcp closed its stdout, or wrote an endless line: {line}"
        message = json.loads(line)
        assert isinstance(message, dict) and message["jsonrpc"] == "2.0"
        return message

    async def request(self, method: str, request_id: int, **params: Any) -> dict[str, Any]:
        await self.send(frame(method, request_id, **params))
        while (message := await self.receive()).get("id") != request_id:
            pass  # a notification
        return message

    async def stderr(self) -> str:
        assert self.process.stderr is not None
        chunks = []
        while chunk := await self.process.stderr.receive_some():
            chunks.append(chunk)
        return b"".join(chunks).decode()


async def open_raw(root: Path) -> Raw:
    pipe = subprocess.PIPE
    return Raw(await trio.lowlevel.open_process(brummer_mcp(root), stdin=pipe, stdout=pipe, stderr=pipe))


async def test_stdout_carries_only_protocol_messages(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    raw = await open_raw(project.root)
    with trio.fail_after(60):
        try:
            await raw.send("this is not json")
            assert (await raw.receive())["error"]["code"] == -32700
            hello = await raw.request("initialize", 1, **LEGACY)
            assert hello["result"]["serverInfo"]["name"] == "brummer"
            await raw.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            await raw.request("tools/call", 2, name="scripts_run", arguments={"name": "web"})
            ready = await raw.request("tools/call", 3, name="wait_for", arguments={"name": "web", "condition": "url"})
            pid = ready["result"]["structuredContent"]["process"]["pid"]
            unknown = await raw.request("nothing/here", 4)
            assert unknown["error"]["code"] == -32601
            assert raw.process.stdin is not None
            await raw.process.stdin.aclose()  # the agent goes away
            assert await raw.lines.next() is None
            assert await raw.process.wait() == 0
            assert "Traceback" not in await raw.stderr()
            await wait_gone(pid)
        finally:
            if raw.process.returncode is None:
                raw.process.kill()
                await raw.process.wait()


async def test_a_signal_stops_what_the_agent_started(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    raw = await open_raw(project.root)
    with trio.fail_after(60):
        try:
            await raw.request("initialize", 1, **LEGACY)
            await raw.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            await raw.request("tools/call", 2, name="scripts_run", arguments={"name": "web"})
            ready = await raw.request("tools/call", 3, name="wait_for", arguments={"name": "web", "condition": "url"})
            pid = ready["result"]["structuredContent"]["process"]["pid"]
            os.kill(raw.process.pid, signal.SIGTERM)
            assert await raw.process.wait() == 128 + signal.SIGTERM
            await wait_gone(pid)
        finally:
            if raw.process.returncode is None:
                raw.process.kill()
                await raw.process.wait()
