"""scripts_status tells an agent why a process that runs is not ready: its readiness probe's latest failure."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import trio
from helpers_mcp import serving, structured, text_of

from helpers import load, write_project


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_scripts_status_says_why_the_probe_fails(tmp_path: Path) -> None:
    health = f"http://127.0.0.1:{free_port()}/health"  # nothing listens there
    root = write_project(
        tmp_path,
        brummer_toml=f"""
        [processes.api]
        cmd = "sleep 60"
        ready = {{ http = "{health}" }}
        grace = 1
        """,
    )
    expected = re.compile(rf"waiting for {re.escape(health)}: connection refused, (\d+) tries")
    with trio.fail_after(60):
        async with serving(load(root), ["api"]) as served, served.ws() as client:
            while True:
                answer = await client.call_tool("scripts_status", {"name": "api"})
                (status,) = structured(answer)["processes"]
                # no message yet while it starts, or before the first probe failed: compact answers leave it out
                if (found := expected.fullmatch(status.get("message", ""))) and int(found[1]) >= 2:
                    break
                await trio.sleep(0.1)
            assert status["state"] == "running" and not status.get("ready")  # compact: no falsy fields
            assert expected.search(text_of(answer)), text_of(answer)  # in the text the model reads, too
