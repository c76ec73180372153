"""The running instance as services see it: one object to hand to the panel, the MCP server and the proxy.

Services read brummer's state only through these (``supervisor.snapshot()``, ``store.tail(...)``,
``store.errors.groups(...)``, bus subscriptions) and act only through the supervisor's control surface and
``request_shutdown``, so the panel, MCP tools and the CLI always show the same truth.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from brummer import __version__
from brummer.bus import Bus
from brummer.config.spec import ProjectSpec
from brummer.logs.store import LogStore
from brummer.registry.entry import McpUrls
from brummer.supervise.supervisor import Supervisor

if TYPE_CHECKING:
    from brummer.browser.telemetry import Telemetry
    from brummer.proxy.service import Proxy


@dataclass
class Runtime:
    project: ProjectSpec
    supervisor: Supervisor
    store: LogStore
    bus: Bus
    request_shutdown: Callable[[int], None] = field(default=lambda signum: None)
    started_at: float = field(default_factory=time.time)
    version: str = __version__
    mcp_urls: McpUrls | None = None  # once the MCP server listens
    proxy: Proxy | None = None  # the recording proxy (targets, proxy URLs, recorded requests); None when off
    telemetry: Telemetry | None = None  # the browser telemetry on the proxy's pages; None without the proxy

    def proxy_url(self, process: str, url: str) -> str | None:
        """The proxy URL in front of ``url`` of ``process``, or None (proxy off, or this URL is not proxied)."""
        return self.proxy.proxy_url(process, url) if self.proxy is not None else None

    def quit(self) -> None:
        """Stop everything as Ctrl-C would (exit code 130)."""
        self.request_shutdown(signal.SIGINT)
