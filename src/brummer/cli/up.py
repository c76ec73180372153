"""``brummer up`` (run the project's processes in the foreground), ``brummer smoke`` (the same for CI, with checks),
``brummer ls`` and ``brummer completion``.

The project's configuration is imported inside the commands, so that commands which never read it (the remote
ones) do not pay for it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import asyncclick as click

from brummer.cli.base import DIR_OPTION, cli, complete_process_names
from brummer.errors import UsageError

if TYPE_CHECKING:
    from brummer.config import ProjectSpec


@cli.command()
@click.argument("names", nargs=-1, shell_complete=complete_process_names)
@DIR_OPTION
@click.option("--plain", is_flag=True, help="Prefixed lines instead of the live panel.")
@click.option("--grace", type=float, default=None, help="Seconds between the stop signal and SIGKILL.")
@click.option("--mcp-port", type=int, default=None, help="Port of the MCP server (default 7777, or the next free).")
@click.option("--no-mcp", is_flag=True, help="Do not serve MCP.")
@click.option("--mcp-host", default=None, help="Address the MCP server binds (default 127.0.0.1).")
@click.option("--allow-remote", is_flag=True, default=None, help="Allow --mcp-host to be a non-loopback address.")
@click.option("--no-proxy", is_flag=True, help="Do not put the recording proxy in front of dev servers.")
@click.option("--proxy-base-port", type=int, default=None, help="First proxy port (default 20888; 0: any free).")
@click.option("--browser-eval", is_flag=True, default=None, help="Let agents run code in your pages (browser_eval).")
async def up(
    names: tuple[str, ...],
    directory: Path,
    plain: bool,
    grace: float | None,
    mcp_port: int | None,
    no_mcp: bool,
    mcp_host: str | None,
    allow_remote: bool | None,
    no_proxy: bool,
    proxy_base_port: int | None,
    browser_eval: bool | None,
) -> int:
    """Run processes in the foreground (default: the project's `default`, else Procfile, else dev/start).

    Ctrl-C stops everything cleanly, in reverse dependency order.
    """
    from brummer.app import run_up
    from brummer.config import discover_project
    from brummer.config.settings import Overrides
    from brummer.loopback import mcp_host_refusal
    from brummer.ui.output import Output

    overrides = Overrides(
        grace=grace,
        mcp_port=mcp_port,
        mcp=False if no_mcp else None,
        mcp_host=mcp_host,
        allow_remote=allow_remote or None,
        proxy=False if no_proxy else None,
        proxy_base_port=proxy_base_port,
        browser_eval=browser_eval or None,
    )
    project = discover_project(directory, overrides=overrides)
    settings = project.settings
    if settings.mcp and (refusal := mcp_host_refusal(settings.mcp_host, settings.allow_remote)) is not None:
        raise UsageError(refusal)
    selected = _select(project, names)
    output = Output()
    return await run_up(project, selected, output=output, panel=output.isatty and not plain)


def _select(project: ProjectSpec, names: Sequence[str]) -> list[str]:
    """The named processes and their dependencies (the project's default set without names); never nothing."""
    from brummer.config import select_processes

    selected = select_processes(project, names)
    if not selected:
        raise UsageError(
            f"nothing to run in {project.root}: no package.json dev/start script, Procfile or brummer.toml "
            "`default`; name the processes to run"
        )
    return selected


@cli.command()
@click.argument("names", nargs=-1, shell_complete=complete_process_names)
@DIR_OPTION
@click.option(
    "--check",
    "checks",
    multiple=True,
    metavar="CMD",
    help="A shell command to run once everything is up (repeat for more; they run in order). "
    "Default: brummer.toml's `check`.",
)
@click.option(
    "--timeout", "timeout_s", type=float, default=120.0, show_default=True, help="Seconds for every process to be up."
)
@click.option("--fail-on-error", is_flag=True, help="Fail if an error is detected in any process's output.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write a JSON report to FILE.json.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report to FILE.xml.")
async def smoke(
    names: tuple[str, ...],
    directory: Path,
    checks: tuple[str, ...],
    timeout_s: float,
    fail_on_error: bool,
    report: Path | None,
    junit: Path | None,
) -> int:
    """Start processes, wait until they are up, run checks against them, stop everything: for CI.

    Exit codes: 0 passed; 1 a check or process failed; 124 not up within --timeout; 2 usage or configuration
    error; 130/143/129 when interrupted.
    """
    from brummer.config import discover_project
    from brummer.smoke import SmokeOptions, run_smoke

    if not math.isfinite(timeout_s) or timeout_s <= 0:
        raise UsageError(f"--timeout must be a number of seconds > 0, not {timeout_s:g}")
    for flag, path in (("--report", report), ("--junit", junit)):
        if path is not None and not path.parent.is_dir():
            raise UsageError(f"{flag} {path}: the folder {path.parent} does not exist")
    if any(not check.strip() for check in checks):
        raise UsageError("--check needs a command")
    project = discover_project(directory)
    selected = _select(project, names)
    options = SmokeOptions(checks or project.checks, timeout_s, fail_on_error, report, junit)
    return await run_smoke(project, selected, options)


@cli.command("ls")
@DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
async def ls(directory: Path, as_json: bool) -> int:
    """List the processes brummer knows in a project."""
    from brummer.config import discover_project
    from brummer.sanitize import one_line  # names and commands come from the project's files: no escapes

    project = discover_project(directory)
    rows = []
    for name, spec in project.processes.items():
        rows.append(
            {
                "name": name,
                "source": spec.source,
                "source_file": _relative(spec.source_file, project.root),
                "command": spec.display_command,
                "cwd": str(spec.cwd),
                "depends_on": {dep: str(cond) for dep, cond in spec.depends_on.items()},
                "ready": spec.ready.describe(),
                "restart": str(spec.restart),
                "default": name in project.default,
            }
        )
    if as_json:
        doc = {
            "root": str(project.root),
            "package_manager": project.package_manager,
            "default": list(project.default),
            "processes": rows,
        }
        click.echo(json.dumps(doc, indent=2))
        return 0
    if not project.processes:
        click.echo(f"no processes found in {project.root}")
        return 0
    width = max(map(len, project.processes))
    sources = {name: _relative(spec.source_file, project.root) for name, spec in project.processes.items()}
    source_width = max(map(len, sources.values()))
    for name, spec in project.processes.items():
        mark = "*" if name in project.default else " "
        deps = ", ".join(f"{dep} ({cond})" for dep, cond in spec.depends_on.items())
        extra = f"  [after {deps}]" if deps else ""
        click.echo(one_line(f"{mark} {name:<{width}}  {sources[name]:<{source_width}}  {spec.display_command}{extra}"))
    if project.default:
        click.echo("* = started by `brummer up` with no names")
    return 0


def _relative(path: Path, root: Path) -> str:
    """A project file as the user knows it (``packages/web/package.json``), absolute if outside the root."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
async def completion(shell: str) -> int:
    """Print the shell completion script (commands, flags, process names).

    bash: `eval "$(brummer completion bash)"` in ~/.bashrc; zsh: `eval "$(brummer completion zsh)"` in ~/.zshrc;
    fish: `brummer completion fish > ~/.config/fish/completions/brummer.fish`.
    """
    from asyncclick.shell_completion import get_completion_class

    complete = get_completion_class(shell)
    assert complete is not None  # the Choice above only offers shells click knows
    click.echo(complete(cli, {}, "brummer", "_BRUMMER_COMPLETE").source())
    return 0
