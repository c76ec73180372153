"""``brummer mcp``: MCP on stdio, for agents that launch a command rather than connect to a URL.

If a ``brummer up`` runs this project (a believed entry in the instance registry, see ``brummer.registry``), relay:
each stdin line becomes one WebSocket text frame to its loopback ``/ws`` with the token, each frame one stdout
line. The relay speaks no MCP itself, so both eras pass through untouched, and it never imports the SDK (it starts
in a fraction of a second). A ``brummer up`` whose MCP server is still starting is waited for (woken by the lock it
holds meanwhile). Nothing in the project folder is read for this: a cloned repository cannot redirect the agent.

Otherwise run the project headless: the same bus, store, spawner, guardian, reaper and supervisor as ``brummer up``
(with nothing started until the agent asks), and the SDK server on stdin/stdout. When stdin closes the agent is
gone: stop every process it started, then exit.

Nothing but protocol messages is written to stdout: diagnostics go to stderr, foreign log records become notes, and
while the SDK serves it points fd 1 at stderr so a stray print cannot corrupt the stream.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import trio

from brummer import registry
from brummer.config import ProjectSpec, discover_project
from brummer.mcp.frames import TooBig
from brummer.mcp.stdio_lines import Lines, claim_stdio

MAX_MESSAGE = 32 * 1024 * 1024  # a log dump of 16 MiB fits with room for its JSON escaping


async def run_stdio(directory: Path) -> int:
    """Relay to the project's running brummer up, or serve it headless; returns the exit code."""
    project = discover_project(directory)
    up = registry.find_up(project.root)
    if up is None:
        return await serve_headless(project)
    settled = await registry.settled(up)
    if settled is None:  # it went away while we waited for its MCP server: the project is free
        return await serve_headless(project)
    up = settled
    who = f"{up.describe()} runs this project"
    if up.mcp is registry.McpState.OFF:
        _say(f"{who} without MCP (--no-mcp); restart it with MCP")
        return 1
    if up.mcp is registry.McpState.REMOTE:
        _say(f"{who} but serves MCP only on {up.ws} (--mcp-host); brummer mcp relays over loopback only")
        return 1
    if not up.connectable:
        _say(f"{who} but its MCP server did not come up; see its output")
        return 1
    code = await relay(up)
    if code is None:
        _say(f"{who} but cannot be reached at {up.ws}; see its output")
        return 1
    return code


def _say(message: str) -> None:
    print(f"brummer mcp: {message}", file=sys.stderr, flush=True)


async def relay(found: registry.Entry) -> int | None:
    """Pump stdin lines to the instance's /ws and frames back; None if it cannot be reached."""
    from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

    assert found.ws is not None and found.token is not None  # connectable
    headers = [(b"authorization", f"Bearer {found.token}".encode())]
    connected = gone = False
    try:
        async with open_websocket_url(
            found.ws, subprotocols=["mcp"], extra_headers=headers, max_message_size=MAX_MESSAGE
        ) as ws:
            connected = True
            with claim_stdio() as (stdin, stdout):
                lock = trio.Lock()  # stdout carries the server's frames and our own errors, one whole line at a time

                async def write(frame: str | bytes) -> None:
                    async with lock:
                        await stdout.send_all((frame if isinstance(frame, bytes) else frame.encode()) + b"\n")

                def went_away() -> None:
                    nonlocal gone
                    if not gone:
                        _say("brummer up went away; exiting")
                    gone = True

                async with trio.open_nursery() as nursery:

                    async def frames_to_stdout() -> None:
                        try:
                            while True:
                                await write(await ws.get_message())
                        except ConnectionClosed:
                            went_away()
                        except trio.BrokenResourceError:
                            pass  # the agent closed our stdout
                        nursery.cancel_scope.cancel()

                    nursery.start_soon(frames_to_stdout)
                    lines = Lines(stdin)
                    while (line := await lines.next()) is not None:
                        if isinstance(line, TooBig):  # answered here, as the server would
                            with contextlib.suppress(trio.BrokenResourceError):
                                await write(line.error())
                            continue
                        try:
                            await ws.send_message(line)
                        except ConnectionClosed:  # either direction may be the first to find brummer up gone
                            went_away()
                            break
                    nursery.cancel_scope.cancel()
    except (HandshakeError, OSError) as exc:
        if connected:
            raise
        _say(f"cannot reach {found.ws}: {exc}")
        return None
    return 1 if gone else 0


async def serve_headless(project: ProjectSpec) -> int:
    """The project's supervisor with nothing started, served over stdio (imports the SDK)."""
    from brummer.mcp.headless import serve_headless as serve

    return await serve(project)
