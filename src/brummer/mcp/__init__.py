"""MCP for agents: brummer's state and controls over WebSocket, Streamable HTTP and stdio.

::

    server.py     serve_mcp: the brummer up service (port, hypercorn, resource watcher, its registry entry)
    asgi.py       the guard (Host, Origin, token) and the routes /ws, /mcp
    websocket.py  the WebSocket <-> SDK-streams bridge
    stdio.py      brummer mcp: relay to a running brummer up, or (headless.py) a supervisor of its own on stdio;
                  stdio_lines.py: stdin/stdout as a line channel for the protocol alone
    adapter.py    the only module that speaks SDK: tools, resources, subscriptions in both eras
    tools.py      the tools as plain async functions over the Runtime (log_tools.py: logs_tail, logs_search;
                  waiting.py: wait_for; proxy_tools.py: proxy_requests, proxy_routes)
    resources.py  resource documents and the coalescing change watcher
    schemas.py    input and output JSON Schemas; validate.py checks arguments
    text.py       the short text answers and the size budgets (compact answers: 2 KB; ``detail`` for all)

Nothing here is imported on the way to the first child: ``app._start_mcp`` imports ``server`` in a worker thread.
"""
