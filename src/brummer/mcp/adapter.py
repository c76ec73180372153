"""The thin SDK adapter: brummer's tools and resources served by the SDK's low-level ``Server``.

The SDK owns the protocol in both eras (initialize/ping/resources/subscribe for 2025-11-25 and older;
server/discover, per-request ``_meta`` and subscriptions/listen for 2026-07-28). This module only translates:
arguments are checked against our schemas, ``ToolError`` becomes an ``isError`` result, ``Answer`` becomes text plus
``structuredContent``, and resource changes reach legacy subscribers (``resources/subscribe``) and modern listen
streams alike. It is the one place that touches SDK types; everything behind it is plain brummer.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
import trio
from mcp.server.caching import CacheableMethod, CacheHint
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ResourceUpdated
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from brummer.errors import ToolError
from brummer.mcp import browser_tools, log_tools, proxy_tools, resources, schemas, tools, waiting
from brummer.mcp.validate import check_arguments, explain
from brummer.runtime import Runtime

RESOURCE_NOT_FOUND = -32002  # 2025-11-25; the 2026-07-28 revision uses INVALID_PARAMS
CACHED: tuple[CacheableMethod, ...] = ("tools/list", "resources/list", "resources/templates/list", "resources/read")
INSTRUCTIONS = (
    "brummer runs this project's dev processes and watches their output. scripts_list names them; scripts_run / "
    "scripts_stop / scripts_restart control them; wait_for blocks until one is ready; logs_tail, logs_search and "
    "errors_list read what they printed (pass `next` back as `since` to follow); urls_list gives their URLs and "
    "the proxy in front of each, whose traffic proxy_requests and proxy_routes show; browser_* tools see and drive "
    "the pages opened through it. Answers are compact (about "
    "2 KB: the main fields of what fits, with counts and cursors for the rest); detail=true gives every field of "
    "every item."
)

TOOL_FUNCTIONS: dict[str, tools.Tool] = {
    "scripts_list": tools.scripts_list,
    "scripts_run": tools.scripts_run,
    "scripts_stop": tools.scripts_stop,
    "scripts_restart": tools.scripts_restart,
    "scripts_status": tools.scripts_status,
    "logs_tail": log_tools.logs_tail,
    "logs_search": log_tools.logs_search,
    "errors_list": tools.errors_list,
    "urls_list": tools.urls_list,
    "proxy_requests": proxy_tools.proxy_requests,
    "proxy_routes": proxy_tools.proxy_routes,
    "wait_for": waiting.wait_for,
    "browser_sessions": browser_tools.browser_sessions,
    "browser_events": browser_tools.browser_events,
    "browser_reload": browser_tools.browser_reload,
    "browser_navigate": browser_tools.browser_navigate,
    "browser_eval": browser_tools.browser_eval,
}
TOOL_MODELS = [
    types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=spec.input,
        output_schema=spec.output,
        annotations=types.ToolAnnotations.model_validate(spec.annotations),
    )
    for spec in schemas.TOOLS
]


def _result(text: str, data: dict[str, Any] | None = None, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=data, is_error=error
    )


class Subscribers:
    """Who wants to hear about which resource: handshake-era sessions and 2026-era listen streams.

    Listen streams hear through the SDK's bus, which never blocks. Each handshake-era connection has its own
    ``_Delivery``: a task that sends its pending notifications, so a client that stops reading (or a Streamable HTTP
    session whose event stream is not read) delays only itself, and ``changed`` never waits for anyone.
    """

    def __init__(self) -> None:
        self.legacy: dict[Connection, _Delivery] = {}
        self.bus = InMemorySubscriptionBus()
        self._nursery: trio.Nursery | None = None

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the connections' delivery tasks until cancelled (subscriptions need it started)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                task_status.started()
                await trio.sleep_forever()
            finally:
                self._nursery = None

    def add(self, connection: Connection, uri: str) -> None:
        delivery = self.legacy.get(connection)
        if delivery is None:
            if self._nursery is None:
                raise MCPError(types.INTERNAL_ERROR, "brummer is shutting down: no new subscriptions")
            delivery = self.legacy[connection] = _Delivery(connection)
            self._nursery.start_soon(delivery.run)
            connection.exit_stack.callback(self._gone, connection)
        delivery.wanted.add(uri)

    def remove(self, connection: Connection, uri: str) -> None:
        if (delivery := self.legacy.get(connection)) is not None:
            delivery.wanted.discard(uri)

    def _gone(self, connection: Connection) -> None:
        if (delivery := self.legacy.pop(connection, None)) is not None:
            delivery.scope.cancel()

    async def changed(self, uris: list[str]) -> None:
        for uri in uris:
            await self.bus.publish(ResourceUpdated(uri))
        for delivery in self.legacy.values():
            delivery.post(uris)


class _Delivery:
    """One connection's resource notifications: a set of pending URIs (one entry per resource however often it
    changed, so it stays small) and the task that sends them."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.wanted: set[str] = set()
        self.pending: dict[str, None] = {}  # an ordered set
        self.scope = trio.CancelScope()
        self._wake = trio.Event()

    def post(self, uris: list[str]) -> None:
        for uri in uris:
            if uri in self.wanted:
                self.pending[uri] = None
        if self.pending:
            self._wake.set()

    async def run(self) -> None:
        with self.scope:
            while True:
                await self._wake.wait()
                self._wake = trio.Event()
                while self.pending:
                    uri = next(iter(self.pending))
                    del self.pending[uri]
                    await self.connection.send_resource_updated(uri)


def _connection(ctx: ServerRequestContext[Any, Any]) -> Connection:
    # The SDK hands handlers a per-request session; the connection (whose exit_stack tells us when the client
    # leaves) is only reachable through it: SDK 2.3 has no public way (``Context.connection`` exists, but handlers
    # get a ``ServerRequestContext``). One private attribute, read in one place; hence the exact pin of ``mcp``
    # in pyproject.toml.
    return ctx.session._connection


def build_server(runtime: Runtime, subscribers: Subscribers) -> Server[Any]:
    """An SDK ``Server`` over ``runtime``: one per MCP service run (its session manager runs only once)."""

    async def list_tools(ctx: ServerRequestContext[Any, Any], params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=TOOL_MODELS)

    async def call_tool(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> Any:
        spec = schemas.TOOLS_BY_NAME.get(params.name)
        if spec is None:
            known = ", ".join(schemas.TOOLS_BY_NAME)
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {params.name!r} (tools: {known})")
        arguments, problems = check_arguments(spec.input, params.arguments)
        if problems:
            return _result(f"invalid arguments for {spec.name}: " + "; ".join(problems), error=True)
        if spec.name == "wait_for":

            async def progress(done: float, total: float | None, message: str) -> None:
                await ctx.session.report_progress(round(done, 3), total, message)

            arguments["progress"] = progress
        try:
            answer = await TOOL_FUNCTIONS[spec.name](runtime, **arguments)
        except ToolError as exc:
            return _result(str(exc), error=True)
        return _result(answer.text, answer.data)

    async def list_resources(ctx: ServerRequestContext[Any, Any], params: Any) -> types.ListResourcesResult:
        found = [
            types.Resource(uri=r.uri, name=r.name, description=r.description, mime_type="application/json")
            for r in resources.RESOURCES
        ]
        found += [
            types.Resource(
                uri=resources.log_uri(name),
                name=f"logs/{name}",
                description=resources.LOGS_DESCRIPTION,
                mime_type="application/json",
            )
            for name in runtime.supervisor.names()
        ]
        return types.ListResourcesResult(resources=found)

    async def list_templates(ctx: ServerRequestContext[Any, Any], params: Any) -> types.ListResourceTemplatesResult:
        template = types.ResourceTemplate(
            uri_template=resources.LOGS_TEMPLATE,
            name="logs",
            description=resources.LOGS_DESCRIPTION,
            mime_type="application/json",
        )
        return types.ListResourceTemplatesResult(resource_templates=[template])

    async def read_resource(
        ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        try:
            text = resources.read(runtime, uri)
        except resources.UnknownResource as exc:
            raise _not_found(ctx, exc) from None
        contents = types.TextResourceContents(uri=uri, mime_type="application/json", text=text)
        return types.ReadResourceResult(contents=[contents])

    async def subscribe(ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams) -> types.EmptyResult:
        uri = str(params.uri)
        try:
            resources.check_uri(runtime, uri)
        except resources.UnknownResource as exc:
            raise _not_found(ctx, exc) from None
        subscribers.add(_connection(ctx), uri)
        return types.EmptyResult()

    async def unsubscribe(
        ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        subscribers.remove(_connection(ctx), str(params.uri))
        return types.EmptyResult()

    server: Server[Any] = Server(
        "brummer",
        version=runtime.version,
        instructions=INSTRUCTIONS,
        cache_hints={method: CacheHint(ttl_ms=0) for method in CACHED},
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
        on_subscriptions_listen=ListenHandler(subscribers.bus),
    )
    # Instead of the default, no-op OpenTelemetry middleware (it costs time per message; we do not trace).
    server.middleware = [explain_invalid_params]
    return server


async def explain_invalid_params(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """The SDK answers params that fail the MCP schema (``arguments`` not an object, ``name`` not a string) with
    a bare "Invalid request parameters": say which field and why instead (one pass over the errors, only then)."""
    try:
        return await call_next(ctx)
    except ValidationError as exc:
        if ctx.request_id is None:  # a notification: nobody to answer
            raise
        raise MCPError(types.INVALID_PARAMS, f"invalid {ctx.method} params: {explain(exc.errors())}") from None


def _not_found(ctx: ServerRequestContext[Any, Any], exc: Exception) -> MCPError:
    code = types.INVALID_PARAMS if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS else RESOURCE_NOT_FOUND
    return MCPError(code, str(exc))
