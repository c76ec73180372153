"""Reading what the panel drew from the raw bytes a pseudo-terminal received.

On the alternate screen every frame starts with cursor-home (ESC [ H) and repaints every line, so the screen as a
person sees it is the text after the last cursor-home, without escape sequences.
"""

from __future__ import annotations

import re

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
HOME = "\x1b[H"


def last_frame(output: str) -> list[str]:
    """The lines of the newest (possibly still arriving) frame."""
    start = output.rfind(HOME)
    if start < 0:
        return []
    return ESCAPES.sub("", output[start:]).replace("\r", "").split("\n")


def table_row(lines: list[str], name: str) -> list[str] | None:
    """The cells of ``name``'s row in the process table (split on runs of spaces), or None."""
    for line in lines:
        cells = line.replace("›", " ").split()
        if cells and cells[0] == name and len(cells) > 1 and not line.startswith(f"{name} "):
            return cells
    return None


def table_cell(lines: list[str], name: str, column: str) -> str | None:
    """The text under ``column``'s header in ``name``'s row (for right-aligned numeric columns)."""
    header = next((line for line in lines if " name " in line and " state " in line), None)
    if header is None or f" {column}" not in header:
        return None
    start = header.index(f" {column}") + 1
    for line in lines:
        cells = line.replace("›", " ").split()
        if cells and cells[0] == name and not line.startswith(f"{name} "):
            return line[start : start + len(column)].strip()
    return None
