"""ErrorScanner against the fixture corpus (real tool output, see scripts/capture-error-fixtures) and
against the tricky cases the corpus does not pin down.

Every fixture is fed whole, line by line, in fixed batch sizes and in random splits: where a batch
boundary falls must never change what is found. A fixture's ``.expected.json`` lists the errors and,
under ``clean``, the clean-cycle signals (tsc's ``Found 0 errors``, Vite's ``hmr update``...) in order.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from brummer.logs.errors import CleanCycle, DetectedError, ErrorScanner, Finding

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "errors"
CORPUS = sorted(p for p in FIXTURES.rglob("*.txt") if "sources" not in p.relative_to(FIXTURES).parts)


def fixture_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def expected_for(path: Path, what: str = "errors") -> list[dict[str, object]]:
    expected = path.with_suffix(".expected.json")
    if not expected.exists():
        assert path.parent.name == "negative", f"{path.name} has no {expected.name}"
        return []
    doc: dict[str, list[dict[str, object]]] = json.loads(expected.read_text(encoding="utf-8"))
    return doc.get(what, [])


def summary(errors: Sequence[DetectedError]) -> list[dict[str, object]]:
    return [
        {"family": e.family, "type": e.type, "message": e.message, "location": e.location, "line_count": len(e.lines)}
        for e in errors
    ]


def clean_summary(found: Sequence[Finding]) -> list[dict[str, object]]:
    return [
        {"families": list(c.families), "reason": c.reason, "full_report": c.full_report, "spare": list(c.spare)}
        for c in found
        if isinstance(c, CleanCycle)
    ]


def splits(lines: list[str], seed: str) -> Iterator[tuple[str, list[list[str]]]]:
    for size in (1, 3, 17):
        yield f"by{size}", [lines[i : i + size] for i in range(0, len(lines), size)]
    yield "whole", [lines]
    rng = random.Random(seed)
    for n in range(3):
        batches, i = [], 0
        while i < len(lines):
            size = rng.choice((0, 1, 2, 5, 40, 1000))
            batches.append(lines[i : i + size])
            i += size
        yield f"random{n}", batches


def scan_all(batches: Sequence[Sequence[str]], as_text: bool = False) -> list[Finding]:
    scanner = ErrorScanner()
    found: list[Finding] = []
    for batch in batches:
        found += scanner.feed_text("\n".join(batch)) if as_text and batch else scanner.feed(batch)
    found += scanner.flush()
    assert not scanner.pending
    return found


def errors_in(found: Sequence[Finding]) -> list[DetectedError]:
    return [f for f in found if isinstance(f, DetectedError)]


def scan(batches: Sequence[Sequence[str]], as_text: bool = False) -> list[DetectedError]:
    return errors_in(scan_all(batches, as_text))


def test_corpus_is_there() -> None:
    families = {p.parent.name for p in CORPUS}
    assert {
        "node",
        "typescript",
        "vite",
        "esbuild",
        "webpack",
        "nextjs",
        "eslint",
        "python",
        "pytest",
        "go",
    } <= families
    assert {"rust", "negative"} <= families


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture(path: Path) -> None:
    lines = fixture_lines(path)
    expected, clean = expected_for(path), expected_for(path, "clean")
    for label, batches in splits(lines, path.name):
        everything = scan_all(batches)
        found = errors_in(everything)
        assert summary(found) == expected, f"split {label}"
        assert clean_summary(everything) == clean, f"split {label}: clean signals"
        as_text = scan_all(batches, as_text=True)
        assert summary(errors_in(as_text)) == expected, f"split {label}, fed as blocks of text"
        assert clean_summary(as_text) == clean, f"split {label}, fed as blocks of text: clean signals"
        for error in found:
            assert set(error.lines) <= set(lines) | {error.lines[-1]}, "lines must be the raw lines as fed"
            assert len(error.message) <= 300 and "\n" not in error.message


# --- tricky cases -------------------------------------------------------------------------------------


def test_prose_that_mentions_errors_is_not_an_error() -> None:
    lines = [
        "0 errors, 0 warnings",
        "error-handler.js loaded",
        "Errors: none",
        "Error: see https://example.com/docs for help",
        "INFO retrying after error (attempt 2/5)",
        "FAILED to fetch? no: 0 FAILED jobs",
        "panic: no, this is fine",
        "[vite] hmr update /src/error.tsx",
        "WARNING in ./src/index.js",
        "src/a.ts(1,1): warning: not a tsc diagnostic",
    ]
    assert scan([lines]) == []


def test_error_line_without_stack_is_replayed_so_a_following_traceback_is_found() -> None:
    lines = [
        "Error: not really",
        "Traceback (most recent call last):",
        '  File "/app/x.py", line 1, in <module>',
        "ValueError: boom",
    ]
    found = scan([lines])
    assert [(e.family, e.type, e.location) for e in found] == [("python", "ValueError", "/app/x.py:1")]


def test_node_header_from_an_earlier_batch_belongs_to_the_error() -> None:
    scanner = ErrorScanner()
    assert scanner.feed(["/app/server.js:3", "  return opts.port;"]) == []
    assert scanner.feed(["              ^", ""]) == []
    assert scanner.feed(["TypeError: Cannot read properties of undefined (reading 'port')"]) == []
    assert scanner.pending
    assert scanner.feed(["    at start (/app/server.js:3:15)", ""]) == []
    (error,) = scanner.feed(["Node.js v20.20.2"])  # Node's last word: complete without waiting
    assert isinstance(error, DetectedError)
    assert error.lines[0] == "/app/server.js:3" and error.lines[-1] == "Node.js v20.20.2"
    assert error.location == "/app/server.js:3:15"
    assert not scanner.pending


def test_error_is_returned_when_the_group_ends_and_flush_finishes_an_open_one() -> None:
    scanner = ErrorScanner()
    assert (
        scanner.feed(["Traceback (most recent call last):", '  File "/app/x.py", line 2, in f', "KeyError: 'a'"]) == []
    )
    assert scanner.pending  # a chained exception could still follow
    (error,) = scanner.flush()
    assert isinstance(error, DetectedError) and (error.type, error.message) == ("KeyError", "'a'")
    assert scanner.flush() == [] and not scanner.pending


def test_library_frames_are_not_the_location() -> None:
    lines = [
        "Error: connect ECONNREFUSED 127.0.0.1:5432",
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
        "    at Pool.connect (/app/node_modules/pg-pool/index.js:45:11)",
        "    at async main (file:///app/src/db.mjs:7:3)",
    ]
    (error,) = scan([lines])
    assert error.location == "/app/src/db.mjs:7:3"


def test_key_ignores_volatile_parts_but_not_the_location() -> None:
    def node_error(message: str, location: str) -> DetectedError:
        (error,) = scan([[f"Error: {message}", f"    at main ({location})"]])
        return error

    a = node_error("timeout after 1500ms at 0x7f3a2c at 2024-05-01T10:00:00Z (req 12345678)", "/app/a.js:1:1")
    b = node_error("timeout after 20ms at 0x55aa01 at 2024-05-02T11:30:12Z (req 99999999)", "/app/a.js:1:1")
    c = node_error("timeout after 20ms at 0x55aa01 at 2024-05-02T11:30:12Z (req 99999999)", "/app/b.js:1:1")
    assert a.key == b.key != c.key


def test_long_groups_are_cut_to_200_lines_and_messages_to_300_chars() -> None:
    lines = ["Error: " + "x" * 1000] + [f"    at f{i} (/app/a.js:{i}:1)" for i in range(1, 500)]
    (error,) = scan([lines])
    assert len(error.lines) == 200 and error.lines[-1] == "… 301 more lines"
    assert len(error.message) == 300 and error.message.endswith("…")


def test_tsc_watch_reports_each_diagnostic_and_not_the_summary() -> None:
    lines = [
        "[12:00:01 PM] Starting compilation in watch mode...",
        "",
        "src/a.ts(2,7): error TS2322: Type 'string' is not assignable to type 'number'.",
        "src/b.ts(1,1): error TS2304: Cannot find name 'x'.",
        "",
        "[12:00:02 PM] Found 2 errors. Watching for file changes.",
        "[12:00:09 PM] File change detected. Starting incremental compilation...",
        "[12:00:10 PM] Found 0 errors. Watching for file changes.",
    ]
    found = scan_all([lines])
    assert [(e.type, e.location) for e in errors_in(found)] == [("TS2322", "src/a.ts:2:7"), ("TS2304", "src/b.ts:1:1")]
    assert [c.reason for c in found if isinstance(c, CleanCycle)] == ["tsc: Found 2 errors", "tsc: Found 0 errors"]


def test_eslint_error_far_below_its_header_has_no_location() -> None:
    warnings = [f"  {i}:1  warning  Unexpected console statement  no-console" for i in range(1, 80)]
    lines = ["/app/src/a.js", *warnings, "  90:3  error  'x' is not defined  no-undef", ""]
    (error,) = scan([lines])
    assert (error.type, error.location) == ("no-undef", None)
    (error,) = scan([["/app/src/a.js", *warnings[:10], "  90:3  error  'x' is not defined  no-undef", ""]])
    assert error.location == "/app/src/a.js:90:3"


def test_pytest_summary_line_does_not_repeat_a_reported_section() -> None:
    lines = [
        "=================================== FAILURES ===================================",
        "___________________________________ test_a ____________________________________",
        "",
        "    def test_a():",
        ">       assert 1 == 2",
        "E       assert 1 == 2",
        "",
        "tests/test_x.py:2: AssertionError",
        "=========================== short test summary info ============================",
        "FAILED tests/test_x.py::test_a - assert 1 == 2",
        "FAILED tests/test_x.py::test_b - ValueError: only in the summary",
        "========================= 2 failed in 0.01s ==========================",
    ]
    found = scan([lines])
    assert [(e.type, e.location) for e in found] == [
        ("AssertionError", "tests/test_x.py:2"),
        ("ValueError", "tests/test_x.py"),
    ]


def test_go_panic_needs_a_goroutine_dump() -> None:
    assert scan([["panic: recovered in handler, continuing", "GET /x 200", "GET /y 200"]]) == []


def test_chatter_between_errors_in_one_batch() -> None:
    chatter = [f"{i:08d} GET /api/items 200 OK in 3ms" for i in range(300)]
    trace = ["ValueError: bad", "    at f (/app/a.js:1:1)"]
    lines = chatter + trace + chatter + ['✘ [ERROR] Could not resolve "x"', "", "    src/a.ts:1:8:", ""] + chatter
    found = scan([lines])
    assert [(e.family, e.type) for e in found] == [("node", "ValueError"), ("esbuild", "ResolveError")]


def test_detected_error_is_frozen_and_hashable() -> None:
    (error,) = scan([["Error: x", "    at f (/app/a.js:1:1)"]])
    assert hash(error) == hash(DetectedError(error.family, error.type, error.message, error.location, error.lines))
    with pytest.raises(AttributeError):
        error.message = "y"  # type: ignore[misc]


def test_clean_signals_on_hostile_lines_give_one_short_reason() -> None:
    long = 64 * 1024  # the longest line the store keeps
    lines = [
        "12:00:00 PM [vite] (client) hmr update " + "/src/a.ts, " * (long // 11),
        "webpack 5.90.0 compiled with " + "1 in " * (long // 5),
        "x[vite] " * (long // 8) + "[vite] page reload src/x.ts",
        "✓ Compiled " + "\x07 \u202e" * (long // 3),
    ]
    found = [f for f in scan_all([lines]) if isinstance(f, CleanCycle)]
    assert [f.reason.split()[0:2] for f in found] == [
        ["vite:", "hmr"],
        ["webpack:", "compiled"],
        ["vite:", "page"],
        ["next:", "Compiled"],
    ]
    assert all(len(f.reason) <= 120 and "\n" not in f.reason for f in found)
