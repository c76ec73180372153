"""A failing service is caught at its boundary, reported and restarted; the user's processes never notice."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import trio

from brummer.bus import LogLines, ServiceFailed
from brummer.services import run_isolated
from brummer.supervise.state import ProcState
from helpers import load, running, write_project


async def test_failing_subscriber_is_isolated_and_restarted(tmp_path: Path) -> None:
    root = write_project(tmp_path, Procfile="ticker: while :; do echo tick; sleep 0.02; done\n")
    async with running(load(root)) as r:
        await r.wait_state("ticker", ProcState.RUNNING)
        pid = r.sup.info("ticker").pid
        starts = 0

        async def buggy_subscriber(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            nonlocal starts
            starts += 1
            with r.bus.subscribe("buggy") as sub:
                task_status.started()
                async for event in sub:
                    if isinstance(event, LogLines):
                        raise RuntimeError("subscriber bug")

        failures: list[ServiceFailed] = []
        with r.bus.subscribe("watcher") as watcher:
            async with trio.open_nursery() as nursery:
                service = functools.partial(run_isolated, "buggy", buggy_subscriber, r.store, first_retry=0.01)
                await nursery.start(service)
                with trio.fail_after(20):
                    async for event in watcher:
                        if isinstance(event, ServiceFailed):
                            failures.append(event)
                            if len(failures) == 3:
                                break
                nursery.cancel_scope.cancel()
        assert starts >= 3
        assert [f.retry_in for f in failures] == [0.01, 0.02, 0.04]  # exponential backoff
        assert failures[0].error == "RuntimeError: subscriber bug"
        own_log = "\n".join(line.text for line in r.store.tail("brummer", limit=1000).lines)
        assert "Traceback" in own_log and "RuntimeError: subscriber bug" in own_log
        # the child never noticed: same pid, still running, still printing
        before = r.store.stats("ticker")[2]
        await r.wait_for(lambda: r.store.stats("ticker")[2] > before + 3)
        assert r.sup.info("ticker").pid == pid and r.state("ticker") is ProcState.RUNNING


async def test_failure_before_ready_is_a_startup_error(tmp_path: Path) -> None:
    root = write_project(tmp_path, Procfile="idle: sleep 30\n")
    async with running(load(root)) as r:

        async def cannot_start(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            raise OSError("port in use")

        with pytest.RaisesGroup(pytest.RaisesExc(OSError, match="port in use")):
            async with trio.open_nursery() as nursery:
                await nursery.start(run_isolated, "x", cannot_start, r.store)
