"""Search patterns from outside (agents, ``ready = { log = ... }``, the panel's ``/``) on a linear-time engine: RE2.

Python's ``re`` backtracks: ``(a+)+$`` over 26 characters takes seconds, and ``((a+)+)+$`` hangs brummer so that not
even SIGTERM gets through (signal handlers run between bytecodes, never inside one ``search``). RE2 takes time
linear in the text, and cannot express what needs backtracking: backreferences, lookaround, possessive quantifiers,
atomic groups, conditionals. Those are rejected here with a message that names the construct.

Linear is not the same as cheap, so two more bounds (figures in docs/benchmarks.md):

- Compiling is linear in the size of the compiled program, which counted repetitions multiply (``\\pL{300}`` is 360k
  instructions, half a second). A first compile under a small memory budget refuses such a pattern in a few ms.
- Searching costs ~1 ns a character while RE2's DFA copes, but a pattern whose DFA explodes (``(a|b)*a(a|b){200}c``)
  falls back to ~1 µs a character. ``search_async`` therefore searches long texts in a worker thread (RE2 releases
  the GIL), at most ``SEARCH_THREADS`` at once, so the event loop never waits on one search.

The binding's ``re2.compile`` keeps the last 128 patterns with their DFA caches (up to 8 MiB each); patterns from
agents are one-offs, so this module builds the extension's ``RE2`` objects itself and lets them go with the caller.
"""

from __future__ import annotations

import re
from typing import Any

import re2  # type: ignore[import-untyped]
import trio
from re2 import _re2

from brummer.errors import PatternError

OFFLOAD_CHARS = 8 * 1024  # a longer text is searched in a worker thread (≤ ~10 ms of loop even at 1 µs a char)
SEARCH_THREADS = 2  # worker threads searching at once, for all callers together (the rest wait their turn)
CHECK_MEM = 256 * 1024  # RE2 budget of the first compile: programs above ~11k instructions fail here, fast
RUN_MEM = 8 * 1024 * 1024  # RE2 budget for the search (mostly its DFA cache): RE2's default
LINEAR = "brummer runs patterns on a linear-time engine (RE2)"

_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_NO_MATCH = (-1, -1)
_GROUPS = (  # checked in this order: the longer prefix first
    ("(?<=", "lookbehind `(?<=`"),
    ("(?<!", "negative lookbehind `(?<!`"),
    ("(?=", "lookahead `(?=`"),
    ("(?!", "negative lookahead `(?!`"),
    ("(?>", "atomic group `(?>`"),
    ("(?P=", "named backreference `(?P=`"),
    ("(?P>", "recursion `(?P>`"),
    ("(?&", "recursion `(?&`"),
    ("(?(", "conditional `(?(`"),
    ("(?#", "comment group `(?#`"),
    ("(?|", "branch reset `(?|`"),
)
_FLAGS = re.compile(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?[:)]")
_RE2_FLAGS = frozenset("imsU")
_COUNT = re.compile(r"\{\d*(?:,\d*)?\}")
_POSIX_CLASS = re.compile(r"\[:\^?[a-z]+:\]")
_RECURSION = re.compile(r"\(\?(?:[+-]?\d+|R)\)?")
_ESCAPES = {"G": "`\\G`", "K": "`\\K`"}
_WHOLE_TEXT = re.compile(r"\\[AzZ]|\(\?[a-zA-Z]*-")  # anchors or flags that a multi-line block would change


class Pattern:
    """A compiled pattern. ``search`` says whether it matches somewhere in a text (no match objects: nobody needs
    them, and RE2 finds a match's extent more cheaply than its groups)."""

    __slots__ = ("_block", "_line", "ignore_case", "text")

    def __init__(self, text: str, ignore_case: bool, line: Any, block: Any) -> None:
        self.text = text
        self.ignore_case = ignore_case
        self._line = line
        self._block = block  # the same pattern in multi-line mode, or None when that would change its meaning

    def __repr__(self) -> str:
        return f"Pattern({self.text!r}{', ignore_case=True' if self.ignore_case else ''})"

    def search(self, text: str) -> bool:
        return _matches(self._line, text)

    def search_block(self, text: str) -> bool:
        """Whether some line of ``text`` (lines joined by ``\\n``) may match: a quick no for a whole batch, never a
        wrong one (``^``/``$`` match at line ends; ``\\A``/``\\z`` cannot be tried per block, so: maybe)."""
        return True if self._block is None else _matches(self._block, text)

    async def search_async(self, text: str, *, block: bool = False) -> bool:
        """``search`` (or ``search_block``) that runs a long text in a worker thread."""
        run = self.search_block if block else self.search
        if len(text) <= OFFLOAD_CHARS:
            return run(text)
        return await trio.to_thread.run_sync(run, text, abandon_on_cancel=True, limiter=_searchers())


def compile_pattern(text: str, *, ignore_case: bool = False) -> Pattern:
    """``text`` compiled for RE2, or ``PatternError`` naming what is wrong with it."""
    translated = _translate(text)
    try:
        encoded = translated.encode("utf-8")
    except UnicodeEncodeError:
        raise PatternError(f"invalid regex {text!r}: it is not valid Unicode") from None
    _compile(text, encoded, ignore_case, CHECK_MEM)  # bounds the time of the real compile below
    line = _compile(text, encoded, ignore_case, RUN_MEM)
    block = None if _WHOLE_TEXT.search(translated) else _compile(text, b"(?m)" + encoded, ignore_case, RUN_MEM)
    return Pattern(text, ignore_case, line, block)


def _compile(text: str, encoded: bytes, ignore_case: bool, max_mem: int) -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would write each rejected pattern to stderr, through the panel
    options.never_capture = True
    options.case_sensitive = not ignore_case
    options.max_mem = max_mem
    compiled = _re2.RE2(encoded, options)
    if compiled.ok():
        return compiled
    reason = compiled.error()
    reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    if "too large" in reason:
        raise PatternError(
            f"regex {text!r} is too large: {LINEAR}, which refuses patterns that compile to this much; "
            "use fewer or smaller counted repetitions like {100}"
        )
    raise PatternError(f"invalid regex {text!r}: {reason}")


def _matches(compiled: Any, text: str) -> bool:
    data = text.encode("utf-8", "surrogatepass")
    return bool(compiled.Match(_UNANCHORED, data, 0, len(data))[0] != _NO_MATCH)


def _translate(text: str) -> str:
    """``text`` in RE2's dialect (Python's ``\\Z`` is RE2's ``\\z``), or ``PatternError`` for what RE2 cannot run."""
    out: list[str] = []
    i, n = 0, len(text)
    in_class = after_repeat = False
    while i < n:
        char = text[i]
        if char == "\\":
            escaped = text[i + 1 : i + 2]
            if not in_class and escaped in tuple("123456789"):
                _refuse(f"backreference `\\{escaped}`")
            if not in_class and escaped in _ESCAPES:
                _refuse(_ESCAPES[escaped])
            out.append("\\z" if escaped == "Z" and not in_class else text[i : i + 2])
            i += 2
            after_repeat = False
            continue
        step = 1
        if in_class:
            if posix := _POSIX_CLASS.match(text, i):  # [[:alpha:]]
                step = posix.end() - i
            elif char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            step += text.startswith("^", i + 1)
            step += text.startswith("]", i + step)  # a "]" first in a class is literal
        elif char == "(" and text.startswith("?", i + 1):
            _check_group(text, i)
        elif char == "+" and after_repeat:
            _refuse(f"possessive quantifier `{text[i - 1]}+`")
        elif char == "{" and (count := _COUNT.match(text, i)):
            step = count.end() - i
        out.append(text[i : i + step])
        # a quantifier just ended (a "?" right after one makes it lazy and ends it)
        after_repeat = (char in "*+?" and not after_repeat and not in_class) or (
            char == "{" and step > 1 and not in_class
        )
        if char == "(":
            after_repeat = False
        i += step
    return "".join(out)


def _check_group(text: str, i: int) -> None:
    for prefix, what in _GROUPS:
        if text.startswith(prefix, i):
            _refuse(what)
    if recursion := _RECURSION.match(text, i):
        _refuse(f"recursion `{recursion.group()}`")
    flags = _FLAGS.match(text, i)
    if flags:
        for flag in (flags.group(1) or "") + (flags.group(2) or ""):
            if flag not in _RE2_FLAGS:
                name = {"x": "verbose", "a": "ASCII", "L": "locale", "u": "Unicode"}.get(flag, "unknown")
                _refuse(f"the {name} flag `(?{flag})`")


def _refuse(what: str) -> None:
    raise PatternError(f"{what} is not supported: {LINEAR}")


def _searchers() -> trio.CapacityLimiter:
    """This run's limiter of search threads (a limiter must not outlive its Trio run: an abandoned search releases
    its token when it finishes, possibly after a test's run ended)."""
    try:
        return _SEARCHERS.get()
    except LookupError:
        limiter = trio.CapacityLimiter(SEARCH_THREADS)
        _SEARCHERS.set(limiter)
        return limiter


_SEARCHERS: trio.lowlevel.RunVar[trio.CapacityLimiter] = trio.lowlevel.RunVar("brummer_search_threads")
