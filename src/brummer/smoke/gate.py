"""The gate before the checks: every selected process up, or a failure at once.

A process is *up* when its readiness check passed (configured, or the default: its first URL), or when it exited 0
(a one-shot such as a build: up by having finished). A process with ``ready = "none"`` never becomes ready, so for
smoke runs it is up once it runs; the run says so at its start. A process that *failed* (exited non-zero, was killed
by a signal brummer did not send, could not start, gave up its restarts, or can no longer meet a ``depends_on``)
ends the run at once: ``Tracker.watch`` cancels it, during the gate and during the checks alike. A process that
crashed and will be restarted (``restart = "on-failure"``) is not a failure: the supervisor puts it in
``backing-off`` in the same step as it records the exit, so the tracker never sees it failed in between.

Everything here reads ``Supervisor.info`` and wakes on ``Supervisor.wait_changed``: no polling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import trio

from brummer.config.spec import ProcessSpec
from brummer.supervise.state import ProcessInfo, ProcState
from brummer.supervise.supervisor import Supervisor


def is_up(info: ProcessInfo, spec: ProcessSpec) -> bool:
    if info.state is ProcState.READY:
        return True
    if info.state is ProcState.EXITED and info.exit_code == 0 and not info.exit_signal and not info.stopped:
        return True  # a one-shot that finished
    return spec.ready.kind == "none" and info.state is ProcState.RUNNING


def why_not_up(info: ProcessInfo, spec: ProcessSpec) -> str:
    """For the timeout's report: still starting (and waiting for what), crashed, or the probe failing with what."""
    state = info.state
    if state is ProcState.RUNNING:
        # "waiting for http://localhost:3000/health: connection refused, 12 tries", or what it still waits for
        waiting = info.detail or {
            "url": "no URL printed yet",
            "log": f"no line matched '{spec.ready.target}' yet",
        }.get(spec.ready.kind, f"{spec.ready.describe()} has not passed yet")
        return f"still starting ({waiting})"
    if state is ProcState.STARTING:
        return "still starting (being spawned)"
    if state is ProcState.PENDING:
        return f"not started ({info.message})" if info.message else "not started"
    if state is ProcState.BACKING_OFF:
        return f"crashed ({info.describe_exit() or 'failed'}), restarting ({info.message})"
    return f"{state} ({info.message})" if info.message else str(state)


class Tracker:
    """Who is up since when, and the first process that failed; for ``names`` (the selected processes)."""

    def __init__(self, supervisor: Supervisor, names: Sequence[str], specs: Mapping[str, ProcessSpec]) -> None:
        self.supervisor = supervisor
        self.names = list(names)
        self.specs = specs
        self.began = trio.current_time()
        self.ready_after: dict[str, float] = {}
        self.urls: dict[str, tuple[str, ...]] = {}  # as last seen running (a process's URLs go when it exits)
        self.failure: ProcessInfo | None = None

    def look(self) -> None:
        now = trio.current_time()
        for name in self.names:
            info = self.supervisor.info(name)
            if info.urls:
                self.urls[name] = info.urls
            if name not in self.ready_after and is_up(info, self.specs[name]):
                self.ready_after[name] = now - self.began
            if self.failure is None and info.state is ProcState.FAILED:
                self.failure = info

    def all_up(self) -> bool:
        return all(is_up(self.supervisor.info(name), self.specs[name]) for name in self.names)

    def not_up(self) -> dict[str, str]:
        """Why, for each process that is not up now."""
        infos = [(self.supervisor.info(name), self.specs[name]) for name in self.names]
        return {info.name: why_not_up(info, spec) for info, spec in infos if not is_up(info, spec)}

    async def wait_all_up(self) -> None:
        while True:
            self.look()
            if self.all_up():
                return
            await self.supervisor.wait_changed()

    async def watch(self, scope: trio.CancelScope) -> None:
        """Cancel ``scope`` as soon as a process fails; runs until then (or until cancelled)."""
        while True:
            self.look()
            if self.failure is not None:
                scope.cancel(reason=f"{self.failure.name} failed")
                return
            await self.supervisor.wait_changed()
