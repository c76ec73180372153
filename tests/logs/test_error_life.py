"""Errors have a life: open, repeated, resolved, reopened.

The real log store (and its error book) is fed the fixture corpus (real tool output, see
scripts/capture-error-fixtures): a watch-mode tool's clean cycle must resolve exactly the errors it
printed before, of its own family and process, and nothing else.
"""

from __future__ import annotations

import math
from pathlib import Path

from brummer.bus import Bus, ErrorResolved, Subscription
from brummer.logs.error_book import ErrorState
from brummer.logs.kinds import Stream
from brummer.logs.store import LogStore
from helpers import append_lines

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "errors"

PY_TRACE = ["Traceback (most recent call last):", '  File "/app/job.py", line 3, in <module>', "KeyError: 'PORT'"]
TS_ERROR = "src/App.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'."
TS_OTHER = "src/App.ts(2,14): error TS2322: Type 'number' is not assignable to type 'string'."
TS_CLEAN = "10:56:16 AM - Found 0 errors. Watching for file changes."


class Replay:
    """One process's fixture streams fed into a real store, a few lines at a time, in a chosen order."""

    def __init__(self, store: LogStore, process: str, **streams: str) -> None:
        self.store, self.process = store, process
        self.lines = {stream: (FIXTURES / f"{name}.txt").read_text().splitlines() for stream, name in streams.items()}
        self.at = dict.fromkeys(streams, 0)

    def until(self, stream: str, needle: str, batch: int = 3) -> None:
        """Feed ``stream`` up to and including its next line containing ``needle``."""
        lines, start = self.lines[stream], self.at[stream]
        end = next(i for i in range(start, len(lines)) if needle in lines[i]) + 1
        self._feed(stream, lines[start:end], batch)
        self.at[stream] = end

    def rest(self, stream: str, batch: int = 3) -> None:
        self._feed(stream, self.lines[stream][self.at[stream] :], batch)
        self.at[stream] = len(self.lines[stream])

    def line(self, stream: str, needle: str) -> str:
        return next(line for line in self.lines[stream] if needle in line)

    def _feed(self, stream: str, lines: list[str], batch: int) -> None:
        for i in range(0, len(lines), batch):
            append_lines(self.store, self.process, stream, lines[i : i + batch])


def make() -> tuple[LogStore, Subscription]:
    bus = Bus()
    return LogStore(bus), bus.subscribe("test", low=math.inf, medium=math.inf)


def state(store: LogStore, process: str | None = None) -> list[tuple[str, str | None, str, str | None]]:
    """(type, location, state, resolved_by) of every group, oldest activity first."""
    return [
        (g.type, g.location, str(g.state), g.resolved_by) for g in store.errors.groups(process, include_resolved=True)
    ]


# --- the fixture corpus: error, then clean --------------------------------------------------------------


async def test_tsc_watch_partial_then_clean_cycle() -> None:
    for name in ("typescript/tsc5-watch-fixed", "typescript/tsc7-watch-fixed"):
        store, _ = make()
        tsc = Replay(store, "types", stdout=name)
        tsc.until("stdout", "Found 2 errors")
        assert [s for _, _, s, _ in state(store)] == ["open", "open"]
        tsc.until("stdout", "Found 1 error.")  # the first error was fixed; the second one was reported again
        assert sorted(state(store), key=lambda row: str(row[1])) == [
            ("TS2322", "src/App.ts:1:14", "resolved", "tsc: Found 1 error"),
            ("TS2322", "src/App.ts:2:14", "open", None),
        ], name
        tsc.rest("stdout")
        assert sorted((loc, s, by) for _, loc, s, by in state(store)) == [
            ("src/App.ts:1:14", "resolved", "tsc: Found 1 error"),
            ("src/App.ts:2:14", "resolved", "tsc: Found 0 errors"),
        ], name
        assert store.errors.groups() == []  # the default view: open only


async def test_webpack_watch_compiled_with_a_warning_then_successfully() -> None:
    store, _ = make()
    webpack = Replay(store, "bundle", stdout="webpack/webpack5-watch-fixed")
    webpack.until("stdout", "compiled with 1 error")
    assert state(store) == [("ModuleNotFoundError", "src/index.js:1:1", "open", None)]
    webpack.until("stdout", "compiled with 1 warning")
    assert state(store) == [("ModuleNotFoundError", "src/index.js:1:1", "resolved", "webpack: compiled with 1 warning")]
    webpack.until("stdout", "compiled with 1 error")
    assert state(store)[-1] == ("ModuleParseError", "src/ok.js:1:19", "open", None)
    webpack.rest("stdout")
    assert state(store)[-1] == ("ModuleParseError", "src/ok.js:1:19", "resolved", "webpack: compiled successfully")


async def test_vite_hmr_update_resolves_the_module_error_but_not_a_broken_config() -> None:
    for version in (7, 8):
        store, _ = make()
        vite = Replay(
            store, "web", stdout=f"vite/vite{version}-dev-fixed-stdout", stderr=f"vite/vite{version}-dev-fixed-stderr"
        )
        vite.until("stdout", "Local:")
        vite.until("stdout", "hmr update")  # the edit that broke src/main.ts
        vite.until("stderr", "node_modules", batch=1000)  # its error: frames still coming, the group not complete
        assert store.errors.groups() == [] and store.reading_error("web", Stream.STDERR)
        vite.until("stdout", "hmr update")  # the fix: the error on stderr came before it
        ((type_, _, status, by),) = state(store)
        assert (type_, status, by) == ("InternalServerError", "resolved", "vite: hmr update /src/main.ts")
        vite.rest("stderr")  # the stack's last frames, then vite.config.ts broken twice: server restart failed
        store.flush_errors("web")
        restart_errors = [g for g in store.errors.groups("web") if g.type == "RestartError"]
        assert [g.message for g in restart_errors] == [
            'Unexpected "}"' if version == 7 else "Unexpected token",
            "config broke",
        ]
        broken_config = {(g.family, g.type) for g in store.errors.groups("web")}
        # an HMR update says nothing about the config (replayed here: the real line, printed again)
        append_lines(store, "web", "stdout", [vite.line("stdout", "hmr update")])
        assert {(g.family, g.type) for g in store.errors.groups("web")} == broken_config
        vite.rest("stdout")  # vite.config.ts fixed: server restarted.
        assert store.errors.groups("web") == []
        assert {by for *_, by in state(store)[-len(broken_config) :]} == {"vite: server restarted"}


async def test_next_compiled_after_the_fix() -> None:
    store, _ = make()
    nxt = Replay(
        store,
        "next",
        stdout="nextjs/next16-dev-fixed-turbopack-stdout",
        stderr="nextjs/next16-dev-fixed-turbopack-stderr",
    )
    nxt.until("stdout", "Ready in")
    nxt.rest("stderr")
    store.flush_errors("next")
    assert [(t, s) for t, _, s, _ in state(store)] == [("CompileError", "open")]
    nxt.rest("stdout")
    assert [(t, s, by) for t, _, s, by in state(store)] == [("CompileError", "resolved", "next: Compiled in 2s")]


async def test_eslint_run_with_no_errors_left_resolves_the_earlier_runs_errors() -> None:
    store, _ = make()
    Replay(store, "lint", stdout="eslint/eslint10-stylish").rest("stdout")
    assert len(store.errors.groups("lint")) == 4
    Replay(store, "lint", stdout="negative/eslint10-warnings-only").rest("stdout")
    assert store.errors.groups("lint") == []
    assert {by for *_, by in state(store)} == {"eslint: 1 problem (0 errors, 1 warning)"}


# --- the book's rules -----------------------------------------------------------------------------------


async def test_a_clean_cycle_resolves_its_own_family_of_its_own_process_only() -> None:
    store, _ = make()
    append_lines(store, "dev", "stdout", [TS_ERROR, ""])
    append_lines(store, "dev", "stderr", PY_TRACE)
    append_lines(store, "other", "stdout", [TS_ERROR, ""])
    store.flush_errors()
    append_lines(store, "dev", "stdout", [TS_CLEAN])
    assert state(store, "dev") == [
        ("KeyError", "/app/job.py:3", "open", None),
        ("TS2322", "src/App.ts:1:14", "resolved", "tsc: Found 0 errors"),
    ]
    assert state(store, "other") == [("TS2322", "src/App.ts:1:14", "open", None)]


async def test_in_one_batch_an_error_before_the_clean_line_is_resolved_and_one_after_it_is_not() -> None:
    store, _ = make()
    append_lines(store, "types", "stdout", [TS_ERROR, "", TS_CLEAN, TS_OTHER, ""])
    store.flush_errors()
    assert state(store) == [
        ("TS2322", "src/App.ts:1:14", "resolved", "tsc: Found 0 errors"),
        ("TS2322", "src/App.ts:2:14", "open", None),
    ]
    append_lines(store, "types", "stdout", [TS_CLEAN, TS_ERROR])  # the clean line first: what follows stays open
    store.flush_errors()
    assert sorted((loc, s) for _, loc, s, _ in state(store)) == [
        ("src/App.ts:1:14", "open"),
        ("src/App.ts:2:14", "resolved"),
    ]


async def test_a_resolved_group_seen_again_reopens_and_each_change_is_announced_once() -> None:
    store, sub = make()
    append_lines(store, "types", "stdout", [TS_ERROR, ""])
    append_lines(store, "types", "stdout", [TS_ERROR, ""])  # a repeat, not a new group
    append_lines(store, "types", "stdout", [TS_CLEAN])
    append_lines(store, "types", "stdout", [TS_CLEAN])  # nothing left to resolve: no event
    append_lines(store, "types", "stdout", [TS_ERROR, ""])
    ((group),) = store.errors.groups()
    assert (group.state, group.count, group.reopened, group.resolved_at, group.resolved_by) == (
        ErrorState.OPEN,
        3,
        1,
        None,
        None,
    )
    events = [e for e in await sub.receive_batch() if type(e).__name__.startswith("Error")]
    # one detection, one repeat, one resolution (the second clean line had nothing left), the reopening
    assert [type(e).__name__ for e in events] == ["ErrorDetected", "ErrorRepeated", "ErrorResolved", "ErrorDetected"]
    (resolved,) = [e for e in events if isinstance(e, ErrorResolved)]
    assert (resolved.process, resolved.reason) == ("types", "tsc: Found 0 errors")
    assert [g.id for g in resolved.groups] == [group.id]


async def test_include_resolved_and_since_count_the_resolution_as_activity() -> None:
    store, _ = make()
    append_lines(store, "types", "stdout", [TS_ERROR, ""])
    store.flush_errors()
    cursor = store.last_seq
    assert store.errors.groups(since=cursor, include_resolved=True) == []
    append_lines(store, "types", "stdout", [TS_CLEAN])
    (group,) = store.errors.groups(since=cursor, include_resolved=True)
    assert group.state is ErrorState.RESOLVED and group.resolved_at is not None
    assert store.errors.groups(since=cursor) == []
    data = group.to_dict()
    assert (data["state"], data["resolved_by"], data["reopened"]) == ("resolved", "tsc: Found 0 errors", 0)


async def test_a_clean_exit_resolves_eslint_and_tsc_errors_of_earlier_runs_only() -> None:
    store, _ = make()
    lines = (FIXTURES / "eslint" / "eslint10-stylish.txt").read_text().splitlines()
    append_lines(store, "lint", "stdout", lines[:-2], run=1)  # run 1: the rows, not the summary
    append_lines(store, "lint", "stderr", PY_TRACE, run=1)
    store.run_ended("lint", 1, clean=False)
    assert len(store.errors.groups("lint")) == 5
    append_lines(store, "lint", "stdout", [lines[1], lines[5], ""], run=2)  # run 2 reports one again, exits 0
    store.run_ended("lint", 2, clean=True)
    assert [(g.family, g.type) for g in store.errors.groups("lint")] == [("python", "KeyError"), ("eslint", "no-undef")]
    store.run_ended("lint", 3, clean=True)  # run 3: no output, exit 0
    assert [g.family for g in store.errors.groups("lint")] == ["python"]
    assert {g.resolved_by for g in store.errors.groups("lint", include_resolved=True)} == {None, "eslint: exit code 0"}


async def test_flushing_an_unknown_process_flushes_nothing() -> None:
    store, _ = make()
    append_lines(store, "web", "stderr", PY_TRACE)
    store.flush_errors("nope")
    assert store.errors.groups() == []
    store.flush_errors("web")
    assert [g.type for g in store.errors.groups()] == ["KeyError"]


async def test_many_clean_lines_cost_nothing_once_the_groups_are_resolved() -> None:
    """The open index: a flood of clean lines looks at the open groups of one family, not at the book."""
    store, _ = make()
    append_lines(store, "types", "stdout", [f"src/f{i}.ts(1,1): error TS2322: x" for i in range(400)] + [""])
    append_lines(store, "types", "stderr", PY_TRACE)
    store.flush_errors()
    append_lines(store, "types", "stdout", [TS_CLEAN] * 20_000)
    book = store.errors
    assert len(book.groups("types")) == 1 and len(book.groups("types", include_resolved=True)) == 401
    assert book._open[("types", "typescript")] == {}  # nothing left to look at on the next clean line


async def test_a_clean_signal_searched_only_after_an_error_is_found_on_any_stream_of_the_process() -> None:
    """webpack's "compiled successfully" has no trigger literal of its own until the process printed an error."""
    store, _ = make()
    lines = (FIXTURES / "webpack" / "webpack5-watch-fixed.txt").read_text().splitlines()
    done = next(line for line in lines if "compiled successfully" in line)
    error = lines[: lines.index(next(line for line in lines if "compiled with 1 error" in line))]
    append_lines(store, "dev", "stdout", [done])  # nothing to resolve yet
    append_lines(store, "dev", "stderr", error)
    store.flush_errors()
    assert [g.type for g in store.errors.groups()] == ["ModuleNotFoundError"]
    append_lines(store, "dev", "stdout", [done])
    assert state(store) == [("ModuleNotFoundError", "src/index.js:1:1", "resolved", "webpack: compiled successfully")]
