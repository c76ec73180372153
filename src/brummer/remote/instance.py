"""Finding and reaching a project's running ``brummer up`` for the remote commands (``brummer ps``, ``logs``, ...).

The project is the nearest directory, from ``--dir`` (default: here) upwards, that a running brummer runs:
``brummer logs`` in ``shop/web/src`` reaches the ``brummer up`` of ``shop``. Only the registry is read (never the
project folder). No such instance, a stale entry (its process is gone: the registry removes it on sight), one
without a reachable MCP server, or one that went away during the command: ``NoInstanceError``, one line that says
what to do, exit code 3. That is to start a ``brummer up``, unless an agent's headless ``brummer mcp`` or a
``brummer smoke`` runs the project: neither has a server to ask, and a ``brummer up`` would be refused, so the line
names it instead. A ``brummer up`` whose MCP server is still starting is waited for (as ``brummer mcp`` does).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from brummer import registry
from brummer.errors import NoInstanceError, ToolError
from brummer.remote.client import ConnectionLost, RpcError, Session, ToolResult, open_session
from brummer.remote.words import in_cli_words

UNKNOWN_DETAIL = "unknown argument 'detail'"  # how an instance from before compact answers refuses ``detail``


def start_hint(directory: Path) -> str:
    here = Path.cwd().resolve()
    return "`brummer up`" if directory == here else f"`brummer up --dir {directory}`"


def real(directory: Path) -> Path:
    return Path(os.path.realpath(directory))


def find(directory: Path) -> registry.Entry | None:
    """The brummer that runs ``directory`` or its nearest ancestor that one runs: a ``brummer up``, or a headless
    ``brummer mcp`` or ``brummer smoke`` (which the caller cannot ask anything)."""
    runners = {entry.project: entry for entry in registry.entries() if entry.runs}
    here = real(directory)
    return next((runners[path] for path in (here, *here.parents) if path in runners), None)


def _serverless(entry: registry.Entry) -> NoInstanceError:
    """A headless ``brummer mcp`` or a ``brummer smoke`` runs the project: what to do instead of a ``brummer up``."""
    if entry.kind is registry.Kind.HEADLESS:
        who = f"an agent's headless brummer mcp (pid {entry.pid}) does, and it has no server to ask"
        advice = "end that agent's session to run `brummer up` here, or let it be"
    else:
        who = f"brummer smoke (pid {entry.pid}) does, and it has no server to ask"
        advice = "it stops everything and exits once its checks are done"
    return NoInstanceError(f"no brummer up runs {entry.project}: {who}; {advice}")


async def locate(directory: Path) -> registry.Entry:
    """The project's brummer up with its MCP server listening; ``NoInstanceError`` if there is none to reach."""
    root = real(directory)
    up = find(root)
    if up is None:
        raise NoInstanceError(f"no brummer up runs {root}; start one with {start_hint(root)}")
    if up.kind is not registry.Kind.UP:
        raise _serverless(up)
    settled = await registry.settled(up)
    if settled is None:
        raise NoInstanceError(f"the brummer up of {up.project} went away; start one with {start_hint(root)}")
    up = settled
    who = f"{up.describe()} runs {up.project}"
    if up.mcp is registry.McpState.OFF:
        raise NoInstanceError(f"{who} without MCP (--no-mcp), which remote commands need; restart it with MCP")
    if up.mcp is registry.McpState.REMOTE:
        raise NoInstanceError(f"{who} but serves MCP only on {up.ws} (--mcp-host); remote commands use loopback")
    if not up.connectable:
        raise NoInstanceError(f"{who} but its MCP server is not up; see its output")
    return up


@contextlib.asynccontextmanager
async def connect(directory: Path) -> AsyncIterator[Instance]:
    """A session with the project's brummer up (``NoInstanceError`` if it cannot be reached, or goes away)."""
    up = await locate(directory)
    assert up.ws is not None and up.token is not None  # connectable
    try:
        async with open_session(up.ws, up.token) as session:
            yield Instance(up, session)
    except ConnectionLost as exc:
        raise NoInstanceError(f"{up.describe()} of {up.project} cannot be reached ({exc}); see its output") from None


async def detailed(session: Session, name: str, arguments: dict[str, Any]) -> ToolResult:
    """The tool's detailed answer: the commands print tables and JSON from every field, so they ask for every
    field of every item (``detail``). An instance from before that argument gets the call without it (its answers
    had every field anyway)."""
    result = await session.tool(name, arguments | {"detail": True})
    if result.is_error and UNKNOWN_DETAIL in result.text:
        result = await session.tool(name, arguments)
    return result


class Instance:
    """A connected brummer up: tool calls whose failures are brummer errors (one line each)."""

    def __init__(self, entry: registry.Entry, session: Session) -> None:
        self.entry = entry
        self.session = session

    async def call(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """The tool's structured answer; ``ToolError`` with its message on one line (in the CLI's words) if it
        failed."""
        result = await self.result(name, arguments)
        if result.is_error:
            process = (arguments or {}).get("name")
            raise ToolError(one_line(in_cli_words(result.text or f"{name} failed", process)))
        return result.data or {}

    async def result(self, name: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        args = {key: value for key, value in (arguments or {}).items() if value is not None}
        try:
            return await detailed(self.session, name, args)
        except RpcError as exc:
            raise ToolError(one_line(f"{name}: {exc}")) from None
        except ConnectionLost:
            raise NoInstanceError(
                f"{self.entry.describe()} of {self.entry.project} went away during {name}; "
                f"start one with {start_hint(self.entry.project)}"
            ) from None

    async def accepts(self, tool: str, argument: str) -> bool:
        """Whether the instance's ``tool`` takes ``argument`` (for arguments newer brummers added)."""
        try:
            listed = await self.session.request("tools/list")
        except (RpcError, ConnectionLost):
            return False
        for spec in listed.get("tools", []) if isinstance(listed, dict) else []:
            if isinstance(spec, dict) and spec.get("name") == tool:
                return argument in (spec.get("inputSchema") or {}).get("properties", {})
        return False


def one_line(text: str) -> str:
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())
