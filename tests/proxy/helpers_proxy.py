"""Running the real proxy in-process in front of a real upstream, and talking to it over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import trio

from brummer.bus import Bus
from brummer.config.spec import ProcessSpec, ProjectSpec, ProxyOptions, Settings
from brummer.logs.store import LogStore
from brummer.proxy.hooks import ProxyHooks
from brummer.proxy.record import ProxyRecord
from brummer.proxy.server import Site, serve_target
from brummer.proxy.service import Proxy
from brummer.runtime import Runtime
from helpers import wait_until


@dataclass
class RunningProxy:
    proxy: Proxy
    site: Site
    store: LogStore
    bus: Bus

    @property
    def port(self) -> int:
        return self.site.target.proxy_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def records(self) -> list[ProxyRecord]:
        return list(self.proxy.recorder.records())

    async def wait_records(self, count: int, timeout: float = 10) -> list[ProxyRecord]:
        """The records once there are ``count`` (a record is written just after the client got the last byte)."""
        await wait_until(lambda: len(self.records()) >= count, within=timeout, every=0.01)
        return self.records()


def project(root: Path, process: str = "web", options: ProxyOptions | None = None) -> ProjectSpec:
    spec = ProcessSpec(process, "true", "brummer.toml", root / "brummer.toml", root, proxy=options or ProxyOptions())
    return ProjectSpec(root, {process: spec}, (process,), settings=Settings(proxy_base_port=0))


@asynccontextmanager
async def running_proxy(
    upstream_url: str,
    *,
    process: str = "web",
    ring: int = 1000,
    wait: float = 1.0,
    runtime: Runtime | None = None,
    hooks: ProxyHooks | None = None,
    root: Path = Path("/nonexistent"),
) -> AsyncIterator[RunningProxy]:
    """The proxy for ``upstream_url`` (as if ``process`` had printed it), listening on a free port."""
    if runtime is not None:
        bus, store, spec = runtime.bus, runtime.store, runtime.project
    else:
        bus = Bus()
        store = LogStore(bus)
        spec = project(root, process)
    proxy = Proxy(spec, bus, store, ring=ring, wait=wait)
    proxy.hooks = hooks
    target = proxy.targets.for_url(process, upstream_url)
    assert target is not None
    site = proxy.site(target, runtime)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_target, site)
            yield RunningProxy(proxy, site, store, bus)
            nursery.cancel_scope.cancel()
    finally:
        proxy.close()


async def raw_exchange(port: int, data: bytes, *, until: bytes | None = None, timeout: float = 20) -> bytes:
    """Send ``data`` on a fresh connection and read until ``until`` appears or the proxy closes."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    received = b""
    with trio.fail_after(timeout):
        async with stream:
            await stream.send_all(data)
            while until is None or until not in received:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    break
                received += chunk
    return received
