"""Child output becomes one safe line: colours kept, nothing that could move the cursor reaches the terminal."""

from __future__ import annotations

import pytest
from rich.console import Console

from brummer.ui.render_text import colour_style, log_text, one_line


def shown(raw: str, width: int = 40) -> str:
    console = Console(width=width, force_terminal=True, color_system="standard", legacy_windows=False, _environ={})
    console.begin_capture()
    console.print(log_text(raw, width), no_wrap=True, overflow="ellipsis")
    return console.end_capture()


def test_colours_are_kept() -> None:
    text = log_text("a \x1b[31mred\x1b[0m word", 80)
    assert text.plain == "a red word"
    assert "\x1b[31mred" in shown("a \x1b[31mred\x1b[0m word")


@pytest.mark.parametrize(
    "raw",
    [
        "cut in the middle \x1b[3",
        "clear screen \x1b[2J and home \x1b[H",
        "vertical\x0btab and form\x0cfeed and \u2028 separator",
        "bell\x07 backspace\x08 nul\x00 c1\x9b31m",
        "a\x1b]0;window title\x07b",
    ],
)
def test_nothing_escapes(raw: str) -> None:
    out = shown(raw, 200)
    assert out.count("\n") == 1  # one line
    assert "\x1b[2J" not in out and "\x1b[H" not in out and "\x0b" not in out and "\x9b" not in out
    assert "\x1b]0;" not in out and "\x07" not in out


def test_carriage_return_shows_what_a_terminal_would() -> None:
    assert log_text("progress 10%\rprogress 100%", 80).plain == "progress 100%"
    assert log_text("done\r", 80).plain == "done"


def test_long_lines_are_cut_before_parsing() -> None:
    text = log_text("\x1b[32m" + "x" * 100_000, 50)
    assert len(text.plain) < 1_000


def test_tabs_expand() -> None:
    assert "\t" not in log_text("a\tb", 80).plain


def test_one_line_and_colour_style() -> None:
    assert one_line("first\nsecond \x1b[31mred\x1b[0m\x07") == "first second red"
    assert colour_style("36").color is not None and colour_style("96").color is not None
