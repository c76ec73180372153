"""Browser telemetry: what happens inside the pages the proxy serves.

``inject`` (the proxy hooks: a script tag into HTML heads as they stream, CSP respected), ``client.js`` (the page's
side: errors, console, failed requests, Vite's overlay, timing; the commands), ``routes`` (``/__brummer__/``:
the script and its WebSocket, own origin only), ``frames`` (that WebSocket's frames), ``telemetry`` (sessions, events,
commands), ``page_errors`` (events into error groups, and their resolution), ``stacks`` + ``sourcemaps`` (stack
locations mapped to the original files).
"""
