"""Configuration: what to run, discovered from a project directory.

``discover_project`` reads package.json (and workspace members), Procfile, brummer.toml, .env files and
settings into one immutable ``ProjectSpec``; ``select_processes`` and ``start_order`` answer "what runs, in
which order".
"""

from brummer.config.discover import discover_project
from brummer.config.graph import select_processes, start_order
from brummer.config.spec import (
    Condition,
    ProcessSpec,
    ProjectSpec,
    ReadyCheck,
    ReadyKind,
    RestartPolicy,
    Settings,
    Source,
)

__all__ = [
    "Condition",
    "ProcessSpec",
    "ProjectSpec",
    "ReadyCheck",
    "ReadyKind",
    "RestartPolicy",
    "Settings",
    "Source",
    "discover_project",
    "select_processes",
    "start_order",
]
