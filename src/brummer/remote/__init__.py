"""Talking to a running ``brummer up`` from outside: the remote commands and the hub's connections.

::

    websocket.py  a minimal RFC 6455 client on trio streams (no wsproto/h11: it must import fast)
    client.py     JSON-RPC over it in the stateless 2026-07-28 MCP era: requests by id, notifications
    instance.py   finding the project's brummer up in the registry (exit 3 if none), tool calls as brummer errors
    watch.py      waking when the registry directory changes (inotify, else a cheap mtime poll)
    commands.py   ps, start/stop/restart, errors, urls, requests, wait; show.py prints their answers
    logs.py       brummer logs, and following a log across reconnections

Stdlib and trio only: no SDK, rich, hypercorn or httpx. The tools called are the ones an agent calls.
"""
