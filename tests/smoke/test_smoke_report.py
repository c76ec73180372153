"""The JSON report's schema, shipped in the package."""

from __future__ import annotations

import importlib.resources
import json

from brummer.supervise.state import ProcState


def test_the_shipped_schema_knows_every_state() -> None:
    """The report schema is a file in the package: it must follow ProcState when a state is added."""
    schema = json.loads(importlib.resources.files("brummer.smoke").joinpath("report.schema.json").read_text())
    states = schema["$defs"]["process"]["properties"]["state"]["enum"]
    assert states == [str(state) for state in ProcState]
