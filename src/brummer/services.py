"""Failure isolation for services (printer, panel, MCP server, proxy).

A service is ``async def serve_x(..., task_status=trio.TASK_STATUS_IGNORED)``. ``run_isolated`` runs one so that an
exception inside it is caught at its boundary, reported (a high-priority ``ServiceFailed`` event, and the traceback in
brummer's own log) and the service restarted with exponential backoff. The user's dev processes live in another
subtree and never notice. A failure *before* the service first reports ready is a startup error and propagates to
the caller (say, the MCP port cannot be bound), because there is nothing running yet to protect.
"""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from brummer.bus import ServiceFailed
from brummer.logs.store import LogStore

Service = Callable[..., Awaitable[None]]

FIRST_RETRY = 0.5
MAX_RETRY = 30.0
STABLE = 60.0  # a service that ran this long before failing starts its backoff over


async def run_isolated(
    name: str,
    service: Service,
    store: LogStore,
    *,
    first_retry: float = FIRST_RETRY,
    task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run ``service`` until it returns; on an exception, report it and start it again after a backoff."""
    reported = False
    delay = first_retry
    while True:
        began = trio.current_time()
        try:
            async with trio.open_nursery() as nursery:
                value = await nursery.start(service)
                if not reported:
                    reported = True
                    task_status.started(value)
            return
        except Exception as exc:
            if not reported:
                raise _single(exc) from None
            if trio.current_time() - began >= STABLE:
                delay = first_retry
            text = "".join(traceback.format_exception(exc)).rstrip()
            store.note(f"service {name} failed; restarting in {delay:g}s\n{text}", None, "error", publish=False)
            store.bus.publish(ServiceFailed(name, _one_line(exc), text, delay))
            await trio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY)


def _single(exc: Exception) -> Exception:
    """The one real error inside nested single-member exception groups (our own nursery adds one level)."""
    while isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _one_line(exc: Exception) -> str:
    exc = _single(exc)
    return f"{type(exc).__name__}: {exc}"
