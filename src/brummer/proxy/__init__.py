"""brummer's recording reverse proxy: one listener on 127.0.0.1 per dev server a process announces.

``targets`` (ports), ``server`` (listeners, ``Site``), ``http1`` (the relay), ``messages`` (heads), ``upstream``
(connections, pool, waiting for a restart), ``websocket`` (upgrades), ``recorder`` (rings, events), ``queries``
(filters and route statistics for MCP), ``pages`` (502 and refusals), ``hooks`` (seams), ``service`` (wiring).
"""
