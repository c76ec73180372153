"""Child output cannot drive the user's terminal: only SGR survives on a terminal, only text when piped.

Each hostile sequence is checked on the three paths that show child text: the plain printer on a terminal
(``for_terminal``), piped (``for_pipe``) and the panel (``log_text``, rendered by rich as the panel would).
"""

from __future__ import annotations

import random
import re
import time

import pytest
from rich.console import Console

from brummer.sanitize import for_pipe, for_terminal, one_line
from brummer.ui.render_text import log_text

# (what it is, what a child prints, what must be left of it)
HOSTILE = [
    ("OSC 52 clipboard write", "a\x1b]52;c;ZWNobyBwd25lZA==\x07b", "ab"),
    ("OSC 0 title, BEL-terminated", "a\x1b]0;pwned\x07b", "ab"),
    ("OSC 0 title, ST-terminated", "a\x1b]0;pwned\x1b\\b", "ab"),
    ("ESC[2J clear screen", "a\x1b[2Jb", "ab"),
    ("ESC[H cursor home", "a\x1b[Hb", "ab"),
    ("DCS string", "a\x1bP1$r0m pwned\x1b\\b", "ab"),
    ("ESC[6n cursor position query", "a\x1b[6nb", "ab"),
    ("OSC 11 background colour query", "a\x1b]11;?\x07b", "ab"),
    ("OSC 11 query, ST-terminated", "a\x1b]11;?\x1b\\b", "ab"),
    ("C1 CSI U+009B", "a\x9b2Jb", "ab"),
    ("C1 OSC U+009D, ST U+009C", "a\x9d0;pwned\x9cb", "ab"),
    ("C1 OSC U+009D, BEL", "a\x9d52;c;cHduZWQ=\x07b", "ab"),
    ("C1 DCS U+0090 with ESC \\", "a\x90pwned\x1b\\b", "ab"),
    ("BEL", "a\x07b", "ab"),
    ("BS", "a\x08\x08b", "ab"),
    (
        "OSC 8 link whose text and target differ",
        "see \x1b]8;;https://evil.test/\x1b\\https://good.test/\x1b]8;;\x1b\\!",
        "see https://good.test/!",
    ),
    ("unterminated OSC at the end of the line", "a\x1b]0;pwned and never ended", "a"),
    ("unfinished CSI at the end of the line", "a\x1b[12;3", "a"),
    ("APC, PM and SOS strings", "a\x1b_pwned\x1b\\b\x1b^pwned\x1b\\c\x1bXpwned\x1b\\d", "abcd"),
    ("private CSI (alternate screen)", "a\x1b[?1049hb", "ab"),
    ("CSI ending in m that is not SGR", "a\x1b[?31mb\x1b[1 mc\x1b[>4;2md", "abcd"),
    ("two-byte escapes: reset, save and restore cursor, charset", "a\x1bcb\x1b7c\x1b8d\x1b(0e", "abcde"),
    ("cursor save and restore that look like SGR", "a\x1b7[mb\x1b[32m\x1b8;1[0mc", "a[mb\x1b[32m;1[0mc"),
    ("other C0 and DEL", "a\x00\x01\x0b\x0c\x0e\x1a\x1c\x1fb\x7f", "ab"),
    ("other C1 (NEL, IND, ST alone)", "a\x85\x84\x9cb", "ab"),
    ("a lone ESC at the end", "ab\x1b", "ab"),
    ("carriage returns of a progress bar", "10%\r50%\r100%\r", "100%"),
]
IDS = [case[0] for case in HOSTILE]
SGR = re.compile(r"\x1b\[[0-9;:]*m")
# What may reach a terminal: SGR, TAB, newline and text without any C0 or C1 control or bidi embedding/override/isolate
TERMINAL_SAFE = re.compile(r"(?:\x1b\[[0-9;:]*m|[^\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069])*")
PIPE_SAFE = re.compile(r"[^\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*")


def panel_screen(raw: str, width: int = 200) -> str:
    """What the panel writes to the terminal for one log line."""
    console = Console(width=width, force_terminal=True, color_system="standard", legacy_windows=False, _environ={})
    console.begin_capture()
    console.print(log_text(raw, width), no_wrap=True, overflow="ellipsis")
    return console.end_capture()


@pytest.mark.parametrize(("raw", "left"), [case[1:] for case in HOSTILE], ids=IDS)
def test_terminal_path_keeps_only_text(raw: str, left: str) -> None:
    assert for_terminal(raw) == left


@pytest.mark.parametrize(("raw", "left"), [case[1:] for case in HOSTILE], ids=IDS)
def test_piped_path_keeps_only_text(raw: str, left: str) -> None:
    assert for_pipe(raw) == SGR.sub("", left)


@pytest.mark.parametrize(("raw", "left"), [case[1:] for case in HOSTILE], ids=IDS)
def test_panel_path_keeps_only_text(raw: str, left: str) -> None:
    assert log_text(raw, 200).plain == SGR.sub("", left)
    screen = panel_screen(raw)
    assert TERMINAL_SAFE.fullmatch(screen), repr(screen)
    assert "pwned" not in screen and "evil" not in screen and "\x1b]" not in screen


def test_sgr_is_kept_on_a_terminal_and_stripped_when_piped() -> None:
    raw = "a \x1b[1;31mred\x1b[0m \x1b[38:5:208morange\x1b[m \x1b[38;2;1;2;3mrgb\x1b[39m"
    assert for_terminal(raw) is raw  # the fast path: not even copied
    assert for_pipe(raw) == "a red orange rgb"
    mixed = "\x1b[32mok\x1b[0m\x1b]0;pwned\x07 \x9b2J\x1b[1mbold\x1b[22m\x07"
    assert for_terminal(mixed) == "\x1b[32mok\x1b[0m \x1b[1mbold\x1b[22m"
    assert for_pipe(mixed) == "ok bold"
    assert "\x1b[31m" in panel_screen("a \x1b[31mred\x1b[0m")


def test_plain_text_takes_the_fast_path() -> None:
    ascii_text = "\n".join(f"{i:08d} GET /api/items 200 OK in 12ms\tlorem ipsum" for i in range(1000))
    assert for_pipe(ascii_text) is ascii_text and for_terminal(ascii_text) is ascii_text
    text = ascii_text.replace("lorem", "café ✓ 日本")
    assert for_pipe(text) is text and for_terminal(text) is text


def test_batches_are_cleaned_line_by_line() -> None:
    batch = "first \x1b]0;pwned\nsecond \x1b[31mred\x1b[0m\rthird\nfourth\x1bP\n\x9d0;x\nsixth"
    assert for_terminal(batch) == "first \nthird\nfourth\n\nsixth"
    assert for_pipe(batch) == "first \nthird\nfourth\n\nsixth"
    progress = "build\n 10% [=    ]\r 50% [==   ]\r100% [=====]\ndone"
    assert for_terminal(progress) == for_pipe(progress) == "build\n100% [=====]\ndone"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("10%\r50%\r100%\r", "100%"),
        ("Downloading 100%\r\x1b[K", "Downloading 100%"),  # an erase-line after the last CR shows nothing new
        ("\x1b[32m 10%\x1b[0m\r\x1b[32m100%\x1b[0m\r\x1b[0m", "\x1b[32m100%\x1b[0m"),
        ("\r\r", ""),
    ],
)
def test_carriage_returns_show_the_last_segment_with_text(raw: str, shown: str) -> None:
    assert for_terminal(raw) == shown
    assert for_pipe(raw) == SGR.sub("", shown)
    assert log_text(raw, 80).plain == SGR.sub("", shown)


def test_one_line_for_brummers_own_strings() -> None:
    assert one_line("first\nsecond \x1b[31mred\x1b[0m\x07\tend") == "first second red end"
    assert one_line("name\x1b]0;pwned\x07\x9b2J") == "name"


FRAGMENTS = [
    *(case[1] for case in HOSTILE),
    "\x1b[31m",
    "\x1b[0m",
    "\x1b[1;38:5:3m",
    "text",
    " ",
    "\n",
    "\t",
    "\r",
    "é",
    "°",
    "\u00a0",
    "✓",
    "\u2028",
    "\ud800",
    "[m",
    "[0m",
    *"\x1b\x9b\x9d\x90\x9c\x07[]P\\m;7?",
]


def test_random_mixtures_leave_only_sgr_and_text() -> None:
    """Any mixture, however the pieces combine: what is left is SGR and text, and a second pass changes nothing."""
    rng = random.Random(7)
    for _ in range(3000):
        raw = "".join(rng.choices(FRAGMENTS, k=rng.randint(1, 12)))
        terminal, piped = for_terminal(raw), for_pipe(raw)
        assert TERMINAL_SAFE.fullmatch(terminal), (raw, terminal)
        assert PIPE_SAFE.fullmatch(piped), (raw, piped)
        assert for_terminal(terminal) == terminal and for_pipe(piped) == piped
        assert for_pipe(terminal) == piped  # the same text either way: SGR is all that differs
        line = raw.replace("\n", " ")
        assert PIPE_SAFE.fullmatch(log_text(line, 80).plain), (raw, log_text(line, 80).plain)


LONG_LINES = [
    "\x1b[" * 32768,
    "\x1b]" * 32768,
    "\x1b[" + "1;" * 32768,
    "\x1b[1" * 21845,
    "\x1b[31m\x1b[" * 8192,
    "\x1b" * 65536,
    "\x1bP" + "\x1b" * 65534,
    "\x9d" * 65536,
    "\x9b" * 65536,
    "\x1b]0;" + "x" * 65532,
    "a\r" * 32768,
    "\r" * 65536,
    "\x07\x1b[2J" * 13107,
]


@pytest.mark.parametrize("scale", [1, 4], ids=["64KiB", "256KiB"])
def test_long_lines_of_escapes_take_linear_time(scale: int) -> None:
    """64 KiB lines (the longest a child can write) and 256 KiB (a whole batch) of hostile escapes.

    Linear work is well under a second for all of them even on a loaded machine; anything quadratic in a line's
    length would take minutes at these sizes, so the bound is generous and still catches it.
    """
    start = time.monotonic()
    for line in LONG_LINES:
        raw = line * scale
        assert "\x1b" not in for_pipe(raw)
        assert SGR.sub("", for_terminal(raw)).count("\x1b") == 0
        assert "\x1b" not in log_text(raw, 200).plain
    assert time.monotonic() - start < 30


def test_the_fast_path_passes_exactly_what_is_already_safe() -> None:
    """Short strings over the characters escapes are made of: a text is returned untouched if and only if it is
    already nothing but SGR and text (so the quick test never lets a disguised sequence through)."""
    alphabet = "\x1b[]0178;:m?P\\\x07\x9b\x9d\x9c\r\nab°\u202e\u2069“"
    rng = random.Random(11)
    for _ in range(20000):
        raw = "".join(rng.choices(alphabet, k=rng.randint(1, 9)))
        safe = TERMINAL_SAFE.fullmatch(raw) is not None and "\r" not in raw
        terminal = for_terminal(raw)
        assert (terminal == raw) is safe, raw
        assert TERMINAL_SAFE.fullmatch(terminal) and "\r" not in terminal, (raw, terminal)
        assert (for_pipe(raw) == raw) is (PIPE_SAFE.fullmatch(raw) is not None and "\r" not in raw), raw


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize("control", list(BIDI), ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidi_controls_never_reach_the_terminal(control: str) -> None:
    """A right-to-left override makes ``evil\u202etxt.exe`` read as ``evilexe.txt`` (Trojan Source): every bidi
    embedding, override and isolate is removed, on every path, whatever else the text holds."""
    for raw in (f"file{control}gpj.exe", f"é {control}x", f"\x1b[31mred{control}\x1b[0m", f"“{control}”\tok"):
        left = raw.replace(control, "")
        assert for_terminal(raw) == left
        assert for_pipe(raw) == SGR.sub("", left)
        assert one_line(raw) == SGR.sub("", left).replace("\t", " ")
        assert control not in log_text(raw, 200).plain and control not in panel_screen(raw)


def test_text_near_the_bidi_controls_is_kept() -> None:
    """Their neighbours in UTF-8 (punctuation, the LRM/RLM marks, the other U+206x) are text, and take the fast path."""
    text = "– — ‘quoted’ “quoted” • … ‰ \u200e\u200f \u2060\u2061\u206a\u206f שלום مرحبا"
    assert for_terminal(text) is text and for_pipe(text) is text
