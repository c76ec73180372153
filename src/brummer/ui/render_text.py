"""A child's raw output as safe, one-line rich ``Text``: its colours kept, everything that could move the cursor gone.

Log lines are the child's bytes (ANSI colours, OSC hyperlinks, progress-bar carriage returns, stray control
characters). Handed to the terminal unfiltered, a stray ESC or vertical tab would wreck the frame, and a hyperlink
could show one address and lead to another. So each line is reduced to what follows its last carriage return (what a
terminal would show), cut to what can be seen, and sanitised (``sanitize.for_terminal``) so that only SGR reaches
``Text.from_ansi``: a hyperlink keeps its text and loses its hidden target. Conversions are cached by the line's
text: a frame mostly shows the lines the previous frame showed.
"""

from __future__ import annotations

from rich.color import Color
from rich.style import Style
from rich.text import Text

from brummer.sanitize import for_terminal, last_segment
from brummer.sanitize import one_line as one_line  # brummer's own strings: the panel imports it from here

CACHE_SIZE = 2048
ANSI_SLACK = 4  # raw characters kept per visible column (colour codes take room), plus a fixed allowance
ANSI_EXTRA = 256

# Line breaks the sanitiser keeps (``Text.from_ansi`` would make extra lines of them): a space
_SEPARATORS = {ord(c): " " for c in "\n\u2028\u2029"}
_cache: dict[tuple[str, int], Text] = {}


def colour_style(code: str) -> Style:
    """The rich style for an SGR foreground code from ``plain.PALETTE`` ("36", "96", ...)."""
    number = int(code)
    return Style(color=Color.from_ansi(number - 30 if number < 90 else number - 90 + 8))


def log_text(raw: str, width: int) -> Text:
    """``raw`` (one stored log line) as styled text for a ``width``-column terminal. Callers must not modify it."""
    key = (raw, width)
    text = _cache.get(key)
    if text is None:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        text = _cache[key] = _convert(raw, width)
    return text


def _convert(raw: str, width: int) -> Text:
    if "\r" in raw:
        raw = last_segment(raw)
    limit = width * ANSI_SLACK + ANSI_EXTRA
    if len(raw) > limit:
        raw = raw[:limit]  # a sequence cut here is unfinished: the sanitiser drops it
    raw = for_terminal(raw)
    if "\n" in raw or "\u2028" in raw or "\u2029" in raw:
        raw = raw.translate(_SEPARATORS)
    text = Text.from_ansi(raw) if "\x1b" in raw else Text(raw)
    if "\t" in raw:
        text.expand_tabs(8)
    return text
