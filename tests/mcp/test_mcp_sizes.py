"""What an agent pays: the size of ``tools/list`` and of every tool's default answer, on a busy project.

The project has several real processes (two dev servers behind the recording proxy, a worker, a one-shot job, one
never started), URLs, requests through the proxy, a few hundred log lines and errors captured from real tools
(tsc, Python, Node), so every answer has more to say than fits. Sizes are measured as they travel: ``tools/list``
as the JSON-RPC frame the server sends, an answer as its text plus its ``structuredContent`` (compact JSON, UTF-8).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import httpx
import mcp_types as types
import trio
from helpers_mcp import Served, serving, structured, text_of
from mcp import Client
from test_mcp_protocol import LEGACY, exchange, raw_ws

from brummer.logs.kinds import Stream
from brummer.logs.reading import ShownLine
from brummer.mcp import schemas, text
from helpers import PY, load, poll, wait_until, write_project

FIXTURES = Path(__file__).parent.parent / "fixtures" / "errors"
SERVER = """
import http.server, os, sys
name = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        status = 500 if self.path.startswith("/boom") else 404 if self.path.startswith("/missing") else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        print(f"{name}: {self.command} {self.path}", flush=True)
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(f"  Local:   http://localhost:{server.server_port}/", flush=True)
exec(open("chatter.py").read())
open(name + ".tmp", "w").write(str(server.server_port))
os.rename(name + ".tmp", name + ".port")
server.serve_forever()
"""
CHATTER = """
import sys, time
for i in range(150):
    print(f"{sys.argv[1]} step {i}: compiled module {i} of 150 in {i % 7 + 1} ms, cache warm", flush=True)
for path in sys.argv[2:]:
    stream = sys.stderr if path.endswith("-stderr.txt") else sys.stdout
    stream.write(open(path).read())
    stream.flush()
"""
WORKER = "exec(open('chatter.py').read())\nimport time\ntime.sleep(300)\n"
# The one parameter list of each tool: a schema may get shorter, but an agent never loses a parameter.
PARAMETERS = {
    "scripts_list": set(),
    "scripts_run": {"name"},
    "scripts_stop": {"name"},
    "scripts_restart": {"name"},
    "scripts_status": {"name"},
    "logs_tail": {"name", "since", "limit", "stream", "level", "max_line_chars"},
    "logs_search": {"pattern", "name", "since", "limit", "ignore_case", "max_line_chars"},
    "errors_list": {"name", "since", "limit", "include_resolved"},
    "urls_list": set(),
    "proxy_requests": {"name", "status", "method", "path", "since", "limit", "headers"},
    "proxy_routes": {"name", "limit"},
    "wait_for": {"name", "condition", "pattern", "timeout_s"},
}


def busy_project(tmp_path: Path) -> Path:
    def fixtures(*names: str) -> str:
        return " ".join(f'"{FIXTURES / name}"' for name in names)

    return write_project(
        tmp_path / "shop",
        **{"server.py": SERVER, "chatter.py": CHATTER, "worker.py": WORKER},
        brummer_toml=f"""
        default = ["web", "api", "worker"]
        [processes.web]
        cmd = '{PY} -u server.py web {fixtures("typescript/tsc5-pretty.txt")}'
        grace = 1
        [processes.api]
        cmd = '{PY} -u server.py api {fixtures("python/py311-app-stderr.txt", "python/py311-chained-stderr.txt")}'
        grace = 1
        [processes.worker]
        cmd = '{PY} -u worker.py worker {fixtures("node/node20-typeerror-stderr.txt", "node/node20-server-stderr.txt")}'
        ready = "none"
        grace = 1
        [processes.job]
        cmd = "echo migrating; echo done; exit 3"
        ready = "none"
        [processes.idle]
        cmd = "sleep 300"
        ready = "none"
        grace = 1
        """,
    )


def answer_size(result: types.CallToolResult) -> int:
    """Text plus structuredContent, as they travel (UTF-8; structuredContent as compact JSON)."""
    data = json.dumps(structured(result), ensure_ascii=False, separators=(",", ":"))
    return len(text_of(result).encode()) + len(data.encode())


async def tools_list_size(served: Served) -> tuple[int, int]:
    """The whole ``tools/list`` answer as sent, and what it would be without the browser tools (issue 8's budget
    was set before them)."""
    async with raw_ws(served) as ws:
        await exchange(ws, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": LEGACY}))
        await ws.send_message(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        await ws.send_message(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        frame = await ws.get_message()
    answer = json.loads(frame)
    tools = answer["result"]["tools"]
    assert len(tools) == len(schemas.TOOLS)
    browser = sum(
        len(json.dumps(t, separators=(",", ":")).encode()) + 1 for t in tools if t["name"].startswith("browser_")
    )
    whole = len(frame.encode() if isinstance(frame, str) else frame)
    return whole, whole - browser


async def busy(served: Served, client: Client) -> None:
    """Every process has said its piece, the errors are grouped, and requests went through both proxies."""
    for name in ("web", "api"):
        assert (await client.call_tool("wait_for", {"name": name, "condition": "ready"})).structured_content
    await client.call_tool("scripts_run", {"name": "job"})
    await client.call_tool("wait_for", {"name": "job", "condition": "exited"})
    assert served.runtime.proxy is not None
    async with httpx.AsyncClient(timeout=30) as http:
        for process in ("web", "api"):
            (url,) = served.runtime.store.urls()[process]
            proxied = served.runtime.proxy_url(process, url)
            assert proxied is not None
            for path in ("/", "/api/items/1", "/api/items/2", "/boom", "/missing/page", "/assets/app.js?v=3"):
                await http.get(proxied.rstrip("/") + path)
    # a multi-line group is finished once its stream is quiet
    await poll(lambda: client.call_tool("errors_list", {}), lambda r: structured(r)["total"] >= 9, every=0.1)
    proxy = served.runtime.proxy
    assert proxy is not None
    await wait_until(lambda: len(list(proxy.recorder.records())) >= 12)


DEFAULT_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("scripts_list", {}),
    ("scripts_status", {}),
    ("scripts_run", {"name": "idle"}),
    ("scripts_restart", {"name": "idle"}),
    ("scripts_stop", {"name": "idle"}),
    ("logs_tail", {}),
    ("logs_search", {"pattern": "error"}),
    ("errors_list", {}),
    ("urls_list", {}),
    ("proxy_requests", {}),
    ("proxy_routes", {}),
    ("wait_for", {"name": "web", "condition": "ready"}),
]


LISTS = {  # tool: the key of its items, and what identifies one
    "scripts_list": ("processes", "name"),
    "scripts_status": ("processes", "name"),
    "errors_list": ("errors", "id"),
    "urls_list": ("urls", "url"),
    "proxy_requests": ("requests", "id"),
    "proxy_routes": ("routes", "route"),
    "logs_tail": ("lines", "seq"),
    "logs_search": ("lines", "seq"),
}


async def compact_and_detailed(client: Client) -> None:
    """A compact answer is a part of the detailed one: the first items (the newest lines of a tail), each with some
    of its fields; what it left out is counted (``more``) or reachable by a cursor (``earlier``)."""
    for tool, arguments in DEFAULT_CALLS:
        if tool not in LISTS:
            continue
        key, identity = LISTS[tool]
        compact = structured(await client.call_tool(tool, arguments))
        full = structured(await client.call_tool(tool, arguments | {"detail": True}))
        brief, whole = compact[key], full[key]
        if key == "lines":  # a tail keeps the newest lines
            whole = whole[len(whole) - len(brief) :]
            assert compact["earlier"]["limit"] + len(brief) == len(full[key]) == full["count"], tool
        else:
            assert len(brief) + compact.get("more", 0) == len(whole), tool
            whole = whole[: len(brief)]
        assert [row[identity] for row in brief] == [row[identity] for row in whole], tool
        assert all(set(b) <= set(w) for b, w in zip(brief, whole, strict=True)), tool
        assert len(json.dumps(full)) >= len(json.dumps(compact)), tool
    errors = structured(await client.call_tool("errors_list", {}))
    assert errors["more"] and all("lines" not in group for group in errors["errors"])


async def paging_on(client: Client) -> None:
    """Reading forward, a compact answer's ``next`` continues exactly after what it showed: page after page, every
    item once, none left out."""
    for tool, key, identity, arguments in (
        ("proxy_requests", "requests", "id", {}),
        ("logs_search", "lines", "seq", {"pattern": "compiled"}),
    ):
        seen: list[int] = []
        since, pages = 0, 0
        while page := structured(await client.call_tool(tool, arguments | {"since": since})):
            if not page[key]:
                break
            seen += [row[identity] for row in page[key]]
            since, pages = page["next"], pages + 1
        everything = structured(await client.call_tool(tool, arguments | {"since": 0, "limit": 1000, "detail": True}))
        assert seen == [row[identity] for row in everything[key]] and pages > 1, tool
    assert len(seen) == 450  # every "compiled" line of web, api and worker


async def test_tools_list_and_default_answers_fit_their_budgets(tmp_path: Path) -> None:
    sizes: dict[str, int] = {}
    with trio.fail_after(120):
        async with serving(load(busy_project(tmp_path), proxy_base_port=0), proxy=True) as served:
            sizes["tools/list"], without_browser = await tools_list_size(served)
            async with served.ws() as client:
                await busy(served, client)
                for tool, arguments in DEFAULT_CALLS:
                    sizes[tool] = answer_size(await client.call_tool(tool, arguments))
                await compact_and_detailed(client)
                await paging_on(client)
    print("\n".join(f"{name}: {size:,} bytes" for name, size in sizes.items()))
    assert sizes.pop("tools/list") <= schemas.TOOLS_LIST_BYTES
    assert without_browser <= schemas.CORE_TOOLS_LIST_BYTES
    assert {tool: size for tool, size in sizes.items() if size > text.ANSWER_BYTES} == {}


def test_no_tool_lost_a_parameter() -> None:
    for tool, parameters in PARAMETERS.items():
        assert parameters <= set(schemas.TOOLS_BY_NAME[tool].input["properties"]), tool


class Watched(Sequence[ShownLine]):
    """Lines that remember which of them were looked at."""

    def __init__(self, lines: list[ShownLine]) -> None:
        self.lines = lines
        self.looked_at: set[int] = set()

    def __len__(self) -> int:
        return len(self.lines)

    @overload
    def __getitem__(self, index: int) -> ShownLine: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[ShownLine]: ...
    def __getitem__(self, index: int | slice) -> ShownLine | Sequence[ShownLine]:
        if isinstance(index, slice):
            raise AssertionError("lines_text reads lines one by one")
        self.looked_at.add(index % len(self.lines))
        return self.lines[index]


def test_the_text_of_a_long_answer_formats_only_what_it_keeps() -> None:
    """Before: every line of a 5,000-line answer was formatted (~7 ms), then all but ~2 KB of them thrown away."""
    lines = [ShownLine(seq, 0.0, "web", Stream.STDOUT, 1, f"line {seq} " + "x" * 70, "info") for seq in range(1, 5001)]
    for forward in (False, True):
        watched = Watched(lines)
        said = text.lines_text(watched, next_cursor=5000, gap=0, forward=forward)
        shown = [row for row in said.splitlines() if row[0].isdigit()]
        assert 10 < len(shown) < 40 and len(said) <= text.BUDGET
        assert shown[0 if forward else -1].startswith("1 [web]" if forward else "5000 [web]")
        assert len(watched.looked_at) <= len(shown) + 2  # the rows it shows, and the cursors of its notes
