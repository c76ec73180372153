"""Defaults, selection with dependencies, stable start order, unknown names and cycles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from brummer.config import ProcessSpec, ProjectSpec, select_processes, start_order
from brummer.config.spec import Condition
from brummer.errors import ConfigError, DependencyCycleError

Discover = Callable[..., ProjectSpec]


def _toml(*processes: tuple[str, str], default: str | None = None) -> dict[str, str]:
    """``("api", '["db"]')`` -> a ``[processes.api]`` table with that ``depends_on``."""
    text = f"default = {default}\n" if default else ""
    for name, deps in processes:
        text += f'\n[processes.{name}]\ncmd = "run {name}"\n'
        if deps:
            text += f"depends_on = {deps}\n"
    return {"brummer.toml": text}


def test_default_from_toml_wins(discover: Discover) -> None:
    files = {"Procfile": "web: x\n", "package.json": {"scripts": {"dev": "v"}}}
    project = discover({**files, **_toml(("db", ""), default='["db", "web"]')})
    assert project.default == ("db", "web")


def test_default_names_must_exist(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"brummer\.toml:1: default: unknown process 'wbe' .*did you mean 'web'"):
        discover({"Procfile": "web: x\n", **_toml(default='["wbe"]')})


@pytest.mark.parametrize(
    ("scripts", "expected"),
    [
        ({"start": "node .", "dev": "vite", "x": "y"}, ("dev",)),
        ({"start": "node ."}, ("start",)),
        ({"x": "y"}, ()),
    ],
)
def test_default_falls_back_to_dev_then_start(
    discover: Discover, scripts: dict[str, str], expected: tuple[str, ...]
) -> None:
    assert discover({"package.json": {"scripts": scripts}}).default == expected


def test_select_without_names_uses_default_plus_dependencies(discover: Discover) -> None:
    files = {
        "package.json": {"scripts": {"dev": "vite", "lint": "eslint"}},
        **_toml(("db", ""), ("cache", ""), ("dev", '{db = "ready", cache = "started"}')),
    }
    project = discover(files)
    assert project.default == ("dev",)
    assert select_processes(project, []) == ["db", "cache", "dev"]
    assert select_processes(project, ["lint"]) == ["lint"]


def test_transitive_closure_in_start_order(discover: Discover) -> None:
    project = discover(
        _toml(
            ("web", '["api"]'),
            ("api", '{db = "ready", migrate = "succeeded"}'),
            ("migrate", '["db"]'),
            ("db", ""),
        )
    )
    assert select_processes(project, ["web"]) == ["db", "migrate", "api", "web"]
    assert select_processes(project, ["migrate", "migrate"]) == ["db", "migrate"]


def test_start_order_is_stable_by_discovery_order(discover: Discover) -> None:
    project = discover(_toml(("a", ""), ("b", '["d"]'), ("c", ""), ("d", ""), ("e", '["a"]')))
    # Only b has to wait (for d); everything else keeps discovery order.
    assert start_order(project, ["e", "d", "c", "b", "a"]) == ["a", "c", "d", "b", "e"]
    assert start_order(project, ["c", "a"]) == ["a", "c"]
    # Dependencies outside the given names are ignored by start_order (select_processes adds them).
    assert start_order(project, ["b"]) == ["b"]


def test_unknown_process_with_suggestion(discover: Discover) -> None:
    project = discover(_toml(("api", ""), ("web", ""), ("worker", "")))
    with pytest.raises(ConfigError) as info:
        select_processes(project, ["wbe"])
    assert str(info.value) == "unknown process 'wbe' (known: api, web, worker); did you mean 'web'?"
    with pytest.raises(ConfigError) as info:
        select_processes(project, ["zzzzzz"])
    assert str(info.value) == "unknown process 'zzzzzz' (known: api, web, worker)"


def test_unknown_depends_on_target_names_file_and_line(discover: Discover) -> None:
    files = _toml(("db", ""), ("api", '[\n  "db",\n  "cahce",\n]'))
    with pytest.raises(ConfigError) as info:
        discover(files)
    assert info.value.line == 9
    assert "brummer.toml:9: processes.api.depends_on: unknown process 'cahce'" in str(info.value)


def test_depends_on_accepts_short_workspace_names(discover: Discover) -> None:
    files = {
        "package.json": {"workspaces": ["apps/*"], "scripts": {}},
        "apps/web/package.json": {"name": "@acme/web", "scripts": {"dev": "next"}},
        **_toml(("e2e", '{"web:dev" = "ready"}')),
    }
    project = discover(files)
    assert project.processes["e2e"].depends_on == {"@acme/web:dev": Condition.READY}
    assert select_processes(project, ["e2e"]) == ["@acme/web:dev", "e2e"]


def test_two_node_cycle(discover: Discover) -> None:
    with pytest.raises(DependencyCycleError) as info:
        discover(_toml(("a", '["b"]'), ("b", '{a = "ready"}')))
    assert info.value.cycle == ["a", "b", "a"]
    assert info.value.path is not None and info.value.path.name == "brummer.toml"
    assert "dependency cycle: a -> b -> a" in str(info.value)


def test_cycle_error_names_the_line(discover: Discover) -> None:
    text = '[processes.a]\ncmd = "x"\ndepends_on = ["b"]\n\n[processes.b]\ncmd = "y"\ndepends_on = ["a"]\n'
    with pytest.raises(DependencyCycleError, match=r"brummer\.toml:3: dependency cycle: a -> b -> a"):
        discover({"brummer.toml": text})


def test_depending_on_readiness_that_never_comes_is_refused(discover: Discover) -> None:
    text = '[processes.db]\ncmd = "x"\nready = "none"\n\n[processes.api]\ncmd = "y"\ndepends_on = { db = "ready" }\n'
    with pytest.raises(ConfigError, match=r"brummer\.toml:7: processes\.api\.depends_on: 'db' has ready = \"none\""):
        discover({"brummer.toml": text})
    # "started" is fine, and so is "ready" once db has a check
    discover({"brummer.toml": text.replace('"ready" }', '"started" }')})
    discover({"brummer.toml": text.replace('ready = "none"', "ready = { tcp = 5432 }")})


def test_three_node_cycle_is_found_even_when_not_selected(discover: Discover) -> None:
    files = _toml(("web", ""), ("x", '["y"]'), ("y", '["z"]'), ("z", '["x"]'), default='["web"]')
    with pytest.raises(DependencyCycleError, match="x -> y -> z -> x") as info:
        discover(files)
    assert info.value.cycle == ["x", "y", "z", "x"]


def test_self_dependency_is_a_cycle(discover: Discover) -> None:
    with pytest.raises(DependencyCycleError, match="a -> a"):
        discover(_toml(("a", '["a"]')))


def test_start_order_reports_cycle_in_a_hand_built_spec(tmp_path: Path) -> None:
    def spec(name: str, dep: str) -> ProcessSpec:
        return ProcessSpec(
            name, "x", "brummer.toml", tmp_path / "brummer.toml", tmp_path, depends_on={dep: Condition.STARTED}
        )

    project = ProjectSpec(tmp_path, {"a": spec("a", "b"), "b": spec("b", "a")}, default=("a",))
    with pytest.raises(DependencyCycleError) as info:
        select_processes(project, [])
    assert info.value.cycle == ["a", "b", "a"]
