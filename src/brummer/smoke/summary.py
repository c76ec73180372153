"""The summary a smoke run ends with: a plain table for the CI log, and the same as Markdown for GitHub's step
summary. The last lines name what went wrong and why, so the end of a long log is enough to read."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from brummer.smoke.result import CheckResult, CheckStatus, ProcessResult, SmokeResult

_BACKTICKS = re.compile("`+")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # (tab and newline are fine)


def printable(text: str) -> str:
    """``text`` without control characters: a child's text must not reach a terminal or a CI log as escapes."""
    return _CONTROL.sub("\ufffd", text)


COMMAND_WIDTH = 60  # a check's command in the table; the whole command is in the reports
ERRORS_LISTED = 20  # error groups listed in the step summary


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def _ready(process: ProcessResult) -> str:
    if process.ready_after is None:
        return "-"
    return seconds(process.ready_after) + (" (done)" if process.done else "")


def _clip(text: str, width: int = COMMAND_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def process_rows(result: SmokeResult) -> list[list[str]]:
    return [[p.name, _ready(p), p.describe_exit(), str(p.restarts), str(len(p.errors))] for p in result.processes]


def check_rows(checks: Sequence[CheckResult]) -> list[list[str]]:
    return [[_clip(c.command), c.describe_exit(), seconds(c.duration)] for c in checks]


PROCESS_HEAD = ["process", "ready after", "exit", "restarts", "errors"]
CHECK_HEAD = ["check", "exit", "duration"]


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in [head, *rows]
    ]


def verdict_line(result: SmokeResult) -> str:
    return f"verdict: {result.verdict} in {result.duration:.1f}s (exit {result.exit_code}): {result.reason}"


def problems(result: SmokeResult) -> list[str]:
    """One line per process that failed or was not ready, and per check that failed."""
    lines = [f"{p.name}: {p.problem}" for p in result.processes if p.problem]
    lines += [f"check `{c.command}`: {c.describe_exit()}" for c in result.checks if c.status is CheckStatus.FAILED]
    return lines


def render(result: SmokeResult) -> str:
    """The plain summary: both tables, the problems, the verdict."""
    lines = ["", *_table(PROCESS_HEAD, process_rows(result))]
    if result.checks:
        lines += ["", *_table(CHECK_HEAD, check_rows(result.checks))]
    lines += ["", *problems(result), verdict_line(result)]
    return printable("\n".join(lines)) + "\n"


def _cell(text: str) -> str:
    """Table cells and summaries: no HTML from a log or a command, no pipe that ends a cell, no control characters."""
    return printable(html.escape(text, quote=False).replace("|", "\\|").replace("\n", " "))


def _markdown_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows),
    ]


def _fenced(lines: Sequence[str]) -> list[str]:
    """A code block that no line of the log can close early."""
    lines = [printable(line) for line in lines]
    longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *lines, fence]


def markdown(result: SmokeResult) -> str:
    """The step summary: a heading with the verdict, both tables, and the log tail of whatever failed."""
    icon = {"passed": "✅", "interrupted": "⚠️"}.get(str(result.verdict), "❌")
    lines = [f"### {icon} brummer smoke: {result.verdict} in {result.duration:.1f}s", "", _cell(result.reason), ""]
    lines += _markdown_table(PROCESS_HEAD, process_rows(result))
    if result.checks:
        lines += ["", *_markdown_table(CHECK_HEAD, check_rows(result.checks))]
    errors = result.errors
    if errors:
        lines += ["", f"**{len(errors)} error{'s' if len(errors) != 1 else ''} detected**", ""]
        for group in errors[:ERRORS_LISTED]:
            where = f"`{_cell(group.location)}` " if group.location else ""
            lines.append(f"- {where}{_cell(group.process)}: {_cell(group.type)} {_cell(group.message)}")
        if len(errors) > ERRORS_LISTED:
            lines.append(f"- … and {len(errors) - ERRORS_LISTED} more (in the JSON report)")
    tails = [(p.name, p.problem, p.log_tail) for p in result.processes if p.log_tail]
    tails += [(f"check `{c.command}`", c.describe_exit(), c.log_tail) for c in result.checks if c.log_tail]
    for who, why, tail in tails:
        lines += ["", f"<details><summary>{_cell(who)}: {_cell(why)}</summary>", "", *_fenced(tail), "", "</details>"]
    return "\n".join(lines) + "\n\n"
