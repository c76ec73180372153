"""What one MCP client can cost: requests in flight, unread answers, stuck subscribers, oversize and malformed input.

Where the cost is memory or CPU, the server is a real ``brummer up`` and its cost is read from /proc; the clients
that misbehave are WebSockets by hand (wsproto over a TCP stream), the well-behaved one is the SDK's client.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mcp_types as types
import pytest
import trio
import trio.testing
from helpers_mcp import demo_project, frame, serving, structured, ws_transport
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning
from test_mcp_stdio import LEGACY, Raw, open_raw
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Event, Request, TextMessage

from brummer.mcp.bridge import MAX_IN_FLIGHT
from brummer.mcp.frames import TOO_MANY_REQUESTS, TooBig
from brummer.mcp.stdio_lines import Lines
from helpers import PY, pid_alive, poll, write_project
from helpers_cli import Up

MiB = 2**20
INITIALIZED = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
DUMP = "for i in range(1000):\n    print(f'{i:05} ' + 'lorem ipsum dolor sit amet ' * 7, flush=i % 100 == 99)\n"
CALLS, CALL_LINES = 400, 1000  # each answer ~300 KB: 120 MB if they all ran and waited for the client
TICKER = "import time\nwhile True:\n    print('tick', flush=True)\n    time.sleep(0.05)\n"
BAD = [  # (message, error code, what the error says)
    ("[" * 100_000, -32700, "recursion limit"),
    ('{"a":' * 50_000, -32700, "recursion limit"),
    (json.dumps({"jsonrpc": "2.0", "id": True, "method": "ping"}), -32600, "id must be"),
    (json.dumps({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}), -32600, "id must be"),
    (json.dumps({"jsonrpc": "2.0", "id": 2.0, "method": "ping"}), -32600, "id must be"),
    (json.dumps({"jsonrpc": "2.0", "id": None, "method": "ping"}), -32600, "id must be"),
    (json.dumps({"jsonrpc": "2.0", "id": 10**400, "method": "ping"}), -32600, "id must be"),
]


def big_number_call(request_id: int, **arguments: Any) -> str:
    """A tools/call of logs_tail whose limit is 10**400 (unless ``arguments`` say otherwise)."""
    arguments = {"name": "web", "limit": 10**400} | arguments
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {"name": "logs_tail", "arguments": arguments},
        }
    )


def tool_error(reply: dict[str, Any]) -> str:
    """The text of a tool's error result (an ``isError`` answer, not a JSON-RPC error)."""
    assert "result" in reply and reply["result"]["isError"] is True, reply
    return str(reply["result"]["content"][0]["text"])


def bad_params(request_id: int, params: Any) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})


# -- /proc -----------------------------------------------------------------------------------------------------------


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux >= 4.0)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def until_quiet(pid: int, timeout: float) -> float:
    """Wait until ``pid`` used less than 0.15 s of CPU in a whole second; return the CPU it used meanwhile."""
    start = last = cpu_seconds(pid)
    with trio.fail_after(timeout):
        while True:
            await trio.sleep(1.0)
            now = cpu_seconds(pid)
            if now - last < 0.15:
                return now - start
            last = now


# -- clients ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """Where a running brummer up serves MCP, from its registry entry."""

    ws: str
    token: str
    project: Path


@asynccontextmanager
async def brummer_up(tmp_path: Path, toml: str) -> AsyncIterator[tuple[Up, Found]]:
    """A real ``brummer up --mcp-port 0`` in a fresh project, once its MCP server is up."""
    root = write_project(tmp_path / "proj", brummer_toml=toml)
    up = await Up.launch(root, tmp_path)
    try:
        entry = await up.serving()
        assert entry.ws is not None and entry.token is not None
        yield up, Found(entry.ws, entry.token, entry.project)
    finally:
        await up.kill()


class Socket:
    """A WebSocket client by hand (wsproto over a TCP stream) that reads only when asked and leaves by closing its
    socket: a client that stops reading really stops (trio-websocket reads ahead, and waits for a closing handshake
    on the way out)."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.events: deque[Event] = deque()
        self.parts: list[str] = []

    @classmethod
    async def connect(cls, url: str, token: str) -> Socket:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self = cls(await trio.open_tcp_stream(parts.hostname, parts.port))
        headers = [(b"authorization", f"Bearer {token}".encode())]
        where = f"{parts.hostname}:{parts.port}"
        await self.stream.send_all(
            self.ws.send(Request(where, parts.path, subprotocols=["mcp"], extra_headers=headers))
        )
        assert isinstance(await self.event(), AcceptConnection)
        return self

    async def event(self) -> Event:
        while not self.events:
            data = await self.stream.receive_some(65536)
            self.ws.receive_data(data or None)
            self.events.extend(self.ws.events())
        return self.events.popleft()

    async def send(self, text: str) -> None:
        await self.stream.send_all(self.ws.send(TextMessage(text)))

    async def receive(self) -> str:
        """The next text message; ``CloseConnection`` (its code) if the server closes instead."""
        while True:
            event = await self.event()
            if isinstance(event, CloseConnection):
                raise Closed(event.code)
            if isinstance(event, TextMessage):
                self.parts.append(event.data)
                if event.message_finished:
                    text, self.parts = "".join(self.parts), []
                    return text

    async def close(self) -> None:
        await self.stream.aclose()


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@asynccontextmanager
async def socket(url: str, token: str, *, initialized: bool = True) -> AsyncIterator[Socket]:
    """A ``Socket`` to a /ws (after the handshake of the 2025-11-25 era), closed on the way out."""
    sock = await Socket.connect(url, token)
    try:
        if initialized:
            await sock.send(frame("initialize", 0, **LEGACY))
            assert "result" in json.loads(await sock.receive())
            await sock.send(INITIALIZED)
        yield sock
    finally:
        await sock.close()


async def answer(sock: Socket, request_id: int) -> dict[str, Any]:
    """The answer to ``request_id``, skipping notifications."""
    while True:
        message = json.loads(await sock.receive())
        assert isinstance(message, dict)
        if message.get("id") == request_id or ("error" in message and message.get("id") is None):
            return message


async def post_head(found: Found, content_length: int) -> int:
    """The status /mcp answers a POST with, when given only its head and the first 64 KiB of its body."""
    parts = urlsplit(found.ws)
    assert parts.hostname is not None and parts.port is not None
    stream = await trio.open_tcp_stream(parts.hostname, parts.port)
    async with stream:
        head = (
            f"POST /mcp HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nAuthorization: Bearer {found.token}\r\n"
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            f"Content-Length: {content_length}\r\n\r\n"
        )
        await stream.send_all(head.encode() + b"x" * 65536)
        response = b""
        while b"\r\n" not in response:
            response += await stream.receive_some(4096)
        return int(response.split()[1])


def tail_call(request_id: int, name: str, limit: int) -> str:
    return frame(
        "tools/call", request_id, name="logs_tail", arguments={"name": name, "limit": limit, "since": 0, "detail": True}
    )


# -- brummer up: memory and CPU ------------------------------------------------------------------------------------


async def test_a_client_pipelining_without_reading_costs_bounded_memory_and_its_work_stops_when_it_goes(
    tmp_path: Path,
) -> None:
    (tmp_path / "dump.py").write_text(DUMP + "import time\ntime.sleep(300)\n")
    toml = f'[processes.dump]\ncmd = "{PY} -u {tmp_path / "dump.py"}"\nready = "none"\n'
    async with brummer_up(tmp_path, toml) as (up, found):
        pid = up.proc.pid
        async with Client(ws_transport(found.ws, found.token), mode="legacy") as healthy:

            async def notes() -> str:
                tail = structured(
                    await healthy.call_tool("logs_tail", {"name": "brummer", "limit": 1000, "detail": True})
                )
                return "\n".join(line["text"] for line in tail["lines"])

            tail = {"name": "dump", "limit": 5, "detail": True}
            await poll(lambda: healthy.call_tool("logs_tail", tail), lambda r: structured(r)["count"] >= 5, every=0.2)
            await until_quiet(pid, 60)
            baseline = memory_kib(pid, "VmRSS")
            reset_peak(pid)

            with trio.fail_after(150):
                async with socket(found.ws, found.token) as sock:
                    for i in range(1, CALLS + 1):  # and never read the answers
                        await sock.send(tail_call(i, "dump", CALL_LINES))
                    started = time.monotonic()
                    while "dropped WebSocket client" not in await notes():  # before: never, it just grew
                        growth = (memory_kib(pid, "VmRSS") - baseline) / 1024
                        assert growth < 150, f"RSS +{growth:.0f} MiB after {time.monotonic() - started:.0f} s"
                        await trio.sleep(0.5)
                    dropped = time.monotonic() - started
                used = await until_quiet(pid, 60)
            growth = (memory_kib(pid, "VmHWM") - baseline) / 1024
            print(f"dropped after {dropped:.1f} s; then {used:.1f} s of CPU; peak RSS +{growth:.0f} MiB")
            assert used < 15, used
            assert growth < 150, growth
            assert "1 slow client dropped so far" in await notes()

            with trio.fail_after(20):  # a well-behaved client is unaffected
                assert (
                    structured(await healthy.call_tool("logs_tail", {"name": "dump", "limit": 5, "detail": True}))[
                        "count"
                    ]
                    == 5
                )


async def test_stuck_subscribers_cost_a_healthy_subscriber_nothing(tmp_path: Path) -> None:
    (tmp_path / "ticker.py").write_text(TICKER)
    toml = f'[processes.ticker]\ncmd = "{PY} -u {tmp_path / "ticker.py"}"\nready = "none"\n'
    stuck = 10
    watch = 10.0
    arrivals: list[float] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            arrivals.append(time.monotonic())

    async with brummer_up(tmp_path, toml) as (_up, found):
        transport = ws_transport(found.ws, found.token)
        async with Client(transport, mode="legacy", message_handler=on_message) as healthy:
            with pytest.warns(MCPDeprecationWarning):
                await healthy.subscribe_resource("brummer://logs/ticker")
            async with trio.open_nursery() as nursery:
                ready = trio.Semaphore(0)
                hold = trio.Event()

                async def subscriber_that_stops_reading() -> None:
                    async with socket(found.ws, found.token) as sock:
                        await sock.send(frame("resources/subscribe", 1, uri="brummer://logs/ticker"))
                        await answer(sock, 1)
                        for i in range(2, 600):  # answers it never reads fill its socket and the server's queue
                            await sock.send(frame("tools/list", i))
                        ready.release()
                        await hold.wait()

                with trio.fail_after(60):
                    for _ in range(stuck):
                        nursery.start_soon(subscriber_that_stops_reading)
                    for _ in range(stuck):
                        await ready.acquire()
                    arrivals.clear()
                    start = time.monotonic()
                    await trio.sleep(watch)
                    end = time.monotonic()
                hold.set()
            gaps = [b - a for a, b in itertools.pairwise([start, *arrivals, end])]
            print(f"{len(arrivals)} updates in {watch:g} s beside {stuck} stuck; longest gap {max(gaps):.2f} s")
            assert max(gaps) < 4.0, gaps  # before: about 1 s per stuck subscriber each round


async def test_oversize_and_malformed_input_to_brummer_up(tmp_path: Path) -> None:
    toml = f'[processes.web]\ncmd = "{PY} -c \\"import time; time.sleep(300)\\""\nready = "none"\n'
    async with brummer_up(tmp_path, toml) as (up, found):
        pid = up.proc.pid
        await until_quiet(pid, 60)
        baseline = memory_kib(pid, "VmRSS")
        reset_peak(pid)
        codes: list[int] = []

        async def oversize() -> None:
            async with socket(found.ws, found.token, initialized=False) as sock:
                await sock.send("x" * (40 * MiB))
                with pytest.raises(Closed) as closed:
                    await sock.receive()
                codes.append(closed.value.code)

        with trio.fail_after(120):
            async with trio.open_nursery() as nursery:
                for _ in range(4):
                    nursery.start_soon(oversize)
        growth = (memory_kib(pid, "VmHWM") - baseline) / 1024
        print(f"4 frames of 40 MiB refused; peak RSS +{growth:.0f} MiB")
        assert codes == [1009] * 4
        assert growth < 120, growth  # before: each frame was buffered whole, at 4 bytes a character

        assert await post_head(found, content_length=20 * MiB) == 413  # before the body: nothing of it is read

        pipe = subprocess.PIPE
        relay = Raw(
            await trio.lowlevel.open_process(
                [PY, "-m", "brummer", "mcp", "--dir", str(found.project)], stdin=pipe, stdout=pipe
            )
        )
        try:
            with trio.fail_after(60):
                assert (await relay.request("initialize", 1, **LEGACY))["result"]["serverInfo"]["name"] == "brummer"
                await relay.send(INITIALIZED)
                for message, code, says in BAD:
                    await relay.send(message)
                    error = (await relay.receive())["error"]
                    assert error["code"] == code and says in error["message"], (message[:40], error)
                await relay.send("x" * (17 * MiB))
                error = (await relay.receive())["error"]
                assert error["code"] == -32600 and "too big" in error["message"]
                assert "result" in await relay.request("ping", 2)
        finally:
            relay.process.kill()
            await relay.process.wait()

        async with socket(found.ws, found.token) as sock:  # the server is healthy
            await sock.send(frame("ping", 9))
            assert (await answer(sock, 9))["result"] == {}


# -- in-process: the rules of the bridge ---------------------------------------------------------------------------


def waiting(request_id: int) -> str:
    return frame("tools/call", request_id, name="wait_for", arguments={"name": "web", "condition": "exited"})


async def test_requests_in_flight_are_capped_per_connection(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with serving(demo_project(tmp_path), ["web"]) as served:
            async with (
                socket(served.urls.ws, served.token) as sock,
                socket(served.urls.ws, served.token) as other,
            ):
                for i in range(1, MAX_IN_FLIGHT + 1):  # each waits (30 s) for a process that keeps running
                    await sock.send(waiting(i))
                await sock.send(frame("ping", 100))
                busy = await answer(sock, 100)
                assert (
                    busy["error"]["code"] == TOO_MANY_REQUESTS
                    and f"at most {MAX_IN_FLIGHT}" in busy["error"]["message"]
                )
                await other.send(frame("ping", 1))  # the cap is per connection
                assert (await answer(other, 1))["result"] == {}

                cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}}
                await sock.send(json.dumps(cancel))  # a cancelled request is never answered: its slot is free
                await sock.send(frame("ping", 101))
                assert (await answer(sock, 101))["result"] == {}
                await sock.send(waiting(102))  # takes the last free slot
                await sock.send(frame("ping", 103))
                assert (await answer(sock, 103))["error"]["code"] == TOO_MANY_REQUESTS


async def test_malformed_messages_get_json_rpc_errors_on_ws(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with serving(demo_project(tmp_path), ["web"]) as served, socket(served.urls.ws, served.token) as sock:
            for message, code, says in BAD:
                await sock.send(message)
                reply = json.loads(await sock.receive())
                assert reply["id"] is None and reply["error"]["code"] == code, (message[:40], reply)
                assert says in reply["error"]["message"]
            # Out of range, however far: a tool error like any other value out of a tool's range.
            await sock.send(big_number_call(5))
            said = tool_error(await answer(sock, 5))
            assert "limit must be <= 10000, got an integer of 401 digits" in said and "00000" not in said
            await sock.send(big_number_call(6, limit=10, since=10**30))
            assert "since must be <= 9007199254740991 (2^53 - 1), got an integer of 31 digits" in tool_error(
                await answer(sock, 6)
            )
            await sock.send(big_number_call(8).replace("1" + "0" * 400, "1e400"))
            assert "limit must be a finite number" in tool_error(await answer(sock, 8))
            # Params the MCP schema refuses: a JSON-RPC error that says what was wrong.
            for request_id, params, says in (
                (9, {"name": "logs_tail", "arguments": [1, 2]}, "arguments must be an object, got array [1, 2]"),
                (10, {"name": "logs_tail", "arguments": "web"}, "arguments must be an object, got string 'web'"),
                (11, {"arguments": {}}, "name is required"),
                (12, {"name": 7}, "name must be a string, got integer 7"),
            ):
                await sock.send(bad_params(request_id, params))
                error = (await answer(sock, request_id))["error"]
                assert error["code"] == -32602 and error["message"] == f"invalid tools/call params: {says}", error
            await sock.send(frame("ping", 7))
            assert (await answer(sock, 7))["result"] == {}  # still connected, still served


async def test_malformed_messages_on_stdio_never_stop_what_the_agent_started(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    agent = await open_raw(project.root)
    try:
        with trio.fail_after(60):
            assert (await agent.request("initialize", 1, **LEGACY))["result"]["serverInfo"]["name"] == "brummer"
            await agent.send(INITIALIZED)
            await agent.request("tools/call", 2, name="scripts_run", arguments={"name": "web"})
            serving_web = {"name": "web", "condition": "url", "timeout_s": 30}
            pid = (await agent.request("tools/call", 5, name="wait_for", arguments=serving_web))["result"][
                "structuredContent"
            ]["process"]["pid"]
            for message, code, says in BAD:
                await agent.send(message)
                error = (await agent.receive())["error"]
                assert error["code"] == code and says in error["message"], (message[:40], error)
            await agent.send(big_number_call(3))
            assert (await agent.receive())["result"]["isError"] is True
            await agent.send("[" * (17 * MiB))  # over the line limit: dropped unread, answered
            error = (await agent.receive())["error"]
            assert error["code"] == -32600 and "too big" in error["message"]
            status = await agent.request("tools/call", 4, name="scripts_status", arguments={"name": "web"})
            assert status["result"]["structuredContent"]["processes"][0]["pid"] == pid and pid_alive(pid)
    finally:
        assert agent.process.stdin is not None
        await agent.process.stdin.aclose()
        with trio.fail_after(30):
            assert await agent.process.wait() == 0


async def test_lines_are_bounded_and_read_once(tmp_path: Path) -> None:
    send, receive = trio.testing.memory_stream_pair()
    lines = Lines(receive, limit=1000)
    await send.send_all(b'{"a": 1}\n' + b"x" * 600)
    assert await lines.next() == '{"a": 1}'
    for _ in range(10):  # a long line arrives in pieces: refused once, as soon as it is over the limit
        await send.send_all(b"y" * 600)
    assert await lines.next() == TooBig(1000)
    await send.send_all(b"z" * 600 + b"\nnext\n")
    assert await lines.next() == "next"
    await send.send_all(b"w" * 5000)
    await send.send_eof()
    assert await lines.next() == TooBig(1000)
    assert await lines.next() is None


async def test_an_oversize_frame_ends_the_connection_even_if_the_client_never_answers_the_close(tmp_path: Path) -> None:
    async with serving(demo_project(tmp_path), ["job"]) as served:
        async with socket(served.urls.ws, served.token, initialized=False) as sock:
            with trio.fail_after(30):
                await sock.send("x" * (17 * MiB))
                while await sock.stream.receive_some(65536):  # the close frame, never answered, then the end
                    pass
        async with served.ws() as client:  # and the server is fine
            assert structured(await client.call_tool("scripts_list", {}))["count"] == 3
