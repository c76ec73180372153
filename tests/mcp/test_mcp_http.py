"""The SDK's own Streamable HTTP transport at /mcp, in both eras, with the official client."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
import trio
from helpers_mcp import demo_project, serving, structured
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.subscriptions import ResourceUpdated

from brummer.mcp.schemas import TOOLS

# The SDK's HTTP client (httpx2) leaves its SSE and body iterators unfinished when it closes; under Trio their garbage
# collection warns (and the connection they held is reported unclosed). That is the client library's doing, on the
# client side of the socket; the server under test is not involved.
pytestmark = [
    pytest.mark.filterwarnings(
        r"ignore:Exception ignored in. <async_generator object (EventSource|PoolByteStream|Response)\.:"
        "pytest.PytestUnraisableExceptionWarning"
    ),
    pytest.mark.filterwarnings(r"ignore:Exception ignored in. <socket\.socket:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings(r"ignore:Async generator 'http(x|core)2\.:ResourceWarning"),
    pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning"),
]


@pytest.fixture(autouse=True)
def _collect_client_garbage() -> Iterator[None]:
    yield
    gc.collect()  # inside this test's teardown, where the filters above apply


@pytest.mark.parametrize(("mode", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
async def test_http_both_eras(tmp_path: Path, mode: str, version: str) -> None:
    updates: list[str] = []
    arrived = trio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            arrived.set()

    with trio.fail_after(40):
        async with serving(demo_project(tmp_path)) as served, served.http(mode, message_handler=on_message) as client:
            assert client.protocol_version == version
            assert [tool.name for tool in (await client.list_tools()).tools] == [tool.name for tool in TOOLS]
            assert structured(await client.call_tool("scripts_list", {}))["count"] == 3

            reported: list[float] = []

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                reported.append(progress)

            waited = await client.call_tool(
                "wait_for",
                {"name": "web", "condition": "log", "pattern": "^never$", "timeout_s": 1.2},
                progress_callback=on_progress,
            )
            assert structured(waited)["reason"] == "timeout" and reported

            read = await client.read_resource("brummer://processes")
            (content,) = read.contents
            assert isinstance(content, types.TextResourceContents)
            assert json.loads(content.text)["processes"][0]["name"] == "web"

            if mode == "legacy":
                with pytest.warns(MCPDeprecationWarning):
                    await client.subscribe_resource("brummer://logs/job")
                await client.call_tool("scripts_run", {"name": "job"})
                await arrived.wait()
                assert "brummer://logs/job" in updates
            else:
                async with client.listen(resource_subscriptions=["brummer://logs/job"]) as sub:
                    await client.call_tool("scripts_run", {"name": "job"})
                    async for event in sub:
                        assert event == ResourceUpdated("brummer://logs/job")
                        break
