"""Projects for `brummer smoke` tests: a real HTTP server on a free port that prints its URL, one-shots, checks."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

import jsonschema

from helpers import PY, write_project

# argv: seconds to wait before listening, then (optionally) seconds to serve before exiting with code 3
SERVER = """
import http.server, os, socketserver, sys, time
time.sleep(float(sys.argv[1]))
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello from " + os.environ["BRUMMER_PROCESS"].encode())
    def log_message(self, *args):
        pass
server = socketserver.TCPServer(("127.0.0.1", 0), Handler)
with open(os.environ["PIDS"], "a") as pids:
    pids.write(f"{os.getpid()}\\n")
print(f"  Local: http://127.0.0.1:{server.server_address[1]}/", flush=True)
if len(sys.argv) > 2:
    server.timeout = 0.05
    deadline = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < deadline:
        server.handle_request()
    print("out of memory, giving up", flush=True)
    sys.exit(3)
server.serve_forever()
"""

# A check: GET each URL named on the command line (by variable), print the answers.
FETCH = """
import os, sys, urllib.request
for var in sys.argv[1:]:
    print(var, urllib.request.urlopen(os.environ[var], timeout=10).read().decode(), flush=True)
"""


def server_project(tmp_path: Path, toml: str) -> Path:
    """``toml`` may use {server} (the server's command, without arguments) and {py}."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "fetch.py").write_text(FETCH)
    return write_project(tmp_path / "proj", brummer_toml=toml.format(server=f"{PY} -u {tmp_path / 'server.py'}", py=PY))


def fetch(tmp_path: Path, *variables: str) -> str:
    """A check that GETs the URL in each of ``variables`` and prints the answer."""
    return f"{PY} {tmp_path / 'fetch.py'} {' '.join(variables)}"


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PIDS": str(tmp_path / "pids"), **extra}


def validate(report: Path) -> dict[str, Any]:
    """The report, checked against the schema that ships in the package."""
    schema = json.loads(importlib.resources.files("brummer.smoke").joinpath("report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    doc: dict[str, Any] = json.loads(report.read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    return doc
