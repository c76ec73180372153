"""``brummer mcp --all``: one stdio MCP server (the SDK's low-level ``Server``) relaying to every running project.

Tools are an instance's tools (as the instances list them; brummer's own schemas until one is connected), each
with an optional ``project`` argument, plus ``projects_list``. A call goes to the project named (a path, or the
project folder's name when no other running project has it), or to the only one running; with several running
and none named, or a project that is gone, the answer is a tool error that lists the running ones. An instance that
goes away during a call gives a tool error naming it. ``wait_for``'s progress notifications pass through.

Resources are the instances' resources with the project in a query: ``brummer://processes?project=shop`` (the
name, or the URL-quoted path when names collide); ``brummer://logs/{name}{?project}`` is the template. Without
``project`` the URI means the only running project. Subscriptions (``resources/subscribe``, and 2026-era
``subscriptions/listen``) are served by the hub; it listens to every resource of every instance and announces an
update under each URI that can name it (name, path, and the bare URI while only one project runs).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any
from urllib.parse import parse_qs, quote

import mcp_types as types
import trio
from mcp.server.caching import CacheHint
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.subscriptions import ListenHandler
from mcp.shared.exceptions import MCPError

from brummer import __version__
from brummer.errors import ToolError
from brummer.hub.tools import PROJECTS_LIST, TEMPLATE, hub_tools, projects_answer
from brummer.hub.upstreams import Upstream, Upstreams
from brummer.mcp.adapter import CACHED, RESOURCE_NOT_FOUND, Subscribers, _connection, explain_invalid_params
from brummer.mcp.bridge import serve_messages
from brummer.mcp.stdio_lines import Lines, claim_stdio
from brummer.remote.client import ConnectionLost, RpcError

INSTRUCTIONS = (
    "brummer's hub reaches every project that a `brummer up` runs on this machine. projects_list names them; every "
    "other tool is brummer's own (scripts_list, scripts_run, wait_for, logs_tail, errors_list, ...) with a "
    "`project` argument: the project's name from projects_list, or its path (optional while only one runs)."
)


def _result(text: str, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)


def split_uri(uri: str) -> tuple[str, str | None]:
    """``brummer://logs/web?project=shop`` → (``brummer://logs/web``, ``shop``)."""
    base, mark, query = uri.partition("?")
    if not mark:
        return uri, None
    values = parse_qs(query).get("project")
    return base, values[0] if values else None


def hub_uri(base: str, label: str) -> str:
    return f"{base}?project={quote(label, safe='/')}"


class Hub:
    """The relay: the upstreams, and what the server's handlers do with them."""

    def __init__(self) -> None:
        self.subscribers = Subscribers()
        self.upstreams = Upstreams(self.updated)

    async def updated(self, upstream: Upstream, uri: str) -> None:
        """An instance's resource changed: announce it under every URI a client may have subscribed to."""
        uris = [hub_uri(uri, str(upstream.project))]
        if self.upstreams.label(upstream) == upstream.name:
            uris.append(hub_uri(uri, upstream.name))
        if len(self.upstreams.by_entry) == 1:
            uris.append(uri)
        await self.subscribers.changed(uris)

    async def call_tool(self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> Any:
        arguments = dict(params.arguments or {})
        project = arguments.pop("project", None)
        if params.name == PROJECTS_LIST:
            text, data = projects_answer(self.upstreams, time.time())
            return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=data)
        if project is not None and not isinstance(project, str):
            return _result(
                "invalid arguments: `project` must be a string (a name from projects_list, or a path)", error=True
            )
        try:
            upstream = self.upstreams.resolve(project)
            session = await upstream.reach()
        except ToolError as exc:
            return _result(str(exc), error=True)

        async def progress(done: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(done, total, message)

        try:
            result = await session.tool(params.name, arguments, progress=progress)
        except ConnectionLost:
            return _result(
                f"project {upstream.describe()} went away during {params.name}; projects_list shows what runs now",
                error=True,
            )
        except RpcError as exc:
            raise MCPError(exc.code, str(exc)) from None
        raw = {key: value for key, value in result.raw.items() if key not in ("_meta", "resultType")}
        return types.CallToolResult.model_validate(raw)

    async def list_tools(self, ctx: ServerRequestContext[Any, Any], params: Any) -> types.ListToolsResult:
        upstream_tools = [tool for up in self.upstreams.projects() for tool in up.tools]
        return types.ListToolsResult(tools=[types.Tool.model_validate(t) for t in hub_tools(upstream_tools)])

    async def list_resources(self, ctx: ServerRequestContext[Any, Any], params: Any) -> types.ListResourcesResult:
        found = []
        for up in self.upstreams.projects():
            label = self.upstreams.label(up)
            for resource in up.resources:
                item = {**resource, "uri": hub_uri(resource["uri"], label), "name": f"{label}: {resource.get('name')}"}
                found.append(types.Resource.model_validate(item))
        return types.ListResourcesResult(resources=found)

    async def list_templates(
        self, ctx: ServerRequestContext[Any, Any], params: Any
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=[types.ResourceTemplate.model_validate(TEMPLATE)])

    async def read_resource(
        self, ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        base, project = split_uri(uri)
        try:
            upstream = self.upstreams.resolve(project)
            result = await (await upstream.reach()).request("resources/read", {"uri": base})
        except ToolError as exc:
            raise MCPError(RESOURCE_NOT_FOUND, str(exc)) from None
        except ConnectionLost:
            raise MCPError(RESOURCE_NOT_FOUND, f"project {upstream.describe()} went away") from None
        except RpcError as exc:
            raise MCPError(exc.code, str(exc)) from None
        contents = [{**c, "uri": uri} for c in result.get("contents", []) if isinstance(c, dict)]
        return types.ReadResourceResult.model_validate({"contents": contents})

    async def subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        try:
            self.upstreams.resolve(split_uri(str(params.uri))[1])
        except ToolError as exc:
            raise MCPError(RESOURCE_NOT_FOUND, str(exc)) from None
        self.subscribers.add(_connection(ctx), str(params.uri))
        return types.EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        self.subscribers.remove(_connection(ctx), str(params.uri))
        return types.EmptyResult()

    def server(self) -> Server[Any]:
        server: Server[Any] = Server(
            "brummer-hub",
            version=__version__,
            instructions=INSTRUCTIONS,
            cache_hints={method: CacheHint(ttl_ms=0) for method in CACHED},
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
            on_list_resources=self.list_resources,
            on_list_resource_templates=self.list_templates,
            on_read_resource=self.read_resource,
            on_subscribe_resource=self.subscribe,
            on_unsubscribe_resource=self.unsubscribe,
            on_subscriptions_listen=ListenHandler(self.subscribers.bus),
        )
        server.middleware = [explain_invalid_params]  # (as the instances have: no tracing)
        return server


async def serve_hub() -> int:
    """Serve on stdin/stdout until stdin closes (exit 0)."""
    hub = Hub()
    async with trio.open_nursery() as nursery:
        await nursery.start(hub.subscribers.serve)  # handshake-era subscribers' deliveries
        await nursery.start(hub.upstreams.serve)
        with claim_stdio() as (stdin, stdout):

            async def send(text: str) -> None:
                with contextlib.suppress(trio.BrokenResourceError):  # the agent closed our stdout; its EOF follows
                    await stdout.send_all(text.encode() + b"\n")

            await serve_messages(hub.server(), Lines(stdin).next, send)
        nursery.cancel_scope.cancel()
    return 0
