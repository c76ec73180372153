"""`brummer smoke` end to end with real processes: the gate, the checks in order, their environment, the exit code."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from helpers_smoke import env, fetch, server_project, validate

from helpers import free_port, pid_alive
from helpers_cli import pids_in, run_brummer

TWO_SERVERS = """
[processes.web]
cmd = "{server} 0.2"
depends_on = {{ "my-api:dev" = "ready" }}
grace = 1
[processes."my-api:dev"]
cmd = "{server} 0.4"
grace = 1
"""


def test_a_passing_run_reports_everything(tmp_path: Path) -> None:
    root = server_project(tmp_path, TWO_SERVERS)
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    check = fetch(tmp_path, "BRUMMER_URL_WEB", "BRUMMER_URL_MY_API_DEV")
    args = ["smoke", "--dir", str(root), "web", "--check", check, "--report", str(report), "--junit", str(junit)]
    result = run_brummer(args, tmp_path, env=env(tmp_path))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    # the URL variables reached the check, whose output is prefixed `check |`
    assert re.search(r"^\d\d:\d\d:\d\d check +\| BRUMMER_URL_WEB hello from web$", out, re.M), out
    assert re.search(r"^\d\d:\d\d:\d\d check +\| BRUMMER_URL_MY_API_DEV hello from my-api:dev$", out, re.M)
    assert "\x1b[" not in out  # plain, no colour without FORCE_COLOR
    # the summary table ends the output
    tail = out[out.index("\nprocess ") :]
    assert re.search(r"^web +\d+\.\d\ds +stopped +0 +0$", tail, re.M), tail
    assert re.search(r"^my-api:dev +\d+\.\d\ds +stopped +0 +0$", tail, re.M)
    assert re.search(r"^check +exit +duration$", tail, re.M) and re.search(r"/python /.*… +0 +\d+\.\d\ds$", tail, re.M)
    assert out.rstrip().splitlines()[-1].startswith("verdict: passed in ")
    assert not [pid for pid in pids_in(tmp_path / "pids") if pid_alive(pid)]

    doc = validate(report)
    assert (doc["verdict"], doc["exit_code"], doc["not_ready"]) == ("passed", 0, [])
    api, web = doc["processes"]
    assert (api["name"], web["name"]) == ("my-api:dev", "web")  # the named process and its dependency, in order
    assert web["ready"] and web["ready_after_s"] > api["ready_after_s"] > 0  # web started once my-api was ready
    assert web["urls"] and web["urls"][0].startswith("http://127.0.0.1:") and web["stopped_by_brummer"]
    (ran,) = doc["checks"]
    assert (ran["command"], ran["status"], ran["exit_code"]) == (check, "passed", 0) and ran["duration_s"] > 0

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("3", "0")
    names = [case.get("name") for case in suite.iter("testcase")]
    assert names == ["my-api:dev is up", "web is up", f"check 1: {check}"]


def test_a_one_shot_build_finishes_before_the_checks(tmp_path: Path) -> None:
    """A build is up by having exited 0; the check runs only after it, so it sees what the build made."""
    root = server_project(
        tmp_path,
        """
        default = ["build", "web"]
        [processes.build]
        cmd = "echo compiling; sleep 1; echo done > dist.txt"
        [processes.web]
        cmd = "{server} 0"
        grace = 1
        """,
    )
    result = run_brummer(["smoke", "--dir", str(root), "--check", "cat dist.txt"], tmp_path, env=env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"check +\| done$", result.stdout, re.M)
    assert re.search(r"^build +\d\.\d\ds \(done\) +0 +0 +0$", result.stdout, re.M), result.stdout


def test_checks_run_in_order_and_a_failing_one_fails_the_run(tmp_path: Path) -> None:
    root = server_project(
        tmp_path,
        """
        check = ["echo first >> order", "echo second >> order; echo broken >&2; exit 4", "echo third >> order"]
        [processes.web]
        cmd = "{server} 0"
        grace = 1
        """,
    )
    report = tmp_path / "report.json"
    result = run_brummer(["smoke", "--dir", str(root), "web", "--report", str(report)], tmp_path, env=env(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert (root / "order").read_text() == "first\nsecond\n"  # in order, and none after the failure
    doc = validate(report)
    assert [c["status"] for c in doc["checks"]] == ["passed", "failed", "not-run"]
    failed = doc["checks"][1]
    assert failed["exit_code"] == 4 and failed["log_tail"] == ["broken"]
    assert doc["verdict"] == "failed" and "exit code 4" not in doc["reason"] and "failed: 4" in doc["reason"]
    assert result.stdout.rstrip().splitlines()[-2] == "check `echo second >> order; echo broken >&2; exit 4`: 4"

    # --check replaces brummer.toml's checks
    (root / "order").unlink()
    result = run_brummer(
        ["smoke", "--dir", str(root), "web", "--check", "echo only >> order"], tmp_path, env=env(tmp_path)
    )
    assert result.returncode == 0 and (root / "order").read_text() == "only\n"


def test_ready_none_counts_once_it_runs_and_no_checks_pass_once_up(tmp_path: Path) -> None:
    root = server_project(
        tmp_path,
        """
        [processes.worker]
        cmd = "echo working; exec sleep 60"
        ready = "none"
        grace = 1
        """,
    )
    result = run_brummer(["smoke", "--dir", str(root), "worker"], tmp_path, env=env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'worker  » ready = "none": it counts as up once it runs' in result.stdout
    assert "no checks: it passes once all are up" in result.stdout


PRINT_THEN_SERVE = """
import http.server, sys, time
port = int(sys.argv[1])
print(f"api on http://127.0.0.1:{port}/", flush=True)
time.sleep(1.7)  # binds between two of the port watch's backing-off re-checks (about 1.55 s and 3.15 s)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def test_the_checks_get_the_url_of_a_process_made_ready_by_its_probe(tmp_path: Path) -> None:
    """`ready = { http = ... }` passes before the URL the server printed is confirmed by the port watch's timer:
    the check still gets BRUMMER_URL_API (a process is ready only once its printed URLs were looked at)."""
    port = free_port()
    (tmp_path / "api.py").write_text(PRINT_THEN_SERVE)
    root = server_project(
        tmp_path,
        f"""
        [processes.api]
        cmd = "{{py}} -u {tmp_path / "api.py"} {port}"
        ready = {{{{ http = "http://127.0.0.1:{port}/" }}}}
        grace = 1
        """,
    )
    check = 'echo "url=$BRUMMER_URL_API"'
    result = run_brummer(["smoke", "--dir", str(root), "--check", check], tmp_path, env=env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(rf"check +\| url=http://127\.0\.0\.1:{port}/$", result.stdout, re.M), result.stdout


def test_usage_and_config_errors_exit_2_and_start_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    root = server_project(tmp_path, f'check = "touch {marker}"\n[processes.web]\ncmd = "touch {marker}"\n')
    result = run_brummer(["smoke", "--dir", str(root)], tmp_path)
    assert result.returncode == 2 and re.match(r"brummer: .*brummer\.toml:1: check must be an array", result.stderr)
    (root / "brummer.toml").write_text(f'[processes.web]\ncmd = "touch {marker}"\n')
    for bad in (["--timeout", "0"], ["--timeout", "nan"], ["--report", str(tmp_path / "nowhere" / "r.json")]):
        result = run_brummer(["smoke", "--dir", str(root), "web", *bad], tmp_path)
        assert result.returncode == 2, (bad, result.stderr)
    assert not marker.exists()
