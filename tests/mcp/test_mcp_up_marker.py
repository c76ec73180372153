"""`brummer mcp` next to a `brummer up` that is starting, or that runs without MCP, never runs the project twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import trio
from helpers_mcp import structured
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from helpers import PY, write_project
from helpers_cli import Brummer


async def test_mcp_refuses_when_brummer_up_runs_without_mcp(tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    root = write_project(tmp_path / "p", Procfile=f"web: echo x >> {marker}; sleep 30\n")
    up = Brummer(["up", "--dir", str(root), "--no-mcp"], tmp_path)
    try:
        await up.wait_output("web     » running")
        up_file = json.loads((root / ".brummer" / "up.json").read_text())
        assert up_file == {"pid": up.proc.pid, "mcp": False}
        result = await trio.to_thread.run_sync(
            lambda: subprocess.run(
                [sys.executable, "-m", "brummer", "mcp", "--dir", str(root)],
                input="",
                capture_output=True,
                text=True,
                timeout=60,
            )
        )
        assert result.returncode == 1 and "without MCP" in result.stderr and result.stdout == ""
        assert marker.read_text() == "x\n"  # started once, by brummer up only
    finally:
        code = await up.stop()
    assert code == 130
    assert not (root / ".brummer" / "up.json").exists()


async def test_mcp_waits_for_a_starting_brummer_up_and_relays(tmp_path: Path) -> None:
    # A chatty process delays brummer up's MCP server (it starts once the output pauses, or after 3 s).
    root = write_project(tmp_path / "p", Procfile="chatty: while :; do echo tick; sleep 0.01; done\n")
    up = Brummer(["up", "--dir", str(root), "--mcp-port", "0"], tmp_path)
    try:
        await up.wait_output("chatty  » running")
        assert not (root / ".brummer" / "instance.json").exists()  # not listening yet
        params = StdioServerParameters(command=PY, args=["-m", "brummer", "mcp", "--dir", str(root)], cwd=str(tmp_path))
        with trio.fail_after(60):
            async with Client(params, mode="legacy") as client:
                listed = structured(await client.call_tool("scripts_list", {}))
        # relayed to brummer up, where chatty runs (a headless brummer would show it pending)
        assert [p["state"] for p in listed["processes"]] == ["running"]
    finally:
        await up.stop()
