"""Child text made safe to show: on a terminal only SGR (colours and styles) survives; piped, only text does.

A child's output is hostile: OSC 52 writes the user's clipboard, OSC 0 sets the window title, ``ESC[2J`` clears the
screen, ``ESC[6n`` and OSC 11 make the terminal answer on its input, DCS/APC strings talk to the terminal itself, and
the 8-bit C1 controls (U+009B is CSI, U+009D is OSC) do the same in one code point. The bidirectional embeddings,
overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder what follows them ("Trojan Source": ``evil<RLO>txt.exe``
reads as ``evilexe.txt``), so they go too. Everything that reaches a terminal goes through here: the plain printer's
batches, the panel's lines, and brummer's own lines that quote child text.

Removal follows a terminal's own parser, so no fragment of a removed sequence can start a new one: an escape is taken
with its whole body (CSI up to its final byte; OSC, DCS, SOS, PM and APC strings up to BEL or ST), an unfinished one up
to the end of its line, then every control left but TAB and newline goes. A carriage return would move the cursor
back over brummer's prefix, so each line keeps what follows its last one (what a progress bar last showed).

The plain printer calls this for every batch of a log flood, so the common case must cost next to nothing: a memchr
per control character for ASCII text, else one ``encode`` and one ``bytes.translate`` (plus three counts when it holds
ESC), all C loops, tell whether a batch holds anything but text and SGR; a non-ASCII batch that holds the byte 0xE2
(general punctuation, symbols) also gets one bytes regex search for the bidi controls' UTF-8; only the passes it
needs then run (figures in docs/benchmarks.md). Every pattern here is linear in the text's length: classes that
cannot overlap, greedy runs that never backtrack, strings that end at the line's end.
"""

from __future__ import annotations

import re

# CSI's parameters, intermediates and final byte (an unfinished one is taken too)
_CSI = r"[0-?]*[ -/]*[@-~]?"


def _string(ends: str) -> str:
    """OSC, DCS, SOS, PM, APC: their string ends at BEL or ST (ESC \\ or U+009C), else (for us) at one of ``ends``."""
    return rf"[^\x07\x1b\x9c{ends}]*(?:\x07|\x1b\\|\x9c)?"


_STRING = _string(r"\n")  # an unterminated string is dropped up to the end of its line, not beyond
_NOT_SGR = r"(?!\[[0-9;:]*m)"


def _escapes(ahead: str = "", string: str = _STRING) -> re.Pattern[str]:
    """ESC [ is CSI; ESC ] P X ^ _ open strings; anything else is an nF/Fp/Fe/Fs escape (or a lone ESC)."""
    return re.compile(rf"\x1b{ahead}(?:\[{_CSI}|[\]PX^_]{string}|[ -/]*[0-~]?)")


_ESCAPES = _escapes()
_ESCAPES_BUT_SGR = _escapes(ahead=_NOT_SGR)
# For finding the segment a progress bar shows: the same, but never across a carriage return (see last_segment)
_ESCAPES_TO_CR = _escapes(string=_string(r"\n\r"))
_C1_INTRODUCERS = "\x9b\x9d\x90\x98\x9e\x9f"  # CSI, OSC, DCS, SOS, PM, APC as single code points
_C1_SEQUENCES = re.compile(rf"\x9b{_CSI}|[\x90\x98\x9d-\x9f]{_STRING}")
# What is left once sequences are gone: C0 but TAB, newline, CR (handled by line) and ESC (SGR's); DEL; C1.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]+")
# The bidi embeddings, overrides and isolates: as text, and as their UTF-8 (E2 80 AA-AE, E2 81 A6-A9) for the test.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]+")
_BIDI_UTF8 = re.compile(rb"\xe2(?:\x80[\xaa-\xae]|\x81[\xa6-\xa9])")

_SGR_PARAMETERS = b"0123456789;:"
# Bytes of a batch's UTF-8 that call for a closer look: C0 controls but TAB and newline, DEL, and 0xC2, which leads
# U+0080-U+00BF where the C1 controls are (text with a degree sign or a non-breaking space takes the slow path: correct,
# only slower).
_UNSAFE = {*range(0x20), 0x7F, 0xC2} - {0x09, 0x0A}
_SAFE_BYTES = bytes(byte for byte in range(256) if byte not in _UNSAFE)
_TERMINAL_CLASSES = bytes(0 if byte in _UNSAFE and byte != 0x1B else byte for byte in range(256))
# ESC first: colourful text is told apart by the first scan
_ONE_LINE = {ord(c): " " for c in "\n\t\u2028\u2029"}
_ASCII_CONTROLS = ("\x1b", *(chr(byte) for byte in sorted(_UNSAFE) if byte < 0x80 and byte != 0x1B))


def _plain_ascii(text: str) -> bool:
    """ASCII (known without a scan) and free of controls but TAB and newline: a memchr per control, the cheapest
    test there is for the commonest batch (0.4 ns a character, against 0.65 for the ``translate`` below)."""
    return text.isascii() and not any(map(text.__contains__, _ASCII_CONTROLS))


def for_terminal(text: str) -> str:
    """``text`` with its SGR sequences, TABs and newlines, and nothing else that a terminal would act on."""
    if _plain_ascii(text):
        return text
    # Controls become NUL; with SGR's parameters deleted, each ESC that starts an SGR is followed by "[m". That ESC
    # must also be followed by "[" before the deletion: "ESC 7 [ m" is a cursor save, then text.
    encoded = text.encode("utf-8", "surrogatepass")
    bidi = _has_bidi(text, encoded)
    classes = encoded.translate(_TERMINAL_CLASSES, _SGR_PARAMETERS)
    controls = b"\x00" in classes
    other_escapes = False
    if b"\x1b" in classes:
        escapes = classes.count(b"\x1b")
        other_escapes = escapes != classes.count(b"\x1b[m") or escapes != text.count("\x1b[")
    if not controls and not other_escapes and not bidi:
        return text
    return _clean(text, _ESCAPES_BUT_SGR if other_escapes else None, controls, bidi)


def for_pipe(text: str) -> str:
    """``text`` as plain text: no escape sequence at all, no control character but TAB and newline."""
    if _plain_ascii(text):
        return text
    encoded = text.encode("utf-8", "surrogatepass")
    bidi = _has_bidi(text, encoded)
    unsafe = encoded.translate(None, _SAFE_BYTES)
    if not unsafe and not bidi:
        return text
    escapes = b"\x1b" in unsafe
    controls = len(unsafe) != unsafe.count(b"\x1b")
    return _clean(text, _ESCAPES if escapes else None, controls, bidi)


def one_line(text: str) -> str:
    """Brummer's own strings (messages, names, commands that may quote a child) as one line of plain text."""
    text = for_pipe(text)
    if "\n" in text or "\t" in text or "\u2028" in text or "\u2029" in text:
        text = text.translate(_ONE_LINE)
    return text


def _has_bidi(text: str, encoded: bytes) -> bool:
    """Whether ``text`` (as ``encoded``) holds a bidi control: never for ASCII; a memchr for their lead byte 0xE2
    (absent from Latin-1 and most CJK text), and only then the regex over the bytes."""
    return not text.isascii() and b"\xe2" in encoded and _BIDI_UTF8.search(encoded) is not None


def _clean(text: str, escapes: re.Pattern[str] | None, controls: bool, bidi: bool = False) -> str:
    """The slow path: only the passes that ``text`` needs, each one linear."""
    if bidi:
        text = _BIDI.sub("", text)
    # C1 strings first: their ST may be ESC \, which the 7-bit pass would otherwise take alone
    if controls and any(c in text for c in _C1_INTRODUCERS):
        text = _C1_SEQUENCES.sub("", text)
    if escapes is not None:
        text = escapes.sub("", text)
    if controls:
        text = _CONTROLS.sub("", text)
        if "\r" in text:
            text = _after_carriage_returns(text)
    return text


def last_segment(line: str) -> str:
    """What follows the last carriage return of ``line`` that visible text follows: what a progress bar showed last.

    A segment of nothing but escape sequences (a colour reset, an erase-line) shows nothing, so it does not count.
    All C loops: which segment is found on the line without its escapes, and taken from the line itself.
    """
    shown = _ESCAPES_TO_CR.sub("", line) if "\x1b" in line else line
    index = shown.rstrip("\r").count("\r")
    return line.split("\r", index + 1)[index]


def _after_carriage_returns(text: str) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "\r" in line:
            lines[i] = last_segment(line)
    return "\n".join(lines)
