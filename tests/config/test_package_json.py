"""package.json scripts, package-manager detection and workspaces, from real files in tmp_path."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from brummer.config import ProjectSpec, select_processes
from brummer.config.workspaces import glob_to_regex
from brummer.errors import ConfigError

Discover = Callable[..., ProjectSpec]

SCRIPTS = {"scripts": {"dev": "vite", "build": "vite build"}}


def test_scripts_run_through_npm_by_default(discover: Discover) -> None:
    project = discover({"package.json": SCRIPTS})
    assert list(project.processes) == ["dev", "build"]
    dev = project.processes["dev"]
    assert dev.command == ("npm", "run", "dev")
    assert dev.source == "package.json"
    assert dev.source_file == project.root / "package.json"
    assert dev.cwd == project.root
    assert project.package_manager == "npm"
    assert project.files == (project.root / "package.json",)


@pytest.mark.parametrize(
    ("lockfiles", "expected"),
    [
        (["bun.lock"], "bun"),
        (["bun.lockb"], "bun"),
        (["pnpm-lock.yaml"], "pnpm"),
        (["yarn.lock"], "yarn"),
        (["package-lock.json"], "npm"),
        # The order of the check decides when several lockfiles linger.
        (["package-lock.json", "yarn.lock"], "yarn"),
        (["yarn.lock", "pnpm-lock.yaml"], "pnpm"),
        (["pnpm-lock.yaml", "bun.lockb"], "bun"),
        (["bun.lockb", "bun.lock"], "bun"),
    ],
)
def test_lockfile_detection_order(discover: Discover, lockfiles: list[str], expected: str) -> None:
    project = discover({"package.json": SCRIPTS, **dict.fromkeys(lockfiles, "")})
    assert project.package_manager == expected
    assert project.processes["dev"].command == (expected, "run", "dev")


@pytest.mark.parametrize("manager", ["npm", "yarn", "pnpm", "bun"])
def test_package_manager_field_beats_lockfiles(discover: Discover, manager: str) -> None:
    package = {**SCRIPTS, "packageManager": f"{manager}@9.1.0+sha512.abc"}
    project = discover({"package.json": package, "bun.lock": "", "yarn.lock": "", "package-lock.json": ""})
    assert project.package_manager == manager
    assert project.processes["build"].command == (manager, "run", "build")


def test_unknown_package_manager_field_is_an_error(discover: Discover) -> None:
    text = '{\n  "name": "x",\n  "packageManager": "deno@2.0.0"\n}\n'
    with pytest.raises(ConfigError, match=r"package\.json:3: .*deno@2\.0\.0"):
        discover({"package.json": text})


def test_malformed_json_names_file_and_line(discover: Discover) -> None:
    text = '{\n  "scripts": {\n    "dev": "vite",\n  }\n}\n'
    with pytest.raises(ConfigError) as info:
        discover({"package.json": text})
    assert info.value.line == 4
    assert "package.json:4: invalid JSON" in str(info.value)


def test_scripts_must_be_an_object(discover: Discover) -> None:
    text = '{\n  "name": "x",\n  "scripts": ["dev"]\n}\n'
    with pytest.raises(ConfigError, match=r"package\.json:3: .*scripts.* must be an object"):
        discover({"package.json": text})


def test_script_value_must_be_a_string(discover: Discover) -> None:
    text = '{\n  "scripts": {\n    "dev": "vite",\n    "lint": 42\n  }\n}\n'
    with pytest.raises(ConfigError, match=r'package\.json:4: script "lint" must be a string'):
        discover({"package.json": text})


def test_top_level_must_be_an_object(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"package\.json:1: .*JSON object"):
        discover({"package.json": "[]"})


def _monorepo(workspaces: object) -> dict[str, object]:
    return {
        "package.json": {"name": "root", "scripts": {"dev": "turbo dev"}, "workspaces": workspaces},
        "pnpm-lock.yaml": "",
        "packages/web/package.json": {
            "name": "@acme/web",
            "scripts": {"dev": "next dev", "build": "next build"},
        },
        "packages/api/package.json": {"name": "api", "scripts": {"dev": "tsx watch"}},
        "packages/unnamed/package.json": {"scripts": {"test": "vitest"}},
        "packages/docs/README.md": "not a package",
        "packages/web/node_modules/dep/package.json": {"name": "dep", "scripts": {"x": "y"}},
    }


def test_npm_workspaces_array(discover: Discover) -> None:
    project = discover(_monorepo(["packages/*"]))
    # Members in path order (packages/api, packages/unnamed, packages/web); node_modules is never a member.
    assert list(project.processes) == ["dev", "api:dev", "unnamed:test", "@acme/web:dev", "@acme/web:build"]
    web = project.processes["@acme/web:dev"]
    assert web.command == ("pnpm", "run", "dev")  # the root's package manager
    assert web.cwd == project.root / "packages" / "web"
    assert web.source_file == project.root / "packages" / "web" / "package.json"
    assert project.processes["dev"].cwd == project.root
    assert project.root / "packages" / "api" / "package.json" in project.files


def test_globs_select_workspace_scripts(discover: Discover) -> None:
    project = discover(_monorepo(["packages/*"]))
    assert select_processes(project, ["*:dev"]) == ["api:dev", "@acme/web:dev"]  # not the root's own `dev`
    assert select_processes(project, ["web:*"]) == ["@acme/web:dev", "@acme/web:build"]
    assert select_processes(project, ["dev", "api:*"]) == ["dev", "api:dev"]
    with pytest.raises(ConfigError, match=r"no process matches '\*:lint' \(known: dev, api:dev"):
        select_processes(project, ["*:lint"])


def test_yarn_workspaces_object_form(discover: Discover) -> None:
    project = discover(_monorepo({"packages": ["packages/web", "packages/api"], "nohoist": ["**/x"]}))
    assert list(project.processes) == ["dev", "@acme/web:dev", "@acme/web:build", "api:dev"]


def test_malformed_workspaces_field(discover: Discover) -> None:
    files = _monorepo("packages/*")
    with pytest.raises(ConfigError, match="workspaces"):
        discover(files)


def test_pnpm_workspace_yaml_with_negation_and_comments(discover: Discover) -> None:
    files = _monorepo(None)
    files["package.json"] = {"name": "root", "scripts": {"dev": "turbo dev"}}
    files["apps/site/package.json"] = {"name": "site", "scripts": {"start": "astro"}}
    files["pnpm-workspace.yaml"] = (
        "# the workspace\n"
        "packages:\n"
        "  - 'packages/*'   # libraries\n"
        '  - "apps/**"\n'
        "  - '!packages/unnamed'\n"
        "\n"
        "onlyBuiltDependencies:\n"
        "  - esbuild\n"
    )
    project = discover(files)
    assert list(project.processes) == ["dev", "api:dev", "@acme/web:dev", "@acme/web:build", "site:start"]
    assert project.root / "pnpm-workspace.yaml" in project.files


def test_pnpm_workspace_flow_list_unquoted(discover: Discover) -> None:
    files = _monorepo(None)
    files["pnpm-workspace.yaml"] = "packages: [packages/api, 'packages/unnamed']\n"
    project = discover(files)
    assert list(project.processes) == ["dev", "api:dev", "unnamed:test"]


def test_pnpm_workspace_unbalanced_quote(discover: Discover) -> None:
    files = _monorepo(None)
    files["pnpm-workspace.yaml"] = "packages:\n  - 'packages/*\n"
    with pytest.raises(ConfigError, match=r"pnpm-workspace\.yaml:2: unbalanced quote"):
        discover(files)


def test_member_package_json_errors_name_the_member(discover: Discover) -> None:
    files = _monorepo(["packages/*"])
    files["packages/api/package.json"] = '{"name": "api",\n "scripts": {"dev": }}'
    with pytest.raises(ConfigError, match=r"packages/api/package\.json:2: invalid JSON"):
        discover(files)


def test_duplicate_member_names_are_an_error(discover: Discover) -> None:
    files = _monorepo(["packages/*"])
    files["packages/unnamed/package.json"] = {"name": "api", "scripts": {}}
    with pytest.raises(ConfigError, match="'api' is used by both"):
        discover(files)


def test_short_name_resolves_scoped_member(discover: Discover) -> None:
    project = discover(_monorepo(["packages/*"]))
    assert select_processes(project, ["web:dev"]) == ["@acme/web:dev"]
    assert select_processes(project, ["@acme/web:build", "api:dev"]) == ["api:dev", "@acme/web:build"]


def test_short_name_ambiguous_between_scopes(discover: Discover) -> None:
    files = _monorepo(["packages/*", "other/*"])
    files["other/web/package.json"] = {"name": "@other/web", "scripts": {"dev": "x"}}
    project = discover(files)
    with pytest.raises(ConfigError, match="ambiguous: @acme/web:dev, @other/web:dev"):
        select_processes(project, ["web:dev"])
    assert select_processes(project, ["@other/web:dev"]) == ["@other/web:dev"]


def test_no_workspaces_ignores_sub_packages(discover: Discover) -> None:
    files = _monorepo(None)
    files["package.json"] = json.dumps({"scripts": {"dev": "x"}})
    assert list(discover(files).processes) == ["dev"]


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("packages/*", ["packages/a"], ["packages/a/b", "packages", "other/a"]),
        ("apps/**", ["apps/a", "apps/a/b/c"], ["apps", "x/apps/a"]),
        ("**/tools", ["tools", "a/b/tools"], ["tools/x"]),
        ("libs/[ab]?", ["libs/a1", "libs/bz"], ["libs/c1", "libs/a12"]),
        ("libs/[!a]*", ["libs/b"], ["libs/a"]),
    ],
)
def test_workspace_glob_semantics(pattern: str, matches: list[str], misses: list[str]) -> None:
    regex = glob_to_regex(pattern)
    assert all(regex.fullmatch(path) for path in matches)
    assert not any(regex.fullmatch(path) for path in misses)


def test_workspace_glob_outside_the_project(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"package\.json: workspace glob '\.\./shared' must be"):
        discover(_monorepo(["../shared"]))
