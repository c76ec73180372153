"""The plain printer shows child output without letting it drive the terminal: its lines, and brummer's own lines
that quote a child (process names, commands, error messages, URLs, notices)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from brummer.bus import ErrorDetected, LogLines, Notice, UrlDetected
from brummer.logs.error_book import ErrorGroup
from brummer.logs.kinds import Stream
from brummer.logs.query import Batch
from brummer.ui.plain import PlainFormatter
from helpers import PY, write_project
from helpers_cli import BRUMMER, run_brummer

HOSTILE_OUTPUT = (
    "start \x1b[31mred\x1b[0m end",
    "clip\x1b]52;c;cHduZWQ=\x07board",
    "title\x1b]0;pwned\x07-bel\x1b]0;pwned\x1b\\-st",
    "clear\x1b[2J\x1b[Hscreen",
    "dcs\x1bP1$r0m pwned\x1b\\string",
    "query\x1b[6n\x1b]11;?\x07answer",
    "c1\x9b2J\x9d0;pwned\x9c-controls",
    "bell\x07back\x08space",
    "see \x1b]8;;https://evil.test/\x1b\\https://good.test/\x1b]8;;\x1b\\ link",
    "progress 10%\rprogress 100%",
    "unterminated \x1b]0;pwned to the end",
)
VISIBLE = (
    "start red end",
    "clipboard",
    "title-bel-st",
    "clearscreen",
    "dcsstring",
    "queryanswer",
    "c1-controls",
    "bellbackspace",
    "see https://good.test/ link",
    "progress 100%",
    "unterminated ",
)
EVIL_NAME = "web\x1b]0;pwned\x07\x9b2J"
ONLY_SGR = re.compile(r"\x1b\[[0-9;:]*m")
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def log_event(text: str, process: str = "web", stream: Stream = Stream.STDOUT) -> LogLines:
    count = text.count("\n") + 1
    return LogLines(Batch(1, time.time(), process, stream, 1, text, count, len(text) + 1))


def assert_harmless(out: str, colour: bool) -> None:
    rest = ONLY_SGR.sub("", out) if colour else out
    assert "\x1b" not in rest, repr(out)
    assert not CONTROLS.search(rest), repr(out)
    assert "pwned" not in out and "evil" not in out and "cHduZWQ" not in out


@pytest.mark.parametrize("colour", [True, False], ids=["terminal", "piped"])
def test_child_lines(colour: bool) -> None:
    fmt = PlainFormatter(["web"], colour)
    out = fmt.event(log_event("\n".join(HOSTILE_OUTPUT)))
    assert_harmless(out, colour)
    shown = ONLY_SGR.sub("", out).splitlines()
    assert [line.partition(" | ")[2] for line in shown] == list(VISIBLE)
    assert ("\x1b[31mred\x1b[0m" in out) is colour


@pytest.mark.parametrize("colour", [True, False], ids=["terminal", "piped"])
def test_brummers_own_lines_quoting_a_child(colour: bool) -> None:
    fmt = PlainFormatter([EVIL_NAME], colour)
    message = "bad \x1b]52;c;cHduZWQ=\x07value\x9b2J\nnext"
    group = ErrorGroup(1, EVIL_NAME, "stderr", "python", "ValueError", message, "app.py:3\x07", (), 1, 0, 0, 1, 1, "k")
    events = [
        log_event("hello", EVIL_NAME, Stream.STDERR),
        UrlDetected(EVIL_NAME, "http://localhost:3000/\x9d0;pwned\x07"),
        ErrorDetected(group),
        Notice("ready: log \x1b[2Jmatched\x08", EVIL_NAME, "warn"),
    ]
    out = "".join(fmt.event(event) for event in events)
    assert_harmless(out, colour)
    assert len(out.splitlines()) == 4
    plain = ONLY_SGR.sub("", out)
    assert "web" in plain and "hello" in plain and "http://localhost:3000/" in plain
    assert "bad value next" in plain and "app.py:3" in plain and "ready: log matched" in plain


CHILD = """\
import sys
sys.stdout.write("\\n".join({lines!r}) + "\\n")
sys.stdout.flush()
sys.stderr.write("Traceback (most recent call last):\\n  File \\"app.py\\", line 1, in <module>\\n")
sys.stderr.write("ValueError: bad \\x9b2J\\x1b]0;pwned\\x07value\\n")
"""


@pytest.mark.parametrize("colour", [True, False], ids=["FORCE_COLOR", "NO_COLOR"])
def test_a_real_child_through_brummer_up_plain(tmp_path: Path, colour: bool) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(lines=HOSTILE_OUTPUT))
    root = write_project(
        tmp_path / "proj",
        brummer_toml=f"""
        [processes."web\\u001b]0;pwned\\u0007\\u009b2J"]
        cmd = "{PY} {script} # \\u001b]52;c;cHduZWQ=\\u0007"
        """,
    )
    env = {**os.environ, "NO_COLOR": "", "FORCE_COLOR": "1"} if colour else {**os.environ, "NO_COLOR": "1"}
    command = [*BRUMMER, "up", "--plain", "--dir", str(root)]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, env=env, timeout=60, check=False)
    out = result.stdout.decode("utf-8", "replace")  # the bytes brummer wrote, decoded as a terminal would
    assert result.returncode == 0, out
    assert ("\x1b[31mred\x1b[0m" in out) is colour
    assert_harmless(out, colour)
    plain = ONLY_SGR.sub("", out)
    for visible in VISIBLE:
        assert f"| {visible}\n" in plain, (visible, plain)
    assert "ValueError: bad value" in plain
    # brummer's own lines about it: the name, the command and the detected error's message, all as plain text
    assert re.search(r"web +» starting: \S+ \S+child.py # \n", plain)
    assert re.search(r"web +» error \[python ValueError\] app.py:1: bad value\n", plain)


def test_brummer_ls_and_config_errors_quote_the_project_harmlessly(tmp_path: Path) -> None:
    """A cloned project's names and commands reach the terminal as plain text, in listings and in errors."""
    root = write_project(
        tmp_path / "proj",
        package_json='{"scripts": {"dev": "vite", "e\\u001b[2Jsc\\u009b2J": "echo hi"}}',
        brummer_toml='[processes.web]\ncmd = "echo \\u001b]0;pwned\\u0007 hi"\n',
    )
    listing = run_brummer(["ls", "--dir", str(root)], tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert_harmless(listing.stdout, colour=False)
    assert " esc " in listing.stdout and "echo  hi" in listing.stdout
    (root / "brummer.toml").write_text('default = ["nope"]\n[processes.web]\ncmd = "echo"\n')
    error = run_brummer(["up", "--plain", "--dir", str(root)], tmp_path)
    assert error.returncode == 2
    assert_harmless(error.stderr, colour=False)
    assert "known: dev, esc, web" in error.stderr
