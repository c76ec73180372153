"""The machine-readable reports of a smoke run: JSON (its schema ships as ``report.schema.json``) and JUnit XML.

JSON, format 1: per process its command, when it was up, how it ended, restarts, URLs, error groups and (if it
failed or was not ready) its last lines; per check its command, status, exit code and duration (and last lines if it
did not pass); the total duration and the verdict. Times are seconds, as floats; ``started_at`` is ISO 8601 UTC.

JUnit: one test case per process's readiness and one per check, so CI systems show the run natively. A failure
carries the message and the log tail; a check never reached is skipped.
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from typing import Any

from brummer import __version__
from brummer.logs.error_book import ErrorGroup
from brummer.smoke.result import CheckResult, CheckStatus, ProcessResult, SmokeResult

FORMAT = 1
ERROR_LINES = 20  # lines of an error group kept in the report
# Characters XML 1.0 cannot carry at all (a child's output may hold any of them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _error(group: ErrorGroup) -> dict[str, Any]:
    return {
        "family": group.family,
        "type": group.type,
        "message": group.message,
        "location": group.location,
        "count": group.count,
        "lines": list(group.lines[:ERROR_LINES]),
    }


def _process(p: ProcessResult) -> dict[str, Any]:
    return {
        "name": p.name,
        "command": p.command,
        "state": p.state,
        "ready": p.ready_after is not None,
        "ready_after_s": None if p.ready_after is None else round(p.ready_after, 3),
        "done": p.done,
        "exit_code": p.exit_code,
        "exit_signal": p.exit_signal,
        "stopped_by_brummer": p.stopped,
        "restarts": p.restarts,
        "urls": list(p.urls),
        "errors": [_error(group) for group in p.errors],
        "problem": p.problem or None,
        "log_tail": list(p.log_tail),
    }


def _check(c: CheckResult) -> dict[str, Any]:
    return {
        "command": c.command,
        "status": str(c.status),
        "exit_code": c.exit_code,
        "exit_signal": c.exit_signal,
        "duration_s": None if c.duration is None else round(c.duration, 3),
        "log_tail": list(c.log_tail),
    }


def to_json(result: SmokeResult) -> dict[str, Any]:
    started = datetime.datetime.fromtimestamp(result.started_at, datetime.UTC)
    return {
        "format": FORMAT,
        "brummer": __version__,
        "project": str(result.project),
        "started_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "duration_s": round(result.duration, 3),
        "timeout_s": result.timeout,
        "fail_on_error": result.fail_on_error,
        "verdict": str(result.verdict),
        "exit_code": result.exit_code,
        "reason": result.reason,
        "not_ready": list(result.not_ready),
        "processes": [_process(p) for p in result.processes],
        "checks": [_check(c) for c in result.checks],
    }


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _case(suite: ET.Element, classname: str, name: str, seconds: float | None) -> ET.Element:
    attributes = {"classname": classname, "name": _text(name)}
    if seconds is not None:
        attributes["time"] = f"{seconds:.3f}"
    return ET.SubElement(suite, "testcase", attributes)


def _fail(case: ET.Element, message: str, tail: tuple[str, ...], tag: str = "failure") -> None:
    element = ET.SubElement(case, tag, {"message": _text(message)})
    element.text = _text("\n".join(tail)) if tail else None


def to_junit(result: SmokeResult) -> bytes:
    """``<testsuites><testsuite name="brummer smoke">`` with a test case per process readiness and per check."""
    cases = len(result.processes) + len(result.checks)
    failures = sum(1 for p in result.processes if p.problem) + sum(
        1 for c in result.checks if c.status in (CheckStatus.FAILED, CheckStatus.STOPPED)
    )
    skipped = sum(1 for c in result.checks if c.status is CheckStatus.NOT_RUN)
    counts = {"tests": str(cases), "failures": str(failures), "errors": "0", "skipped": str(skipped)}
    timing = {"time": f"{result.duration:.3f}"}
    root = ET.Element("testsuites", {"name": "brummer smoke", **counts, **timing})
    stamp = datetime.datetime.fromtimestamp(result.started_at, datetime.UTC).isoformat(timespec="seconds")
    suite = ET.SubElement(root, "testsuite", {"name": "brummer smoke", **counts, **timing, "timestamp": stamp})
    for p in result.processes:
        case = _case(suite, "brummer.smoke.ready", f"{p.name} is up", p.ready_after)
        if p.problem:
            _fail(case, p.problem, p.log_tail)
    for number, c in enumerate(result.checks, 1):
        case = _case(suite, "brummer.smoke.check", f"check {number}: {c.command}", c.duration)
        if c.status is CheckStatus.NOT_RUN:
            ET.SubElement(case, "skipped", {"message": "not run: an earlier step failed"})
        elif c.status is not CheckStatus.PASSED:
            _fail(case, f"{c.status}: {c.describe_exit()}", c.log_tail)
    ET.SubElement(suite, "system-out").text = _text(
        f"verdict: {result.verdict} (exit {result.exit_code}): {result.reason}"
    )
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
