"""The command line. Every command is ``async`` and runs under ``trio.run``; errors become exit codes here.

Exit codes: 0 success; 1 a process failed (or another brummer error); 2 usage or configuration error, or another
brummer already runs the project; 124 ``brummer smoke``: not up within its timeout; 128 + N after signal N (130
Ctrl-C, 143 SIGTERM, 129 SIGHUP).

Imports stay light on the path to the first child's exec: no rich, hypercorn, httpx or mcp here.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import asyncclick as click
import trio
from asyncclick.shell_completion import CompletionItem

from brummer import __version__
from brummer.config import ProjectSpec, discover_project, select_processes
from brummer.config.settings import Overrides
from brummer.errors import BrummerError, UsageError
from brummer.logs.urls import is_loopback

# The values of brummer.mcp.clients.Client and Scope (that module is imported only when it is used).
MCP_CLIENTS = ("claude-code", "cursor", "vscode", "codex", "json")
MCP_SCOPES = ("project", "user")

DIR_OPTION = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The project directory.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="brummer")
def cli() -> None:
    """Run a project's dev processes; watch their logs for URLs and errors; serve it all to AI agents."""


def complete_process_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shell completion for process names: the project's (``--dir`` if already typed), nothing on any error."""
    directory = ctx.params.get("directory") or Path(".")
    try:
        project = discover_project(directory)
    except (BrummerError, OSError):
        return []
    return [CompletionItem(name) for name in project.processes if name.startswith(incomplete)]


@cli.command()
@click.argument("names", nargs=-1, shell_complete=complete_process_names)
@DIR_OPTION
@click.option("--plain", is_flag=True, help="Prefixed lines instead of the live panel.")
@click.option("--grace", type=float, default=None, help="Seconds between the stop signal and SIGKILL.")
@click.option("--mcp-port", type=int, default=None, help="Port of the MCP server (default 7777, or the next free).")
@click.option("--no-mcp", is_flag=True, help="Do not serve MCP.")
@click.option("--mcp-host", default=None, help="Address the MCP server binds (default 127.0.0.1).")
@click.option("--allow-remote", is_flag=True, default=None, help="Allow --mcp-host to be a non-loopback address.")
async def up(
    names: tuple[str, ...],
    directory: Path,
    plain: bool,
    grace: float | None,
    mcp_port: int | None,
    no_mcp: bool,
    mcp_host: str | None,
    allow_remote: bool | None,
) -> int:
    """Run processes in the foreground (default: the project's `default`, else Procfile, else dev/start).

    Ctrl-C stops everything cleanly, in reverse dependency order.
    """
    from brummer.app import run_up
    from brummer.ui.output import Output

    overrides = Overrides(
        grace=grace,
        mcp_port=mcp_port,
        mcp=False if no_mcp else None,
        mcp_host=mcp_host,
        allow_remote=allow_remote or None,
    )
    project = discover_project(directory, overrides=overrides)
    settings = project.settings
    if settings.mcp and not settings.allow_remote and not is_loopback(settings.mcp_host):
        raise UsageError(
            f"refusing to serve MCP on {settings.mcp_host}: anyone on that network could drive your processes; "
            "add --allow-remote if that is what you want"
        )
    selected = _select(project, names)
    output = Output()
    return await run_up(project, selected, output=output, panel=output.isatty and not plain and _panel_available())


def _select(project: ProjectSpec, names: Sequence[str]) -> list[str]:
    """The named processes and their dependencies (the project's default set without names); never nothing."""
    selected = select_processes(project, names)
    if not selected:
        raise UsageError(
            f"nothing to run in {project.root}: no package.json dev/start script, Procfile or brummer.toml "
            "`default`; name the processes to run"
        )
    return selected


def _panel_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("brummer.ui.panel") is not None


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


@cli.group("mcp", invoke_without_command=True)
@DIR_OPTION
@click.pass_context
async def mcp(ctx: click.Context, directory: Path) -> int:
    """Serve MCP on stdin/stdout, for agents that launch a command.

    Relays to the project's running `brummer up` if there is one; otherwise runs the project's processes itself,
    starting nothing until the agent asks, and stops them when the agent disconnects.
    `brummer mcp config` sets up an MCP client to start it.
    """
    if ctx.invoked_subcommand is not None:
        return 0
    from brummer.mcp.stdio import run_stdio

    return await run_stdio(directory)


@mcp.command("config")
@DIR_OPTION
@click.option(
    "--client",
    type=click.Choice(MCP_CLIENTS),
    default=MCP_CLIENTS[0],
    show_default=True,
    help="Which client's configuration.",
)
@click.option("--all", "all_projects", is_flag=True, help="The hub (`brummer mcp --all`) instead of this project.")
@click.option("--write", is_flag=True, help="Merge it into the client's file instead of printing it.")
@click.option(
    "--scope",
    type=click.Choice(MCP_SCOPES),
    default=MCP_SCOPES[0],
    show_default=True,
    help="The project's file or the user's.",
)
async def mcp_config(directory: Path, client: str, all_projects: bool, write: bool, scope: str) -> int:
    """Print (or --write) an MCP client's configuration for `brummer mcp`: no token needed."""
    import os

    from brummer.mcp.clients import Client, Scope, configure

    said, hint = configure(
        directory, Client(client), Scope(scope), all_projects=all_projects, write=write, environ=os.environ
    )
    click.echo(said, nl=False)
    if hint:
        click.echo(hint, err=True)
    return 0


@cli.command("ls")
@DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
async def ls(directory: Path, as_json: bool) -> int:
    """List the processes brummer knows in a project."""
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
        click.echo(f"{mark} {name:<{width}}  {sources[name]:<{source_width}}  {spec.display_command}{extra}")
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


async def _run(argv: Sequence[str]) -> int:
    try:
        result = await cli.main(args=list(argv), prog_name="brummer", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.Abort:
        return 130
    except BrummerError as exc:
        print(f"brummer: {exc}", file=sys.stderr)
        return exc.exit_code
    return result if isinstance(result, int) else 0


def main(argv: Sequence[str] | None = None) -> None:
    try:
        code = trio.run(_run, sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
