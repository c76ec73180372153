"""``brummer logs -f`` keeps following when its connection drops and when brummer up is replaced: every line once.

To cut a real connection the way a network (or a restarting server) would, the follower reaches brummer up through
a TCP relay this test runs: the test points brummer up's registry entry at the relay, and closes the relay's
connections when it wants the follower to lose its own.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import trio
from helpers_remote import demo, running_up

from brummer import registry
from helpers_cli import BRUMMER, Brummer, Up


class Relay:
    """Forwards TCP connections on a free loopback port to ``port``; ``cut()`` drops every live one."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.scopes: set[trio.CancelScope] = set()
        self.cuts = 0

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        task_status.started(listeners[0].socket.getsockname()[1])
        await trio.serve_listeners(self._relay, listeners)

    async def _relay(self, client: trio.SocketStream) -> None:
        async with client, await trio.open_tcp_stream("127.0.0.1", self.target) as server:
            with trio.CancelScope() as scope:
                self.scopes.add(scope)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_pump, client, server, nursery.cancel_scope)
                    nursery.start_soon(_pump, server, client, nursery.cancel_scope)
            self.scopes.discard(scope)

    def cut(self) -> None:
        assert self.scopes, "no connection to cut"
        for scope in list(self.scopes):
            scope.cancel()
        self.cuts += 1


async def _pump(source: trio.SocketStream, sink: trio.SocketStream, done: trio.CancelScope) -> None:
    try:
        while chunk := await source.receive_some(65536):
            await sink.send_all(chunk)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    done.cancel()


def through(entry: registry.Entry, port: int) -> None:
    """Point ``entry``'s addresses at ``port`` (the relay), as brummer up would write them."""
    moved = entry.replace(ws=f"ws://127.0.0.1:{port}/ws", http=f"http://127.0.0.1:{port}/mcp")
    with registry.Folder.open() as folder:
        folder.write(entry.name, moved.to_json())


def printed(follower: Brummer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in follower.output.splitlines() if line.startswith("{")]


def ticks(lines: list[dict[str, Any]]) -> list[int]:
    return [
        int(line["text"].split()[1]) for line in lines if line["process"] == "ticker" and line["stream"] == "stdout"
    ]


async def wait_ticks(follower: Brummer, more_than: int) -> int:
    with trio.fail_after(60):
        while len(ticks(printed(follower))) <= more_than:
            assert follower.proc.poll() is None, follower.output
            await trio.sleep(0.05)
    return len(ticks(printed(follower)))


def assert_each_once(numbers: list[int]) -> None:
    assert numbers, "nothing printed"
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), "a line was lost or printed twice"


async def test_follow_resumes_from_its_cursor_when_the_connection_drops(tmp_path: Path) -> None:
    root = demo(tmp_path / "shop", ticker=True)
    async with running_up(root, tmp_path) as up, trio.open_nursery() as nursery:
        entry = await up.serving()
        assert entry.ws is not None
        relay = Relay(int(entry.ws.rsplit(":", 1)[1].split("/")[0]))
        through(entry, await nursery.start(relay.serve))
        follower = await Brummer.start(["logs", "ticker", "-f", "--json", "-n", "5", "--dir", str(root)], tmp_path)
        try:
            seen = await wait_ticks(follower, 20)
            for _ in range(3):
                relay.cut()
                seen = await wait_ticks(follower, seen + 30)  # it reconnected (through the relay) and goes on
            assert follower.output.count("the connection dropped; reconnecting") == 3, follower.output
        finally:
            assert await follower.stop(signal.SIGINT) == 130
        lines = printed(follower)
        seqs = [line["seq"] for line in lines]
        assert seqs == sorted(set(seqs))  # no line twice
        assert_each_once(ticks(lines))  # and none lost
        nursery.cancel_scope.cancel()


async def test_follow_goes_on_with_the_next_brummer_up(tmp_path: Path) -> None:
    root = demo(tmp_path / "shop", ticker=True)
    first = await Up.launch(root, tmp_path)
    follower: Brummer | None = None
    second: Up | None = None
    try:
        await first.serving()
        follower = await Brummer.start(["logs", "-f", "--json", "--dir", str(root)], tmp_path)
        seen = await wait_ticks(follower, 20)
        assert await first.stop() == 130
        await follower.wait_output("waiting for it")
        before = len(printed(follower))
        second = await Up.launch(root, tmp_path)
        await second.serving()
        await follower.wait_output("its log starts anew")
        await wait_ticks(follower, seen + 20)
    finally:
        if follower is not None:
            assert await follower.stop(signal.SIGINT) == 130
        await first.stop()
        if second is not None:
            await second.stop()
    lines = printed(follower)
    old, new = lines[:before], lines[before:]
    assert_each_once(ticks(old))
    assert ticks(new)[0] == 0  # the new brummer up's log from its first line
    assert_each_once(ticks(new))
    assert [line["seq"] for line in new] == sorted({line["seq"] for line in new})


async def test_follow_ends_quietly_when_its_reader_goes(tmp_path: Path) -> None:
    root = demo(tmp_path / "shop", ticker=True)
    async with running_up(root, tmp_path):
        pipe = subprocess.PIPE
        follower = await trio.lowlevel.open_process(
            [*BRUMMER, "logs", "-f", "--dir", str(root)], stdout=pipe, stderr=pipe, stdin=subprocess.DEVNULL
        )
        assert follower.stdout is not None and follower.stderr is not None
        try:
            with trio.fail_after(60):
                assert b" | " in await follower.stdout.receive_some()
                await follower.stdout.aclose()  # `brummer logs -f | head -1`
                assert await follower.wait() == 141
                said = b"".join([chunk async for chunk in follower.stderr])
            assert said == b""  # no traceback, no message
        finally:
            if follower.returncode is None:
                follower.kill()
                await follower.wait()
