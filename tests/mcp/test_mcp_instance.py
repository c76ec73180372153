"""`.brummer/instance.json` and the port: contents, 0600, removal, stale files, a live other instance."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest
import trio
from helpers_mcp import demo_project, serving

from brummer.errors import MCPServerError
from brummer.mcp import instance, server
from brummer.mcp.server import bind, serve_mcp
from brummer.runtime import Runtime
from helpers import running


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


async def test_instance_file(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    path = project.root / ".brummer" / "instance.json"
    with trio.fail_after(30):
        async with serving(project, ["job"]) as served:
            content = json.loads(path.read_text())
            assert set(content) == {"pid", "version", "project", "started_at", "token", "mcp"}
            assert content["pid"] == os.getpid() and content["project"] == str(project.root)
            assert content["version"] == served.runtime.version
            assert content["started_at"] == served.runtime.started_at
            assert content["mcp"] == served.urls == served.runtime.mcp_urls
            assert content["mcp"]["ws"] == f"ws://127.0.0.1:{served.port}/ws"
            assert content["mcp"]["http"] == f"http://127.0.0.1:{served.port}/mcp"
            assert len(content["token"]) >= 32
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert (path.parent / ".gitignore").read_text() == "*\n"
            assert sorted(p.name for p in path.parent.iterdir()) == [".gitignore", "instance.json"]
        assert not path.exists()
        assert served.runtime.mcp_urls == {}


async def test_a_stale_file_is_replaced(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    path = instance.path_for(project.root)
    path.parent.mkdir()
    stale = {"pid": dead_pid(), "token": "old", "mcp": {"ws": "ws://127.0.0.1:1/ws", "http": "http://127.0.0.1:1/mcp"}}
    path.write_text(json.dumps(stale))
    with trio.fail_after(30):
        async with serving(project, ["job"]) as served:
            assert json.loads(path.read_text())["token"] == served.token != "old"
    assert not path.exists()

    with trio.socket.socket() as unused:  # a live pid whose server is gone (this pid, say, after a crash) is stale
        await unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    path.parent.mkdir(exist_ok=True)
    sleeper = await trio.lowlevel.open_process(["sleep", "30"])
    try:
        path.write_text(
            json.dumps({**stale, "pid": sleeper.pid, "mcp": {"ws": f"ws://127.0.0.1:{port}/ws", "http": ""}})
        )
        assert await instance.find_live(project.root) is None
    finally:
        sleeper.kill()
        await sleeper.wait()


async def test_a_live_instance_is_left_alone(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    path = instance.path_for(project.root)
    path.parent.mkdir()
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    sleeper = await trio.lowlevel.open_process(["sleep", "30"])
    other = {
        "pid": sleeper.pid,
        "token": "theirs",
        "mcp": {"ws": f"ws://127.0.0.1:{port}/ws", "http": f"http://127.0.0.1:{port}/mcp"},
    }
    path.write_text(json.dumps(other))
    try:
        with trio.fail_after(30):
            async with running(project, ["job"]) as run:
                runtime = Runtime(project, run.sup, run.store, run.bus)
                async with trio.open_nursery() as nursery:
                    with pytest.raises(MCPServerError, match=rf"another brummer \(pid {sleeper.pid}\) already serves"):
                        await nursery.start(functools.partial(serve_mcp, runtime, port=0))
        assert json.loads(path.read_text()) == other
    finally:
        listener.close()
        sleeper.kill()
        await sleeper.wait()


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
                assert urls["ws"] == f"ws://127.0.0.1:{free}/ws"
                nursery.cancel_scope.cancel()
            runtime = Runtime(remote, run.sup, run.store, run.bus)
            async with trio.open_nursery() as nursery:
                with pytest.raises(MCPServerError, match="only loopback unless allow_remote"):
                    await nursery.start(serve_mcp, runtime)
