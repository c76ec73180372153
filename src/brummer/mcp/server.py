"""``serve_mcp``: the MCP service of ``brummer up``, one hypercorn (trio worker) server for ``/ws`` and ``/mcp``.

``app._start_mcp`` imports this module in a worker thread after the first child has spawned, because the SDK import
takes about a second; nothing here does work at import time beyond imports.

Order of events: refuse a non-loopback host without ``allow_remote``; bind (port 7777, or the next free one of
``PORT_TRIES``; port 0 means any); start the server and the resource watcher; publish the token and the loopback
addresses in brummer up's registry entry; report ready. The service ends when the bus closes (brummer is shutting
down) or when cancelled, and withdraws the addresses from the entry either way, crash included.

Without a ``registration`` (tests, benchmarks) the service is its own ``brummer up``: it claims the project's lock
and registers, and refuses to start if another brummer runs the project.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import secrets
import socket
from typing import cast

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from hypercorn.typing import ASGIFramework
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from brummer import registry
from brummer.errors import AlreadyRunningError, MCPServerError
from brummer.loopback import is_loopback, mcp_host_refusal
from brummer.mcp import hypercorn_ws
from brummer.mcp.adapter import Subscribers, build_server
from brummer.mcp.asgi import McpApp
from brummer.mcp.bridge import MAX_IN_FLIGHT
from brummer.mcp.frames import MAX_MESSAGE
from brummer.mcp.notes import foreign_logs_to_notes
from brummer.mcp.resources import watch_resources
from brummer.mcp.websocket import SlowReaders
from brummer.runtime import Runtime

PORT_TRIES = 20
APP_QUEUE = 2  # received messages hypercorn holds for one request or WebSocket (each up to MAX_MESSAGE)


async def serve_mcp(
    runtime: Runtime,
    *,
    registration: registry.Registration | None = None,
    port: int | None = None,
    task_status: trio.TaskStatus[registry.McpUrls] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve MCP for ``runtime`` until the bus closes or this is cancelled; reports its ``McpUrls``.

    ``registration`` is brummer up's registry entry; ``port`` overrides the ``mcp_port`` setting.
    """
    settings = runtime.project.settings
    host = settings.mcp_host
    if (refusal := mcp_host_refusal(host, settings.allow_remote)) is not None:
        raise MCPServerError(refusal)
    async with contextlib.AsyncExitStack() as stack:
        if registration is None:
            registration = stack.enter_context(await _claim(runtime))
        await _serve(runtime, registration, settings.mcp_port if port is None else port, task_status)


async def _claim(runtime: Runtime) -> registry.Registration:
    try:
        return await registry.claim(runtime.project.root, registry.Kind.UP, mcp=True)
    except AlreadyRunningError as exc:
        raise MCPServerError(f"not serving MCP: {exc}") from None


async def _serve(
    runtime: Runtime,
    registration: registry.Registration,
    port: int,
    task_status: trio.TaskStatus[registry.McpUrls],
) -> None:
    host = runtime.project.settings.mcp_host
    token = secrets.token_urlsafe(32)
    sock = bind(host, port)
    try:
        address, bound = sock.getsockname()[:2]
        urls = registry.McpUrls.at(host, bound)
        subscribers = Subscribers()
        server = build_server(runtime, subscribers)
        # Host and Origin are checked by our guard, for /mcp and /ws alike; the SDK checks the body size first.
        manager = StreamableHTTPSessionManager(app=server, security_settings=None, max_request_body_size=MAX_MESSAGE)
        slow = SlowReaders(runtime.store.note)
        # The SDK's app is typed with starlette's ASGI types (mutable mappings), hypercorn and our guard with
        # hypercorn's (TypedDicts): the same dicts at run time.
        http = cast(ASGIFramework, manager.handle_request)
        app = McpApp(token, server, http, slow, check_host=is_loopback(host), token_file=registration.path)
        with runtime.bus.subscribe("mcp") as events, foreign_logs_to_notes(runtime.store, token):
            async with manager.run(), trio.open_nursery() as nursery:
                await nursery.start(subscribers.serve)
                config = hypercorn_config(sock.detach())  # hypercorn adopts the bound socket (and closes it)
                await nursery.start(functools.partial(serve, app, config))
                registration.publish_mcp(token, registry.loopback_urls(address, bound), urls)
                runtime.mcp_urls = urls
                task_status.started(urls)
                await watch_resources(runtime, events, subscribers.changed)  # returns when the bus closes
                nursery.cancel_scope.cancel(reason="brummer is shutting down")
    finally:
        sock.close()  # a no-op once hypercorn has it
        runtime.mcp_urls = None
        registration.withdraw_mcp()


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on ``host``: ``port`` or one of the next ``PORT_TRIES - 1`` (0: any free port)."""
    candidates = [0] if port == 0 else range(port, min(port + PORT_TRIES, 65536))
    problem: OSError | None = None
    for candidate in candidates:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            problem = exc
            continue
        return sock
    last = candidates[-1]
    why = problem.strerror if problem is not None else "no port"
    raise MCPServerError(f"no free port for MCP on {host} in {port}-{last} ({why}); choose one with --mcp-port")


def hypercorn_config(fd: int) -> Config:
    """hypercorn's configuration for a server on the bound socket ``fd`` (``scripts/bench_mcp.py`` serves its echo
    baseline with it too)."""
    hypercorn_ws.install()  # frames over the limit are refused before they are buffered; slow readers can be dropped
    config = Config()
    config.bind = [f"fd://{fd}"]
    config.accesslog = None  # URLs may carry ?token=: never log them
    config.errorlog = logging.getLogger("hypercorn.error")
    config.websocket_max_message_size = MAX_MESSAGE
    config.max_app_queue_size = APP_QUEUE
    config.h2_max_concurrent_streams = MAX_IN_FLIGHT  # HTTP/1.1 has one request per connection at a time
    config.graceful_timeout = 1.0
    return config
