"""A child's raw output as safe, one-line rich ``Text``: its colours kept, everything that could move the cursor gone.

Log lines are the child's bytes (ANSI colours, OSC hyperlinks, progress-bar carriage returns, stray control
characters). Handed to the terminal unfiltered, a stray ESC or vertical tab would wreck the frame, so each line is
cut to what can be seen, reduced to what follows its last carriage return (what a terminal would show), parsed with
``Text.from_ansi`` and cleaned of any control character left. Conversions are cached by the line's text: a frame
mostly shows the lines the previous frame showed.
"""

from __future__ import annotations

from rich.color import Color
from rich.style import Style
from rich.text import Text

from brummer.logs.lines import strip

CACHE_SIZE = 2048
ANSI_SLACK = 4  # raw characters kept per visible column (colour codes take room), plus a fixed allowance
ANSI_EXTRA = 256
REPLACEMENT = "\ufffd"

# Characters ``str.splitlines`` breaks on (``Text.from_ansi`` would turn them into extra lines): a space.
_BREAKS = {ord(c): " " for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
# Other C0 and C1 controls, except TAB and ESC (the ANSI parser needs ESC): dropped.
_CONTROLS: dict[int, str | None] = {
    code: None for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if code not in (0x09, 0x1B)
}
_RAW_TABLE = {**_CONTROLS, **_BREAKS}
_ALL_CONTROLS = {**_CONTROLS, 0x1B: None, 0x09: " "}
_cache: dict[tuple[str, int], Text] = {}


def colour_style(code: str) -> Style:
    """The rich style for an SGR foreground code from ``plain.PALETTE`` ("36", "96", ...)."""
    number = int(code)
    return Style(color=Color.from_ansi(number - 30 if number < 90 else number - 90 + 8))


def one_line(text: str) -> str:
    """Brummer's own strings (messages, error texts) on one line, without control characters."""
    if not text:
        return text
    return " ".join(strip(text).splitlines()).translate(_ALL_CONTROLS)


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
        parts = [part for part in raw.split("\r") if part]
        raw = parts[-1] if parts else ""
    limit = width * ANSI_SLACK + ANSI_EXTRA
    if len(raw) > limit:
        raw = raw[:limit]
    raw = raw.translate(_RAW_TABLE)
    text = Text.from_ansi(raw) if "\x1b" in raw else Text(raw)
    plain = text.plain
    if "\x1b" in plain or "\n" in plain:  # a cut or malformed sequence: never let it reach the terminal
        text.plain = plain.replace("\x1b", REPLACEMENT).replace("\n", " ")
    if "\t" in plain:
        text.expand_tabs(8)
    return text
