"""Installing the browser telemetry on a proxy: its ``/__brummer__/`` routes, and the script in pages.

Its own module so that the telemetry (sessions, events) knows nothing of the proxy's wiring, and the proxy nothing
of the telemetry: ``app`` installs one on the other, and hands the telemetry to the runtime for the MCP tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brummer.browser.telemetry import Telemetry

if TYPE_CHECKING:
    from brummer.config.spec import ProjectSpec
    from brummer.logs.store import LogStore
    from brummer.proxy.hooks import ProxyHooks
    from brummer.proxy.http1 import ClientConnection
    from brummer.proxy.messages import Request
    from brummer.proxy.service import Proxy
    from brummer.proxy.targets import Target


def install(proxy: Proxy, project: ProjectSpec, store: LogStore) -> Telemetry:
    """The telemetry on ``proxy``: its ``/__brummer__/`` routes, and the script in pages unless ``inject = false``
    (top level, or in a process's ``proxy`` table). Cheap: the proxy's modules load when the proxy starts."""
    telemetry = Telemetry(store, project.root, allow_eval=project.settings.browser_eval)

    async def local(conn: ClientConnection, req: Request) -> bool:
        from brummer.browser.routes import serve_local

        return await serve_local(telemetry, conn, req)

    def hooks_for(target: Target) -> ProxyHooks | None:
        spec = project.processes.get(target.process)
        if not project.settings.inject or (spec is not None and not spec.proxy.inject):
            return None
        from brummer.browser.inject import TelemetryHooks

        return TelemetryHooks(telemetry, target.process)

    proxy.local = local
    proxy.hooks_for = hooks_for
    return telemetry
