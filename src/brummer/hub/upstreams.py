"""The hub's view of the machine: one ``Upstream`` per running ``brummer up``, kept in step with the registry.

``Upstreams.serve`` reads the registry when it starts and again whenever the registry directory changes
(``RegistryWatch``: inotify) or a connection drops (a ``brummer up`` killed with SIGKILL leaves its entry behind;
reading the registry removes it). Each upstream task keeps one connection to its instance: it reads the tool and
resource lists, then listens to every resource of the instance (``subscriptions/listen``), and passes the updates
on; if the connection drops it tries again after a back-off, until the registry says the instance is gone. An
entry whose address or token changed (the instance's MCP server restarted) is a new upstream.

The hub only relays: it never starts, stops or registers anything itself.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

from brummer import registry
from brummer.errors import ToolError
from brummer.remote.client import ConnectionLost, RpcError, Session, open_session
from brummer.remote.watch import RegistryWatch

RETRY = (0.2, 0.5, 1.0, 2.0, 5.0)  # seconds before connecting again to an instance that is still registered
MAX_PROJECT = 4096  # characters of a `project` argument (a path)
REACH_WAIT = 15.0  # how long a call waits for a registered instance's connection (its MCP server may be starting)

Updated = Callable[["Upstream", str], Awaitable[None]]


class Upstream:
    """One running brummer up and, while connected, the session to it."""

    def __init__(self, entry: registry.Entry, updated: Updated, lost: Callable[[], None]) -> None:
        self.entry = entry
        self.session: Session | None = None
        self.connected = trio.Event()
        self.tools: list[dict[str, Any]] = []
        self.resources: list[dict[str, Any]] = []
        self.problem = ""  # why it is not connected, for projects_list
        self.scope = trio.CancelScope()
        self._updated = updated
        self._lost = lost

    @property
    def project(self) -> Path:
        return self.entry.project

    @property
    def name(self) -> str:
        return self.entry.project.name

    def describe(self) -> str:
        return f"{self.name} ({self.project}, {self.entry.describe()})"

    async def run(self) -> None:
        """Stay connected until cancelled (the instance left the registry, or the hub ends)."""
        with self.scope:
            if not self.entry.connectable:
                # Starting (or without MCP): when that changes, its entry is rewritten and a new upstream starts.
                self.problem = f"its MCP server is {self.entry.mcp}"
                await trio.sleep_forever()
            failures = 0
            while True:
                failures = 0 if await self._connected() else failures + 1
                self._lost()  # read the registry again: a dead instance's entry is removed, and this cancelled
                await trio.sleep(RETRY[min(failures, len(RETRY) - 1)])

    async def _connected(self) -> bool:
        """One connection's life; whether it got as far as being used."""
        assert self.entry.ws is not None and self.entry.token is not None
        used = False
        try:
            async with open_session(self.entry.ws, self.entry.token, on_notification=self._notified) as session:
                self.tools = _listed(await session.request("tools/list"), "tools", "name")
                self.resources = _listed(await session.request("resources/list"), "resources", "uri")
                self.session, self.problem, used = session, "", True
                self.connected.set()
                uris = [str(r["uri"]) for r in self.resources]
                while True:  # a listen stream ends only if the instance drops it (a backlog): listen again
                    await session.request("subscriptions/listen", {"notifications": {"resourceSubscriptions": uris}})
        except (ConnectionLost, RpcError) as exc:
            self.problem = f"not reachable: {exc}"
        finally:
            self.session = None
            self.connected = trio.Event()
        return used

    async def _notified(self, method: str, params: dict[str, Any]) -> None:
        if method == "notifications/resources/updated" and isinstance(params.get("uri"), str):
            await self._updated(self, params["uri"])

    async def reach(self) -> Session:
        """The session, waiting a little for a connection in progress; ``ToolError`` if there is none."""
        if self.session is None:
            with trio.move_on_after(REACH_WAIT):
                await self.connected.wait()
        if self.session is None:
            raise ToolError(f"project {self.describe()} cannot be reached: {self.problem or 'not connected'}")
        return self.session


def _listed(result: Any, key: str, required: str) -> list[dict[str, Any]]:
    """The well-formed items of a ``tools/list`` or ``resources/list`` result."""
    items = result.get(key) if isinstance(result, dict) else None
    return [item for item in items or [] if isinstance(item, dict) and isinstance(item.get(required), str)]


class Upstreams:
    """Every running brummer up of this user, by registry entry."""

    def __init__(self, updated: Updated) -> None:
        self.by_entry: dict[str, Upstream] = {}
        self._updated = updated
        self._dirty = trio.Event()
        self._nursery: trio.Nursery | None = None

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with RegistryWatch() as watch:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self.sync()
                task_status.started()
                while True:
                    await self._changed(watch)
                    self.sync()

    async def _changed(self, watch: RegistryWatch) -> None:
        """Until the registry directory changed or a connection dropped."""
        async with trio.open_nursery() as nursery:

            async def registry_changed() -> None:
                await watch.changed()
                nursery.cancel_scope.cancel()

            async def connection_lost() -> None:
                await self._dirty.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(registry_changed)
            nursery.start_soon(connection_lost)
        self._dirty = trio.Event()

    def sync(self) -> None:
        """Start an upstream for every new brummer up, cancel those of instances that are gone or changed."""
        assert self._nursery is not None
        current = {e.name: e for e in registry.entries() if e.kind is registry.Kind.UP and e.runs}
        for name, upstream in list(self.by_entry.items()):
            entry = current.get(name)
            if entry is None or (entry.mcp, entry.ws, entry.token) != (
                upstream.entry.mcp,
                upstream.entry.ws,
                upstream.entry.token,
            ):
                upstream.scope.cancel()
                upstream.connected.set()  # wakes callers waiting for it: they find no session
                del self.by_entry[name]
        for name, entry in current.items():
            if name not in self.by_entry:
                upstream = self.by_entry[name] = Upstream(entry, self._updated, self._dirty.set)
                self._nursery.start_soon(upstream.run)

    def projects(self) -> list[Upstream]:
        return sorted(self.by_entry.values(), key=lambda up: str(up.project))

    def label(self, upstream: Upstream) -> str:
        """How the hub names a project: its folder's name if no other running project has it, else its path."""
        unique = sum(up.name == upstream.name for up in self.by_entry.values()) == 1
        return upstream.name if unique else str(upstream.project)

    def resolve(self, project: str | None) -> Upstream:
        """The upstream ``project`` names (a path, or a project folder's name); the only one if it is None."""
        ups = self.projects()
        listing = ", ".join(f"{self.label(up)} ({up.project})" for up in ups)
        if project is None:
            if len(ups) == 1:
                return ups[0]
            if not ups:
                raise ToolError("no brummer up is running on this machine; start one in a project with `brummer up`")
            raise ToolError(f"{len(ups)} projects are running: pass `project`, one of: {listing}")
        if len(project) > MAX_PROJECT:
            raise ToolError(f"`project` is a name from projects_list or a path, not {len(project):,} characters")
        if os.sep in project or project.startswith(("~", ".")):
            path = Path(os.path.realpath(os.path.expanduser(project)))
            matches = [up for up in ups if up.project == path]
        else:
            matches = [up for up in ups if up.name == project]
        if len(matches) == 1:
            return matches[0]
        if matches:
            paths = ", ".join(str(up.project) for up in matches)
            raise ToolError(f"several running projects are named {project!r}: pass its path, one of: {paths}")
        raise ToolError(f"no running brummer up for project {project!r}; running: {listing or 'none'}")
