"""The closed sets a log line's fields come from: the stream it was written to, and its level.

A line's stream is the child's ``stdout`` or ``stderr``, or ``brummer`` for brummer's own notes (kept in the
process's log among its lines, always level info, run 0). Notes that belong to no process are kept under the process
name ``BRUMMER``. A level is judged from a line's text (``query.classify``) or given with a note; filters take a
level and keep it and the ones above (``LEVELS`` is in that order).
"""

from __future__ import annotations

import enum
from typing import Literal, get_args


class Stream(enum.StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"
    BRUMMER = "brummer"  # brummer's own notes


OUTPUT = (Stream.STDOUT, Stream.STDERR)  # what a child writes (and what a reader may ask for)
BRUMMER = "brummer"  # the process name under which notes that belong to no process are kept

Level = Literal["debug", "info", "warn", "error"]
LEVELS: tuple[Level, ...] = get_args(Level)  # lowest first


def as_level(text: str) -> Level:
    """``text`` as a level (``warning`` is ``warn``); a ValueError names the levels if it is none of them."""
    return LEVELS[level_rank(text)]


def level_rank(level: str | None) -> int:
    """The index of ``level`` in ``LEVELS`` (``warning`` is ``warn``; None: 0, everything); a ValueError names the
    levels if it is none of them."""
    if level is None:
        return 0
    try:
        return LEVELS.index(level.lower().removesuffix("ing"))
    except ValueError:
        raise ValueError(f"unknown level {level!r} (one of: {', '.join(LEVELS)})") from None
