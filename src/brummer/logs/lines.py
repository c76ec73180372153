"""From pipe chunks to text lines, in bulk.

A child's output arrives as byte chunks of any size. ``LineSplitter`` splits each chunk at its last newline,
decodes the complete part in one call (UTF-8, invalid bytes replaced: a newline never sits inside a multi-byte
character, so a chunk boundary never splits one) and splits that text once. The per-line Python work is nil on
the common path, which is what keeps a million-line flood cheap.

Lines longer than ``LINE_LIMIT`` bytes are cut and marked; an unterminated line is never buffered beyond the limit,
so a child printing 10 MB without a newline costs 64 KiB. Escape sequences and controls are kept (for display);
``strip`` gives the text that search, detection and agents see.
"""

from __future__ import annotations

from brummer.sanitize import for_pipe

LINE_LIMIT = 64 * 1024


def strip(text: str) -> str:
    """``text`` as a pipe gets it (``sanitize.for_pipe``), for search, detection and agents, not for display: no
    escape sequence (a DCS or APC string goes with its payload), no control but TAB and newline, and of a line that
    redraws itself with carriage returns only what it showed last. One memchr per control for plain ASCII."""
    return for_pipe(text)


def cut_marker(total: int) -> str:
    return f" [… line cut by brummer: {total:,} bytes, first {LINE_LIMIT:,} kept]"


class LineSplitter:
    """Incremental splitter for one byte stream.

    ``feed`` returns the complete lines a chunk finishes as one block of text (lines joined by ``\n``, no final
    newline) and their count, or None. Keeping the block whole is the point: the store, the detectors and the
    printer each work on the block, and only readers that ask for single lines ever split it.
    """

    __slots__ = ("_carry", "_cut_head", "_cut_total", "limit")

    def __init__(self, limit: int = LINE_LIMIT) -> None:
        self.limit = limit
        self._carry = b""
        self._cut_head: bytes | None = None  # the kept start of an overlong line still being discarded
        self._cut_total = 0

    def feed(self, chunk: bytes | bytearray) -> tuple[str, int] | None:
        """The complete lines that ``chunk`` finishes: (block text, line count), or None."""
        blocks: list[str] = []
        count = 0
        data = self._carry + chunk if self._carry else bytes(chunk) if isinstance(chunk, bytearray) else chunk
        self._carry = b""
        if self._cut_head is not None:
            newline = data.find(b"\n")
            if newline < 0:
                self._cut_total += len(data)
                return None
            self._cut_total += newline
            blocks.append(self._finish_cut())
            count = 1
            data = data[newline + 1 :]
        end = data.rfind(b"\n")
        if end < 0:
            self._hold(data)
        else:
            text, n = self._decode(data[:end])
            blocks.append(text)
            count += n
            self._hold(data[end + 1 :])
        if not count:
            return None
        return (blocks[0] if len(blocks) == 1 else "\n".join(blocks)), count

    def finish(self) -> tuple[str, int] | None:
        """End of stream: the unterminated last line, if any."""
        if self._cut_head is not None:
            return self._finish_cut(), 1
        if not self._carry:
            return None
        rest, self._carry = self._carry, b""
        return self._decode(rest)

    def _hold(self, rest: bytes) -> None:
        if len(rest) > self.limit:
            self._cut_head = rest[: self.limit]
            self._cut_total = len(rest)
        else:
            self._carry = rest

    def _finish_cut(self) -> str:
        head, total = self._cut_head or b"", self._cut_total
        self._cut_head, self._cut_total = None, 0
        text = head.decode("utf-8", "replace").removesuffix("\r")
        return text + cut_marker(total)

    def _decode(self, complete: bytes) -> tuple[str, int]:
        text = complete.decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if text.endswith("\r"):
                text = text[:-1]
        if len(complete) > self.limit and self._may_hold_long_line(complete):
            lines = [self._cut(line) for line in text.split("\n")]
            return "\n".join(lines), len(lines)
        return text, text.count("\n") + 1

    def _may_hold_long_line(self, data: bytes) -> bool:
        """A line longer than the limit leaves some aligned window of half the limit without a newline."""
        half = self.limit // 2
        return any(data.find(b"\n", pos, pos + half) < 0 for pos in range(0, len(data) - half + 1, half))

    def _cut(self, line: str) -> str:
        if len(line) <= self.limit // 4:
            return line
        raw = line.encode("utf-8", "surrogatepass")
        if len(raw) <= self.limit:
            return line
        return raw[: self.limit].decode("utf-8", "ignore") + cut_marker(len(raw))
