"""The proxy service and the ``Proxy`` object the rest of brummer reads (``runtime.proxy``).

``Proxy`` outlives the service task: it is made before the services start (so the printer can show a proxy URL
next to the first URL line; it imports nothing heavy) and holds the targets with their ports, the recorder with its
rings, and one ``Site`` per target. ``serve_proxy`` is the service: it listens for configured targets from the start
and for every URL a process announces as it appears (it wakes on the store's URL changes, not on the bus: a log
flood costs it nothing), and runs one accept loop per target until cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import trio

from brummer.proxy.recorder import RING, Recorder
from brummer.proxy.targets import Target, Targets

if TYPE_CHECKING:
    from brummer.bus import Bus
    from brummer.config.spec import ProjectSpec
    from brummer.logs.store import LogStore
    from brummer.proxy.hooks import LocalHandler, ProxyHooks
    from brummer.proxy.server import Site
    from brummer.supervise.supervisor import Supervisor

WAIT = 10.0  # seconds a request waits for a restarting process before the 502 page


class Instance(Protocol):
    """What the proxy reads of the running instance (``runtime.Runtime`` is one): the processes' states (only when
    an upstream refuses) and the store's URLs. A protocol, so that the runtime, which holds the ``Proxy``, and the
    proxy do not import each other."""

    @property
    def supervisor(self) -> Supervisor: ...

    @property
    def store(self) -> LogStore: ...


class Proxy:
    """Targets and their proxy URLs, the recorded requests, and the per-target sites."""

    def __init__(
        self, project: ProjectSpec, bus: Bus, store: LogStore | None, *, ring: int = RING, wait: float = WAIT
    ) -> None:
        self.targets = Targets(project.processes, project.settings.proxy_base_port)
        self.recorder = Recorder(bus, store, ring)
        self.store = store
        self.wait = wait
        self.hooks: ProxyHooks | None = None
        self.hooks_for: Callable[[Target], ProxyHooks | None] | None = None  # per target; wins over ``hooks``
        self.local: LocalHandler | None = None  # None: ``hooks.reserved`` (404 for every /__brummer__/ path)
        self.sites: dict[Target, Site] = {}

    def proxy_url(self, process: str, url: str) -> str | None:
        """The proxy URL in front of ``url`` (a port is assigned the first time anyone asks), or None."""
        return self.targets.proxy_url(process, url)

    def proxy_urls(self, process: str, urls: tuple[str, ...] | list[str]) -> list[str]:
        return [proxy for url in urls if (proxy := self.proxy_url(process, url)) is not None]

    def site(self, target: Target, runtime: Instance | None) -> Site:
        site = self.sites.get(target)
        if site is None:
            from brummer.proxy.hooks import reserved
            from brummer.proxy.server import Site

            supervisor = runtime.supervisor if runtime is not None else None
            local = self.local or reserved
            hooks = self.hooks_for(target) if self.hooks_for is not None else self.hooks
            site = Site(target, self.recorder, supervisor, self.wait, self.store, hooks, local)
            self.sites[target] = site
        return site

    def close(self) -> None:
        """Close every listener and pooled connection (at the very end: the service may restart before)."""
        for site in self.sites.values():
            site.pool.close()
        self.targets.close()


async def serve_proxy(
    runtime: Instance, proxy: Proxy, *, task_status: trio.TaskStatus[Proxy] = trio.TASK_STATUS_IGNORED
) -> None:
    """Listen for every target as it appears; run until cancelled."""
    from brummer.proxy.server import serve_target  # httptools and the relay: only once the service starts

    store = runtime.store
    for target in proxy.targets.configure():
        store.note(f"proxy for {target.upstream_url} on {target.proxy_url}", target.process)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_follow_urls, runtime, proxy)
        task_status.started(proxy)
        served: set[Target] = set()
        while True:
            for failure in proxy.targets.failures:
                store.note(f"proxy not started: {failure}", level="warn")
            proxy.targets.failures.clear()
            new = [target for target in proxy.targets if target not in served]
            for target in new:
                served.add(target)
                await nursery.start(serve_target, proxy.site(target, runtime))
            if not new:
                await proxy.targets.added.park()


async def _follow_urls(runtime: Instance, proxy: Proxy) -> None:
    """Every URL a process announces gets its target (the ports are assigned in the order URLs appear)."""
    while True:
        for process, urls in runtime.store.urls().items():
            for url in urls:
                proxy.targets.for_url(process, url)
        await runtime.store.wait_urls_changed()
