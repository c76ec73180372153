"""The smoke reports as views of one result: hostile text stays data (GitHub commands, XML, Markdown), and a
report is never written through a link the project planted."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from helpers_smoke import validate

from brummer.config.spec import ProcessSpec, ProjectSpec
from brummer.logs.error_book import ErrorGroup
from brummer.smoke import github, report, summary
from brummer.smoke.result import CheckResult, CheckStatus, ProcessResult, SmokeResult, Verdict
from helpers_cli import run_brummer

HOSTILE = "evil\n::error file=x::forged,%0A | <b>bold</b> ``` \x00\x1b[31m"


def group(location: str | None, message: str = "Type 'string' is not assignable") -> ErrorGroup:
    return ErrorGroup(1, "web", "stderr", "typescript", "TS2322", message, location, (message,), 1, 0, 0, 1, 1, "k")


def hostile_result(root: Path) -> SmokeResult:
    web = ProcessResult(
        name="web",
        command=HOSTILE,
        state="failed",
        ready_after=None,
        done=False,
        exit_code=1,
        exit_signal=None,
        stopped=False,
        restarts=0,
        urls=(),
        errors=(group("src/a.ts:2:30", HOSTILE),),
        problem=f"failed: {HOSTILE}",
        log_tail=(HOSTILE, "```` four"),
    )
    check = CheckResult(HOSTILE, CheckStatus.FAILED, 1, None, 0.5, (HOSTILE,))
    return SmokeResult(root, 0.0, 1.0, 120.0, True, Verdict.FAILED, 1, HOSTILE, (web,), (check,))


def test_annotations_escape_what_would_forge_a_command(tmp_path: Path) -> None:
    project = ProjectSpec(tmp_path, {"web": ProcessSpec("web", "x", "Procfile", tmp_path, tmp_path / "app")}, ())
    lines = github.error_lines([group("src/a,b.ts:2:30", HOSTILE), group("/elsewhere/x.ts:1:1")], project, tmp_path)
    assert lines == [
        "::error file=app/src/a%2Cb.ts,line=2,col=30,title=web%3A typescript TS2322::"
        "evil%0A::error file=x::forged,%250A | <b>bold</b> ``` \ufffd\ufffd[31m"
    ]  # one line; and a file outside the repository gets no annotation


def test_junit_and_markdown_keep_hostile_text_as_data(tmp_path: Path) -> None:
    result = hostile_result(tmp_path)
    root = ET.fromstring(report.to_junit(result))  # parses: no raw control characters
    failures = list(root.iter("failure"))
    assert len(failures) == 2 and "evil" in (failures[0].text or "")
    markdown = summary.markdown(result)
    head = markdown.split("<details>")[0]  # the heading, the reason, the tables, the error list
    assert "<b>" not in head and "&lt;b&gt;" in head and "\x1b" not in markdown and "\x00" not in markdown
    assert "\n`````\n" in markdown  # a fence longer than any run of backticks in the log
    assert "| web | - | 1 | 0 | 1 |" in markdown


def test_a_report_replaces_a_planted_link_and_never_writes_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    root = tmp_path / "proj"
    root.mkdir()
    (root / "brummer.toml").write_text('[processes.job]\ncmd = "echo built"\n')
    (root / "report.json").symlink_to(victim)
    result = run_brummer(["smoke", "--dir", ".", "--report", "report.json"], root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert victim.read_text() == "precious\n"
    assert not (root / "report.json").is_symlink() and validate(root / "report.json")["verdict"] == "passed"
