"""``brummer mcp --all``, the hub, driven by the official MCP SDK client over stdio against real ``brummer up``s."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
import trio
from helpers_remote import PY, demo, running_up
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.subscriptions import ResourceUpdated

from brummer.mcp import schemas
from helpers_cli import Up


def hub(cwd: Path) -> StdioServerParameters:
    return StdioServerParameters(command=PY, args=["-m", "brummer", "mcp", "--all"], cwd=str(cwd), env=dict(os.environ))


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def data(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, text(result)
    found = result.structured_content
    assert isinstance(found, dict)
    return found


async def connected(client: Client, names: set[str]) -> dict[str, dict[str, Any]]:
    """projects_list once exactly ``names`` run and the hub is connected to each."""
    with trio.fail_after(60):
        while True:
            rows = {row["name"]: row for row in (await data(client, "projects_list", {}))["projects"]}
            if rows.keys() == names and all(row["connected"] for row in rows.values()):
                return rows
            await trio.sleep(0.1)


async def test_hub_across_two_projects(tmp_path: Path) -> None:
    alpha, beta = demo(tmp_path / "alpha"), demo(tmp_path / "beta")
    updates: list[str] = []
    updated = trio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            updated.set()

    async with running_up(alpha, tmp_path), running_up(beta, tmp_path) as first_beta:
        async with Client(hub(tmp_path), mode="legacy", message_handler=on_message) as client:
            rows = await connected(client, {"alpha", "beta"})
            assert rows["beta"]["path"] == str(beta.resolve()) and rows["beta"]["pid"] == first_beta.proc.pid

            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert "projects_list" in tools and "project" in tools["scripts_status"].input_schema["properties"]
            several = await client.call_tool("scripts_status", {})
            assert several.is_error and "alpha" in text(several) and "beta" in text(several)
            web = (await data(client, "scripts_status", {"project": "alpha", "name": "web"}))["processes"][0]
            assert web["name"] == "web" and web["pid"]
            by_path = await data(client, "urls_list", {"project": str(beta)})
            assert by_path["urls"][0]["url"].startswith("http://localhost:")

            uris = {str(r.uri) for r in (await client.list_resources()).resources}
            assert {"brummer://processes?project=alpha", "brummer://logs/web?project=beta"} <= uris
            read = await client.read_resource("brummer://urls?project=beta")
            (urls,) = read.contents
            assert isinstance(urls, types.TextResourceContents) and by_path["urls"][0]["url"] in urls.text
            with pytest.warns(MCPDeprecationWarning):
                await client.subscribe_resource("brummer://processes?project=beta")
            await data(client, "scripts_run", {"project": "beta", "name": "idle"})
            with trio.fail_after(30):
                await updated.wait()
            assert set(updates) == {"brummer://processes?project=beta"}  # only what was subscribed

            reported: list[float] = []

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                reported.append(progress)

            waited = await client.call_tool(
                "wait_for",
                {"project": "alpha", "name": "web", "condition": "log", "pattern": "never", "timeout_s": 2.5},
                progress_callback=on_progress,
            )
            assert waited.structured_content is not None and waited.structured_content["reason"] == "timeout"
            assert reported  # wait_for's progress passed through the hub

            assert await first_beta.stop() == 130  # beta stops while the hub runs ...
            await connected(client, {"alpha"})
            gone = await client.call_tool("scripts_status", {"project": "beta"})
            assert gone.is_error and "no running brummer up for project 'beta'" in text(gone)
            only = await data(client, "scripts_list", {})  # one project: `project` may be left out
            assert {p["name"] for p in only["processes"]} == {"web", "job", "idle", "ticker"}

            second_beta = await Up.launch(beta, tmp_path)  # ... and starts again
            try:
                rows = await connected(client, {"alpha", "beta"})
                assert rows["beta"]["pid"] == second_beta.proc.pid
                assert (await data(client, "scripts_status", {"project": "beta", "name": "web"}))["processes"]

                in_flight = trio.Event()

                async def noticed(progress: float, total: float | None, message: str | None) -> None:
                    in_flight.set()

                async def kill_when_in_flight() -> None:
                    await in_flight.wait()
                    await second_beta.kill()  # SIGKILL mid-call

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(kill_when_in_flight)
                    with trio.fail_after(60):
                        died = await client.call_tool(
                            "wait_for",
                            {"project": "beta", "name": "web", "condition": "log", "pattern": "never", "timeout_s": 60},
                            progress_callback=noticed,
                        )
                assert died.is_error and "beta" in text(died) and "went away during wait_for" in text(died)
                await connected(client, {"alpha"})  # the hub goes on
                assert (await data(client, "scripts_status", {"project": "alpha", "name": "web"}))["processes"]
            finally:
                await second_beta.stop()


async def test_hub_modern_era_with_one_project(tmp_path: Path) -> None:
    alpha = demo(tmp_path / "alpha")
    async with running_up(alpha, tmp_path), Client(hub(tmp_path), mode="auto") as client:
        assert client.protocol_version == "2026-07-28"
        await connected(client, {"alpha"})
        async with client.listen(resource_subscriptions=["brummer://processes?project=alpha"]) as events:
            await data(client, "scripts_run", {"name": "idle"})  # the only project
            with trio.fail_after(30):
                async for event in events:
                    assert isinstance(event, ResourceUpdated)
                    assert event.uri == "brummer://processes?project=alpha"
                    break
        read = await client.read_resource("brummer://processes")  # no project: the only one
        (processes,) = read.contents
        assert isinstance(processes, types.TextResourceContents) and '"idle"' in processes.text
        unknown = await client.call_tool("scripts_status", {"project": str(tmp_path / "elsewhere")})
        assert unknown.is_error and "running: alpha" in text(unknown)


async def test_hub_with_nothing_running(tmp_path: Path) -> None:
    async with Client(hub(tmp_path), mode="legacy") as client:
        listed = await data(client, "projects_list", {})
        assert listed == {"projects": [], "count": 0}
        tools = (await client.list_tools()).tools
        assert len(tools) == len(schemas.TOOLS) + 1  # brummer's own tools, and projects_list
        nothing = await client.call_tool("logs_tail", {})
        assert nothing.is_error and "start one in a project with `brummer up`" in text(nothing)
