"""Chunks to lines: boundaries, encodings, cuts, and bounded memory for an unterminated flood."""

from __future__ import annotations

import pytest

from brummer.logs.lines import LINE_LIMIT, LineSplitter, strip


def as_lines(block: tuple[str, int] | None) -> list[str]:
    if block is None:
        return []
    text, count = block
    lines = text.split("\n")
    assert len(lines) == count
    return lines


def split_all(chunks: list[bytes]) -> list[str]:
    splitter = LineSplitter()
    lines = []
    for chunk in chunks:
        lines += as_lines(splitter.feed(chunk))
    return lines + as_lines(splitter.finish())


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 4096])
def test_any_chunking_gives_the_same_lines(size: int) -> None:
    data = "héllo wörld\r\nsecond ✓ line\n\nlast without newline".encode()
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    assert split_all(chunks) == ["héllo wörld", "second ✓ line", "", "last without newline"]


def test_invalid_utf8_is_replaced_and_nul_kept() -> None:
    assert split_all([b"a\xffb\x00c\n"]) == ["a\ufffdb\x00c"]


def test_lone_carriage_returns_stay() -> None:
    assert split_all([b"progress 10%\rprogress 20%\n"]) == ["progress 10%\rprogress 20%"]


def test_long_line_is_cut_and_marked_without_buffering_it() -> None:
    splitter = LineSplitter()
    piece = b"x" * 100_000
    for _ in range(100):  # 10 MB, no newline yet
        assert splitter.feed(piece) is None
        assert len(splitter._carry) <= LINE_LIMIT and len(splitter._cut_head or b"") <= LINE_LIMIT
    [line, after] = as_lines(splitter.feed(b"tail\nnext\n"))
    assert line.startswith("x" * LINE_LIMIT) and "10,000,004 bytes" in line
    assert len(line) < LINE_LIMIT + 100
    assert after == "next"


def test_long_line_inside_one_chunk_is_cut() -> None:
    big = b"short\n" + b"y" * (LINE_LIMIT + 10) + b"\nend\n"
    lines = split_all([big])
    assert lines[0] == "short" and lines[2] == "end"
    assert lines[1].startswith("y" * 1000) and "line cut by brummer" in lines[1]


def test_strip_removes_ansi_and_nul() -> None:
    colored = "\x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m: http://localhost:\x1b[1m5173\x1b[22m/\x00"
    assert strip(colored) == "➜  Local: http://localhost:5173/"
    assert strip("\x1b]8;;http://x\x07link\x1b]8;;\x07") == "link"


def test_strip_is_what_a_pipe_gets() -> None:
    """Search, detection and agents see the text brummer would print to a pipe: string payloads go with their
    sequence, controls go, and a line that redraws itself shows its last frame."""
    assert strip("a\x1bPq#0;2;0;0;0\x1b\\b") == "ab"  # DCS (sixel) payload
    assert strip("a\x1b_secret payload\x1b\\b\x1bXsos\x1b\\c\x1b^pm\x07d") == "abcd"  # APC, SOS, PM
    assert strip("a\x9d0;title\x07b\x9b2Jc") == "abc"  # C1 OSC and CSI
    assert strip("x\x07y\x08z\x7f") == "xyz"
    assert strip("building 10%\rbuilding 50%\rbuilt in 2s\nnext") == "built in 2s\nnext"
    assert strip("tab\tkept") == "tab\tkept"
