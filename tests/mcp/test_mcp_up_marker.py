"""`brummer mcp` next to a `brummer up` (starting, without MCP, or started later) never runs the project twice, and
finds it through the instance registry only: what a cloned repository plants in `.brummer/` is never read."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import trio
from helpers_mcp import structured, text_of
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from brummer import registry
from helpers import PY, write_project
from helpers_cli import Brummer


def mcp_params(root: Path, cwd: Path) -> StdioServerParameters:
    """``brummer mcp`` for the SDK's stdio client, with our environment (the SDK passes only a few variables by
    default, and the child must see this test's registry)."""
    return StdioServerParameters(
        command=PY, args=["-m", "brummer", "mcp", "--dir", str(root)], cwd=str(cwd), env=dict(os.environ)
    )


def run_mcp(root: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "brummer", "mcp", "--dir", str(root)]
    return subprocess.run(command, input="", capture_output=True, text=True, timeout=60)


def non_loopback_address() -> str:
    """This machine's address on its default route (no packet is sent: a UDP connect only picks the route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("198.51.100.1", 9))
        address = probe.getsockname()[0]
    assert not address.startswith("127."), address
    return str(address)


async def test_mcp_refuses_when_brummer_up_runs_without_mcp(tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    root = write_project(tmp_path / "p", Procfile=f"web: echo x >> {marker}; sleep 30\n")
    up = await Brummer.start(["up", "--dir", str(root), "--no-mcp"], tmp_path)
    try:
        await up.wait_output("web     » running")
        (entry,) = registry.entries(root)
        assert (entry.pid, entry.kind, entry.runs, entry.mcp) == (up.proc.pid, "up", True, registry.McpState.OFF)
        result = await trio.to_thread.run_sync(run_mcp, root)
        assert result.returncode == 1 and "without MCP" in result.stderr and result.stdout == ""
        assert f"brummer up (pid {up.proc.pid}" in result.stderr
        assert marker.read_text() == "x\n"  # started once, by brummer up only
    finally:
        code = await up.stop()
    assert code == 130
    assert registry.entries(root) == []
    assert not (root / ".brummer").exists()


async def test_mcp_waits_for_a_starting_brummer_up_and_relays(tmp_path: Path) -> None:
    # A chatty process delays brummer up's MCP server (it starts once the output pauses, or after 3 s).
    root = write_project(tmp_path / "p", Procfile="chatty: while :; do echo tick; sleep 0.01; done\n")
    up = await Brummer.start(["up", "--dir", str(root), "--mcp-port", "0"], tmp_path)
    try:
        await up.wait_output("chatty  » running")
        (entry,) = registry.entries(root)
        assert entry.mcp is registry.McpState.STARTING and entry.token is None  # not listening yet
        with trio.fail_after(60):
            async with Client(mcp_params(root, tmp_path), mode="legacy") as client:
                listed = structured(await client.call_tool("scripts_list", {}))
        # relayed to brummer up, where chatty runs (a headless brummer would show it pending)
        assert [p["state"] for p in listed["processes"]] == ["running"]
    finally:
        await up.stop()


async def test_mcp_does_not_relay_to_a_non_loopback_server(tmp_path: Path) -> None:
    address = non_loopback_address()
    root = write_project(tmp_path / "p", Procfile="web: sleep 30\n")
    flags = ["--mcp-host", address, "--allow-remote", "--mcp-port", "0"]
    up = await Brummer.start(["up", "--dir", str(root), *flags], tmp_path)
    try:
        await up.wait_output(f"MCP on ws://{address}:", timeout=60)
        (entry,) = registry.entries(root)
        assert (
            entry.mcp is registry.McpState.REMOTE and entry.ws is not None and entry.ws.startswith(f"ws://{address}:")
        )
        assert entry.token is not None and not entry.connectable  # the token is there for the user, not for relays
        result = await trio.to_thread.run_sync(run_mcp, root)
        assert result.returncode == 1 and result.stdout == ""
        assert f"serves MCP only on {entry.ws} (--mcp-host); brummer mcp relays over loopback only" in result.stderr
    finally:
        await up.stop()


async def test_a_planted_instance_json_is_ignored(tmp_path: Path) -> None:
    """A repository that commits `.brummer/instance.json` pointing elsewhere does not get the agent's traffic."""
    address = non_loopback_address()
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    root = write_project(tmp_path / "p", Procfile="web: sleep 30\n")
    planted = root / ".brummer"
    planted.mkdir()
    urls = {"ws": f"ws://{address}:{port}/ws", "http": f"http://{address}:{port}/mcp"}
    (planted / "instance.json").write_text(json.dumps({"pid": os.getpid(), "token": "stolen", "mcp": urls}))
    (planted / "up.json").write_text(json.dumps({"pid": os.getpid(), "mcp": True}))
    try:
        with trio.fail_after(60):
            async with Client(mcp_params(root, tmp_path), mode="legacy") as client:
                listed = structured(await client.call_tool("scripts_list", {}))
        assert [p["state"] for p in listed["processes"]] == ["idle"]  # served headless, here
        try:
            listener.accept()
            raise AssertionError("brummer mcp connected to the planted address")
        except BlockingIOError:
            pass
        assert sorted(p.name for p in planted.iterdir()) == ["instance.json", "up.json"]
    finally:
        listener.close()


async def test_headless_and_up_take_turns(tmp_path: Path) -> None:
    """A headless `brummer mcp` takes the project only when its agent starts something; then a `brummer up` exits 2
    naming it. A `brummer up` that came first makes the headless one's scripts_run a tool error."""
    marker = tmp_path / "runs"
    root = write_project(tmp_path / "p", Procfile=f"web: echo $$ >> {marker}; sleep 30\n")
    with trio.fail_after(90):
        async with Client(mcp_params(root, tmp_path), mode="legacy") as agent:
            assert structured(await agent.call_tool("scripts_list", {}))["count"] == 1
            (headless,) = registry.entries(root)
            assert headless.kind is registry.Kind.HEADLESS and not headless.runs  # registered, lock not taken
            up = await Brummer.start(["up", "--dir", str(root), "--no-mcp"], tmp_path)
            try:
                await up.wait_output("web     » running")
                refused = await agent.call_tool("scripts_run", {"name": "web"})
                assert refused.is_error
                assert f"brummer up (pid {up.proc.pid}" in text_of(refused)
                assert "restart brummer mcp" in text_of(refused)
            finally:
                assert await up.stop() == 130
            assert structured(await agent.call_tool("scripts_run", {"name": "web"}))["action"] == "started"
            (headless,) = registry.entries(root)
            assert headless.runs
            second = await Brummer.start(["up", "--dir", str(root), "--no-mcp"], tmp_path)
            assert await second.wait() == 2
            assert f"already runs in a headless brummer mcp (pid {headless.pid}," in second.output
            assert "web" not in second.output.replace(str(root), "")  # it started nothing
    assert len(marker.read_text().split()) == 2  # once by brummer up, once by the agent
