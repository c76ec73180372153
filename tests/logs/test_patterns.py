"""Patterns from outside run on RE2: what it cannot run is refused by name, what it runs takes linear time."""

from __future__ import annotations

import time

import pytest
import trio
import trio.lowlevel

from brummer.errors import BrummerError, PatternError
from brummer.logs.patterns import OFFLOAD_CHARS, compile_pattern
from brummer.logs.query import classify

LINEAR = "is not supported: brummer runs patterns on a linear-time engine (RE2)"


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        (r"(?<=port )\d+", "lookbehind `(?<=`"),
        (r"(?<!x)y", "negative lookbehind `(?<!`"),
        (r"foo(?=bar)", "lookahead `(?=`"),
        (r"foo(?!bar)", "negative lookahead `(?!`"),
        (r"(a)\1", "backreference `\\1`"),
        (r"(?P<x>a)(?P=x)", "named backreference `(?P=`"),
        (r"a++", "possessive quantifier `++`"),
        (r"a*+b", "possessive quantifier `*+`"),
        (r"a{2,3}+", "possessive quantifier `}+`"),
        (r"(?>ab|a)c", "atomic group `(?>`"),
        (r"(?(1)a|b)", "conditional `(?(`"),
        (r"(a(?1)?b)", "recursion `(?1)`"),
        (r"(?x) a b", "the verbose flag `(?x)`"),
        (r"\Gfoo", "`\\G`"),
    ],
)
def test_what_re2_cannot_run_is_refused_by_name(pattern: str, construct: str) -> None:
    with pytest.raises(PatternError) as refused:
        compile_pattern(pattern)
    assert str(refused.value) == f"{construct} {LINEAR}"
    assert isinstance(refused.value, BrummerError)


@pytest.mark.parametrize(
    "pattern",
    [r"a+?b", r"[+*?]+", r"\\1", r"[(?<=]", r"x{2}?", r"(?i)foo", r"(?P<name>\w+)", r"[[:alpha:]]+", r"a\+\+"],
)
def test_lookalikes_are_fine(pattern: str) -> None:
    compile_pattern(pattern)


def test_syntax_errors_and_huge_programs_say_so(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PatternError, match=r"invalid regex '\(\[': missing \]"):
        compile_pattern("([")
    began = time.perf_counter()
    with pytest.raises(PatternError, match=r"regex '.*pL\{300\}' is too large"):
        compile_pattern(r"\pL{300}")  # 360k instructions: half a second to compile in full
    assert time.perf_counter() - began < 1.0
    assert capfd.readouterr().err == ""  # RE2 logs rejected patterns to stderr unless told not to


def test_search_semantics() -> None:
    assert compile_pattern(r"done\Z").search("all done")  # Python's \Z is RE2's \z
    assert not compile_pattern("ERROR").search("error") and compile_pattern("ERROR", ignore_case=True).search("error")
    anchored = compile_pattern("^foo$")
    assert anchored.search("foo") and not anchored.search("a foo")
    assert anchored.search_block("x\nfoo\ny") and not anchored.search_block("x\nfoo bar\ny")  # lines, not the block
    whole = compile_pattern(r"\Afoo")
    assert whole.search_block("x\nfoo")  # \A cannot be judged per block: "maybe", never a wrong "no"


async def test_backtracking_bombs_take_linear_time() -> None:
    text = "a" * 100_000 + "!"
    began = time.perf_counter()
    for pattern in ("(a+)+$", "((a+)+)+$", "(a|aa)+$", "(.*a){20}$"):
        assert not compile_pattern(pattern).search(text)
        assert not await compile_pattern(pattern).search_async(text)  # a long text: in a worker thread
    assert time.perf_counter() - began < 5  # Python's re: beyond the age of the universe


async def test_long_searches_leave_the_loop_free() -> None:
    """Linear is not free: RE2 builds its DFA while it searches (``[^a]{1000}y`` over 256k letters: ~50 ms the first
    time, more for bigger programs). A long text is searched in a worker thread, so the loop runs on meanwhile."""
    pattern = compile_pattern("[^a]{1000}y")
    text = "x" * 262_144
    assert len(text) > OFFLOAD_CHARS
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.sleep(0.001)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(tick)
        await trio.lowlevel.checkpoint()
        before = ticks
        assert not await pattern.search_async(text)
        nursery.cancel_scope.cancel()
    assert ticks > before + 1  # the loop ran other tasks while the search went on


def test_classify_is_linear_and_keeps_its_verdicts() -> None:
    began = time.perf_counter()
    for word in ("x" * 65_536, "error" * 13_000, "Error " * 10_000, "a" * 32_000 + "Exception"):
        classify(word)
    assert time.perf_counter() - began < 1.0  # the old classifier: 9 s for 32,000 letters, quadratic
    verdicts = {
        "TypeError: x is undefined": "error",
        "RuntimeException in main": "error",
        "npm ERR! code ELIFECYCLE": "error",
        "Traceback (most recent call last):": "error",
        "✘ [ERROR] Could not resolve": "error",
        "build failed": "error",
        "Found 0 errors. Watching for file changes.": "info",
        "errors: none": "info",
        "warning: slow request": "warn",
        "DeprecationWarning: x is deprecated": "warn",
        "⚠ Compiled with warnings": "warn",
        "DEBUG cache hit": "debug",
        "GET / 200": "info",
        "a" * 5000 + " error": "info",  # judged from the first 4 KiB, what an answer shows by default
    }
    assert {line: classify(line) for line in verdicts} == verdicts
