"""brummer.toml: every process key, refinement of other sources, and errors at ``brummer.toml:LINE``."""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest

from brummer.config import Condition, ProjectSpec, ReadyCheck, RestartPolicy
from brummer.errors import ConfigError

Discover = Callable[..., ProjectSpec]

FULL = """\
[processes.db]
cmd = ["postgres", "-D", "data"]
cwd = "services/db"
env = { PGPORT = "5432" }
ready = { tcp = 5432 }
restart = "on-failure"
max_restarts = 3
stop_signal = "SIGINT"
grace = 10

[processes.api]
cmd = "uvicorn app:main --port $PORT"
depends_on = { db = "ready", migrate = "succeeded", seed = "completed", cache = "started" }
ready = { http = "http://localhost:8000/health" }
restart = "always"
stop_signal = 2

[processes.migrate]
cmd = "alembic upgrade head"
ready = "none"
stop_signal = "TERM"

[processes.seed]
cmd = "./seed"
ready = { exec = "pg_isready -p 5432" }
stop_signal = "sigkill"

[processes.cache]
cmd = "redis-server"
ready = { log = 'Ready to accept connections\\s+\\w+' }
restart = "no"

[processes.web]
cmd = "vite"
ready = { url = true }
depends_on = ["api", "cache"]
"""


def test_every_process_key(discover: Discover) -> None:
    project = discover({"brummer.toml": FULL})
    root = project.root
    assert list(project.processes) == ["db", "api", "migrate", "seed", "cache", "web"]
    db = project.processes["db"]
    assert db.command == ("postgres", "-D", "data")
    assert db.source == "brummer.toml"
    assert db.source_file == root / "brummer.toml"
    assert db.cwd == root / "services" / "db"
    assert db.env == {"PGPORT": "5432"}
    assert db.ready == ReadyCheck("tcp", "5432")
    assert db.restart is RestartPolicy.ON_FAILURE
    assert db.max_restarts == 3
    assert db.stop_signal is signal.SIGINT
    assert db.grace == 10.0

    api = project.processes["api"]
    assert api.command == "uvicorn app:main --port $PORT"
    assert api.cwd == root
    assert api.depends_on == {
        "db": Condition.READY,
        "migrate": Condition.SUCCEEDED,
        "seed": Condition.COMPLETED,
        "cache": Condition.STARTED,
    }
    assert api.ready == ReadyCheck("http", "http://localhost:8000/health")
    assert api.restart is RestartPolicy.ALWAYS
    assert api.max_restarts is None
    assert api.stop_signal is signal.SIGINT
    assert api.grace == 5.0

    assert project.processes["migrate"].ready == ReadyCheck("none")
    assert project.processes["migrate"].stop_signal is signal.SIGTERM
    assert project.processes["seed"].ready == ReadyCheck("exec", "pg_isready -p 5432")
    assert project.processes["seed"].stop_signal is signal.SIGKILL
    assert project.processes["cache"].ready == ReadyCheck("log", r"Ready to accept connections\s+\w+")
    assert project.processes["cache"].restart is RestartPolicy.NO
    web = project.processes["web"]
    assert web.ready == ReadyCheck("url")
    assert web.depends_on == {"api": Condition.STARTED, "cache": Condition.STARTED}
    assert web.restart is RestartPolicy.NO
    assert project.default == ("db", "api", "migrate", "seed", "cache", "web")  # brummer.toml only: all of it


def test_script_runs_a_root_package_json_script(discover: Discover) -> None:
    project = discover(
        {
            "package.json": {"scripts": {"dev": "vite", "storybook": "storybook dev"}},
            "yarn.lock": "",
            "brummer.toml": '[processes.ui]\nscript = "storybook"\ncwd = "."\n',
        }
    )
    ui = project.processes["ui"]
    assert ui.command == ("yarn", "run", "storybook")
    assert ui.source == "brummer.toml"
    assert ui.cwd == project.root


def test_script_naming_a_missing_script(discover: Discover) -> None:
    files = {
        "package.json": {"scripts": {"dev": "vite"}},
        "brummer.toml": '\n[processes.ui]\nscript = "sb"\n',
    }
    with pytest.raises(
        ConfigError,
        match=r"brummer\.toml:3: processes\.ui\.script: no package\.json script 'sb' \(scripts: dev\)",
    ):
        discover(files)


def test_refines_a_package_json_script(discover: Discover) -> None:
    project = discover(
        {
            "package.json": {"scripts": {"dev": "vite", "lint": "eslint"}},
            "pnpm-lock.yaml": "",
            "brummer.toml": (
                '[processes.db]\ncmd = "postgres"\nready = { tcp = 5432 }\n\n'
                '[processes.dev]\ndepends_on = { db = "ready" }\nrestart = "on-failure"\n'
            ),
        }
    )
    dev = project.processes["dev"]
    assert dev.command == ("pnpm", "run", "dev")
    assert dev.source == "package.json"  # the command still comes from there
    assert dev.depends_on == {"db": Condition.READY}
    assert dev.restart is RestartPolicy.ON_FAILURE
    assert list(project.processes) == ["dev", "lint", "db"]  # a refined process keeps its place
    assert project.default == ("dev",)


def test_refines_a_procfile_entry_and_cmd_overrides(discover: Discover) -> None:
    project = discover(
        {
            "package.json": {"scripts": {"web": "vite"}},
            "Procfile": "web: ./run-web\nworker: ./work\n",
            "brummer.toml": '[processes.worker]\ncwd = "jobs"\n\n[processes.web]\ncmd = ["./other"]\n',
        }
    )
    assert project.processes["worker"].command == "./work"
    assert project.processes["worker"].source == "Procfile"
    assert project.processes["worker"].cwd == project.root / "jobs"
    assert project.processes["web"].command == ("./other",)
    assert project.processes["web"].source == "brummer.toml"


def test_table_without_command_or_source(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"brummer\.toml:2: processes\.ghost needs cmd or script"):
        discover({"brummer.toml": '\n[processes.ghost]\nrestart = "always"\n'})


def test_syntax_error_names_file_and_line(discover: Discover) -> None:
    with pytest.raises(ConfigError) as info:
        discover({"brummer.toml": '[processes.web]\ncmd = "vite"\ngrace = \n'})
    assert info.value.line == 3
    assert "brummer.toml:3: invalid TOML: Invalid value at column" in str(info.value)
    assert "(at line" not in str(info.value)


def test_syntax_error_at_end_of_file(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"brummer\.toml:2: invalid TOML: .* at end of file"):
        discover({"brummer.toml": '[processes.web]\ncmd = "vite'})


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ('grace = "x"', 4, "processes.web.grace must be a number"),
        ("grace = -1", 4, "processes.web.grace must be a finite number >= 0"),
        ("colour = 1", 4, "unknown key 'colour' in processes.web"),
        ('script = "dev"', 4, "sets both cmd and script"),
        ("cmd2 = []", 4, "unknown key 'cmd2'"),
        ("env = { PORT = 3000 }", 4, "processes.web.env.PORT must be a string"),
        ('env_file = [".env.local", 3]', 4, "processes.web.env_file must be a path"),
        ('depends_on = { db = "healthy" }', 4, "processes.web.depends_on.db must be one of 'started'"),
        ("depends_on = 3", 4, "processes.web.depends_on must be a table"),
        ('ready = { tcp = 1, log = "x" }', 4, "exactly one of"),
        ('ready = { tcp = "5432" }', 4, "tcp must be a port number"),
        ("ready = { url = false }", 4, "url must be true"),
        ('ready = { http = "localhost:3000" }', 4, "http must be an http://"),
        ('ready = { log = "([a-z" }', 4, "log is not a usable regular expression: invalid regex '([a-z': missing ]"),
        (
            "ready = { log = '(?<=port )\\d+' }",
            4,
            "log is not a usable regular expression: lookbehind `(?<=` is not supported: brummer runs patterns on a "
            "linear-time engine (RE2)",
        ),
        ("ready = { log = '(a)\\1' }", 4, "backreference `\\1` is not supported"),
        ('ready = { exec = "" }', 4, "exec must be a non-empty string"),
        ('ready = "sometimes"', 4, 'must be "none" or a table'),
        ('restart = "never"', 4, "processes.web.restart must be one of 'no', 'on-failure', 'always'"),
        ("max_restarts = -1", 4, "max_restarts must be an integer >= 0"),
        ("max_restarts = 1.5", 4, "max_restarts must be an integer >= 0"),
        ('stop_signal = "SIGNOPE"', 4, "stop_signal must be a signal name"),
        ("stop_signal = 999", 4, "stop_signal must be a signal name"),
        ("cwd = 3", 4, "processes.web.cwd must be a non-empty string"),
    ],
)
def test_wrong_values_name_file_line_and_key(discover: Discover, body: str, line: int, message: str) -> None:
    text = f'# web\n[processes.web]\ncmd = "vite"\n{body}\n\n[processes.db]\ncmd = "pg"\n'
    with pytest.raises(ConfigError) as info:
        discover({"brummer.toml": text})
    assert message in str(info.value)
    assert str(info.value).startswith(f"{info.value.path}:{line}: ")
    assert info.value.path is not None and info.value.path.name == "brummer.toml"


def test_cmd_must_be_string_or_argv(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"brummer\.toml:2: processes\.web\.cmd must be a shell command"):
        discover({"brummer.toml": "[processes.web]\ncmd = []\n"})


def test_unknown_top_level_key(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"brummer\.toml:2: unknown key 'graec' in brummer\.toml"):
        discover({"brummer.toml": "default = []\ngraec = 3\n"})


def test_wrong_top_level_setting_type(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"brummer\.toml:3: mcp must be true or false"):
        discover({"brummer.toml": "grace = 1\n\nmcp = 'yes'\n"})


def test_processes_entry_must_be_a_table(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"brummer\.toml:2: processes\.web must be a table"):
        discover({"brummer.toml": '[processes]\nweb = "vite"\n'})


def test_quoted_process_names_and_dotted_keys(discover: Discover) -> None:
    text = '[processes."api-v2"]\ncmd = "x"\nready.tcp = 8080\n\n[processes."api-v2".env]\nA = "1"\n'
    project = discover({"brummer.toml": text})
    assert project.processes["api-v2"].ready == ReadyCheck("tcp", "8080")
    assert project.processes["api-v2"].env == {"A": "1"}
