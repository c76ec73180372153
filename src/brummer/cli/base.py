"""The command group and the options several commands share (no command lives here)."""

from __future__ import annotations

from pathlib import Path

import asyncclick as click
from asyncclick.shell_completion import CompletionItem

from brummer import __version__

DIR_OPTION = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The project directory.",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="brummer")
def cli() -> None:
    """Run a project's dev processes; watch their logs for URLs and errors; serve it all to AI agents."""


def complete_process_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shell completion for process names: the project's (``--dir`` if already typed), nothing on any error."""
    from brummer.config import discover_project
    from brummer.errors import BrummerError

    directory = ctx.params.get("directory") or Path(".")
    try:
        project = discover_project(directory)
    except (BrummerError, OSError):
        return []
    return [CompletionItem(name) for name in project.processes if name.startswith(incomplete)]
