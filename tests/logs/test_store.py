"""The log store: sequence numbers, retention, cursors, filters, search, URLs."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from brummer.bus import Bus, LogLines, UrlDetected, UrlsCleared
from brummer.logs.error_feed import ERROR_IDLE_FLUSH
from brummer.logs.kinds import Stream, as_level
from brummer.logs.patterns import compile_pattern
from brummer.logs.store import LogStore, serve_log_store
from helpers import append_lines


def make(max_lines: int = 1000, max_bytes: int = 1 << 20) -> tuple[LogStore, Bus]:
    bus = Bus()
    return LogStore(bus, max_lines=max_lines, max_bytes=max_bytes), bus


async def test_sequence_numbers_are_global_and_monotonic() -> None:
    store, _ = make()
    append_lines(store, "a", "stdout", ["a1", "a2"])
    append_lines(store, "b", "stderr", ["b1"])
    append_lines(store, "a", "stdout", ["a3"])
    lines = store.tail(limit=10).lines
    assert [(line.seq, line.process, line.text) for line in lines] == [
        (1, "a", "a1"),
        (2, "a", "a2"),
        (3, "b", "b1"),
        (4, "a", "a3"),
    ]
    assert store.last_seq == 4


async def test_since_cursor_pages_forward() -> None:
    store, _ = make()
    for i in range(10):
        append_lines(store, "p", "stdout", [f"line {i}"])
    first = store.tail("p", since=0, limit=4)
    assert [line.text for line in first.lines] == ["line 0", "line 1", "line 2", "line 3"]
    second = store.tail("p", since=first.next, limit=100)
    assert [line.text for line in second.lines] == [f"line {i}" for i in range(4, 10)]
    assert store.tail("p", since=second.next).lines == []
    append_lines(store, "p", "stdout", ["new"])
    assert [line.text for line in store.tail("p", since=second.next).lines] == ["new"]


async def test_retention_by_lines_and_bytes_reports_the_gap() -> None:
    store, _ = make(max_lines=5)
    for i in range(4):
        append_lines(store, "p", "stdout", [f"{i}a", f"{i}b", f"{i}c"])
    assert [line.text for line in store.tail("p").lines] == ["2b", "2c", "3a", "3b", "3c"]
    assert store.stats("p")[0] == 5 and store.stats("p")[2] == 12
    result = store.tail("p", since=0, limit=2)
    assert result.gap == 7 and [line.text for line in result.lines] == ["2b", "2c"]
    by_bytes, _ = make(max_bytes=100)
    for i in range(50):
        append_lines(by_bytes, "p", "stdout", [f"{i:09d}"])
    assert by_bytes.stats("p")[1] <= 100 and by_bytes.stats("p")[0] == 10


async def test_filters_stream_level_time_and_process() -> None:
    store, _ = make()
    append_lines(store, "web", "stdout", ["GET / 200", "warning: slow request"])
    append_lines(store, "web", "stderr", ["Error: boom"])
    append_lines(store, "api", "stdout", ["0 errors, all good", "debug: cache hit"])
    assert [line.text for line in store.tail(stream=Stream.STDERR).lines] == ["Error: boom"]
    assert [line.text for line in store.tail(level="error").lines] == ["Error: boom"]
    assert [line.text for line in store.tail(level="warn").lines] == ["warning: slow request", "Error: boom"]
    assert [line.text for line in store.tail("api").lines] == ["0 errors, all good", "debug: cache hit"]
    assert store.tail(after=1e12).lines == []
    assert (as_level("error"), as_level("Warning")) == ("error", "warn")  # how a level from outside is read
    with pytest.raises(ValueError, match="unknown level 'loud' \\(one of: debug, info, warn, error\\)"):
        as_level("loud")


async def test_search_ignores_ansi_and_nul() -> None:
    store, _ = make()
    append_lines(store, "web", "stdout", ["\x1b[31mFAIL\x1b[0m src/a.test.ts", "PASS src/b.test.ts", "FA\x00IL c"])
    found = store.tail(pattern=compile_pattern("^FAIL"), limit=10).lines
    assert [line.plain for line in found] == ["FAIL src/a.test.ts", "FAIL c"]
    assert found[0].text.startswith("\x1b[31m")  # raw kept for display


async def test_urls_are_detected_owned_and_cleared() -> None:
    store, bus = make()
    sub = bus.subscribe("t")
    append_lines(store, "api", "stdout", ["API listening on http://127.0.0.1:3001"])
    append_lines(store, "web", "stdout", ["Local: http://localhost:5173/", "fetched http://localhost:3001/items"])
    assert store.urls() == {"api": ["http://127.0.0.1:3001/"], "web": ["http://localhost:5173/"]}
    store.clear_urls("web")
    assert store.urls() == {"api": ["http://127.0.0.1:3001/"]}
    events = await sub.receive_batch()
    assert [type(e) for e in events] == [LogLines, UrlDetected, LogLines, UrlDetected, UrlsCleared]


async def test_notes_are_kept_but_not_as_child_output() -> None:
    store, _ = make()
    store.note("web exited", "web")
    append_lines(store, "web", "stdout", ["hello"])
    assert [line.stream for line in store.tail("web").lines] == ["brummer", "stdout"]
    assert [line.text for line in store.tail("web", stream=Stream.STDOUT).lines] == ["hello"]


async def test_level_of_typed_errors() -> None:
    store, _ = make()
    append_lines(store, "api", "stderr", ["TypeError: x is undefined", "RuntimeException in main", "all fine"])
    assert [line.text for line in store.tail(level="error").lines] == [
        "TypeError: x is undefined",
        "RuntimeException in main",
    ]


async def test_the_store_task_finishes_an_open_group_once_its_stream_is_quiet(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """It sleeps until the open group's quiet deadline (moved by more output), and with none open, for good."""
    store, _ = make()
    traceback = ["Traceback (most recent call last):", '  File "/app/x.py", line 2, in f', "KeyError: 'a'"]
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_log_store, store)
        await trio.sleep(3600)  # idle: nothing to flush, nothing to wake for
        assert store.flush_due(ERROR_IDLE_FLUSH) is None
        began = trio.current_time()
        append_lines(store, "api", "stderr", traceback)  # a chained exception could still follow
        await trio.sleep(ERROR_IDLE_FLUSH * 0.9)
        append_lines(store, "api", "stdout", ["unrelated output does not move the stderr group's deadline"])
        chained = ["", "During handling of the above exception, another exception occurred:", "", *traceback[:2]]
        append_lines(store, "api", "stderr", [*chained, "ValueError: b"])  # the same group goes on
        assert store.errors.groups() == []
        await store.wait_changed()  # the flush, ERROR_IDLE_FLUSH after the last stderr line
        (group,) = store.errors.groups()
        assert (group.type, group.message) == ("ValueError", "b")
        assert trio.current_time() - began >= ERROR_IDLE_FLUSH * 1.9
        nursery.cancel_scope.cancel()


async def test_search_sees_what_a_pipe_gets() -> None:
    store, _ = make()
    append_lines(store, "web", "stdout", ["ok\x1b_hidden secret\x1b\\", "build 50%\rbuild 100% done"])
    assert store.tail(pattern=compile_pattern("secret"), limit=10).lines == []
    assert store.tail(pattern=compile_pattern("50%"), limit=10).lines == []
    found = store.tail(pattern=compile_pattern("^build 100% done$"), limit=10).lines
    assert [line.plain for line in found] == ["build 100% done"]
