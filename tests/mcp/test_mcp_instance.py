"""The MCP server's registry entry and its port: contents, 0600, removal, the project lock, loopback addresses."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import socket
import stat
from pathlib import Path

import pytest
import trio
from helpers_mcp import demo_project, serving

from brummer import registry
from brummer.errors import MCPServerError
from brummer.mcp import server
from brummer.mcp.server import bind, serve_mcp
from brummer.registry.entry import McpUrls
from brummer.runtime import Runtime
from helpers import running


async def test_registry_entry(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    folder = registry.location()
    key = registry.project_key(project.root)
    path = folder / f"{key}.{os.getpid()}.json"
    with trio.fail_after(30):
        async with serving(project, ["job"]) as served:
            content = json.loads(path.read_text())
            assert set(content) == {
                "format", "pid", "start", "kind", "version", "project", "started_at", "runs", "tty", "panel", "token",
                "mcp",
            }  # fmt: skip
            assert content["pid"] == os.getpid() and content["project"] == str(await trio.Path(project.root).resolve())
            assert content["kind"] == "up" and content["runs"] is True and content["version"] == served.runtime.version
            assert content["start"] == registry.identity.fingerprint(os.getpid()) != ""
            assert content["mcp"] == {"state": "on", "ws": served.urls.ws, "http": served.urls.http}
            assert served.urls == served.runtime.mcp_urls
            assert content["mcp"]["ws"] == f"ws://127.0.0.1:{served.port}/ws"
            assert content["mcp"]["http"] == f"http://127.0.0.1:{served.port}/mcp"
            assert content["token"] == served.token and len(served.token) >= 32
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
            assert (folder / f"{key}.lock").read_text() == f"{os.getpid()}\n"  # it holds the project's lock
            # (the MCP lock went with the server's start: nobody waits for it any more)
            assert sorted(p.name for p in folder.iterdir()) == [path.name, f"{key}.lock"]
            assert not (project.root / ".brummer").exists()  # nothing in the project folder
        assert not path.exists() and list(folder.iterdir()) == []  # the lock file too
        assert served.runtime.mcp_urls is None
        assert registry.entries(project.root) == []


async def test_no_second_server_while_another_brummer_runs_the_project(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    with trio.fail_after(30):
        first = await registry.claim(project.root, registry.Kind.UP, mcp=False)
        with first:
            before = first.path.read_bytes()
            async with running(project, ["job"]) as run:
                runtime = Runtime(project, run.sup, run.store, run.bus)
                async with trio.open_nursery() as nursery:
                    with pytest.raises(MCPServerError, match=rf"already runs in brummer up \(pid {os.getpid()},"):
                        await nursery.start(functools.partial(serve_mcp, runtime, port=0))
            assert first.path.read_bytes() == before  # the first one's entry is untouched
        async with serving(project, ["job"]):  # the lock went with the first one
            pass


def test_port_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        with bind("127.0.0.1", taken) as sock:
            assert taken < sock.getsockname()[1] < taken + server.PORT_TRIES
        with bind("127.0.0.1", 0) as sock:
            assert sock.getsockname()[1] != 0
        monkeypatch.setattr(server, "PORT_TRIES", 1)
        with pytest.raises(MCPServerError, match=rf"no free port for MCP on 127.0.0.1 in {taken}-{taken}"):
            bind("127.0.0.1", taken)


async def test_mcp_port_setting_and_loopback_only(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    chosen = dataclasses.replace(project, settings=dataclasses.replace(project.settings, mcp_port=free))
    remote = dataclasses.replace(project, settings=dataclasses.replace(project.settings, mcp_host="0.0.0.0"))
    with trio.fail_after(30):
        async with running(chosen, ["job"]) as run:
            runtime = Runtime(chosen, run.sup, run.store, run.bus)
            async with trio.open_nursery() as nursery:
                urls = await nursery.start(serve_mcp, runtime)
                assert urls.ws == f"ws://127.0.0.1:{free}/ws"
                nursery.cancel_scope.cancel()
            runtime = Runtime(remote, run.sup, run.store, run.bus)
            async with trio.open_nursery() as nursery:
                with pytest.raises(MCPServerError, match="only loopback unless allow_remote"):
                    await nursery.start(serve_mcp, runtime)


async def test_a_wildcard_bind_registers_its_loopback_address(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    settings = dataclasses.replace(project.settings, mcp_host="0.0.0.0", allow_remote=True)
    with trio.fail_after(30):
        async with serving(dataclasses.replace(project, settings=settings), ["job"]) as served:
            (entry,) = registry.entries(project.root)
            assert served.urls.ws == f"ws://0.0.0.0:{served.port}/ws"
            assert entry.mcp is registry.McpState.ON and entry.ws == f"ws://127.0.0.1:{served.port}/ws"


def test_registry_addresses_are_loopback_only() -> None:
    assert registry.loopback_urls("127.0.0.1", 7) == McpUrls("ws://127.0.0.1:7/ws", "http://127.0.0.1:7/mcp")
    assert registry.loopback_urls("0.0.0.0", 7) == McpUrls("ws://127.0.0.1:7/ws", "http://127.0.0.1:7/mcp")
    assert registry.loopback_urls("::", 7) == McpUrls("ws://[::1]:7/ws", "http://[::1]:7/mcp")
    assert registry.loopback_urls("192.0.2.2", 7) is None  # served there only: brummer mcp does not connect
