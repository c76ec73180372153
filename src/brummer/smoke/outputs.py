"""Everything a smoke run leaves behind once its processes are gone: the summary on stdout, the JSON and JUnit
reports, and on GitHub Actions the annotations and the step summary.

Report files are written to a fresh temporary file renamed into place, never through a symbolic link a checked-out
repository may have planted at that name. A report that cannot be written is one line on stderr, and turns a
passing run into exit 1: a CI job that expects the file must not go green without it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path

import trio

from brummer.config.files import write_atomically
from brummer.config.spec import ProjectSpec
from brummer.smoke import github, report, summary
from brummer.smoke.result import SmokeResult
from brummer.ui.output import Output


async def write_outputs(
    result: SmokeResult,
    project: ProjectSpec,
    json_path: Path | None,
    junit_path: Path | None,
    output: Output,
    environ: Mapping[str, str],
) -> int:
    """Write it all; return the run's exit code (1 instead of 0 if a report could not be written)."""
    text = ""
    on_github = environ.get("GITHUB_ACTIONS") == "true"
    if on_github and result.errors:  # before the summary: its verdict stays the last line
        repository = await github.repository_root(project.root)
        text += "".join(line + "\n" for line in github.error_lines(result.errors, project, repository))
    await output.write(text + summary.render(result))
    files: list[tuple[Path, str]] = []
    if json_path is not None:
        files.append((json_path, json.dumps(report.to_json(result), indent=2) + "\n"))
    if junit_path is not None:
        files.append((junit_path, report.to_junit(result).decode()))
    step_summary = environ.get("GITHUB_STEP_SUMMARY", "") if on_github else ""
    failed = await trio.to_thread.run_sync(_write_files, files, step_summary, summary.markdown(result))
    return 1 if failed and result.exit_code == 0 else result.exit_code


def _write_files(files: list[tuple[Path, str]], step_summary: str, markdown: str) -> bool:
    """Returns whether any write failed (each failure said on stderr)."""
    failed = False
    for path, text in files:
        try:
            write_atomically(path, text)
        except OSError as exc:
            print(f"brummer: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            failed = True
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as out:  # the runner's own file: appended to, as asked
                out.write(markdown)
        except OSError as exc:
            print(
                f"brummer: cannot append to $GITHUB_STEP_SUMMARY ({step_summary}): {exc.strerror or exc}",
                file=sys.stderr,
            )
            failed = True
    return failed
