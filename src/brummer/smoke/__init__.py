"""``brummer smoke``: one command for CI that starts the dev processes, waits until they are really up, runs checks
against them, stops everything and reports.

``run`` is the tree and the run itself; ``gate`` decides who is up (or failed); ``checks`` runs the checks as a
supervised process; ``result`` holds what happened; ``summary``, ``report`` (JSON, JUnit), ``github`` and ``outputs``
tell it. ``report.schema.json`` is the JSON report's schema.
"""

from brummer.smoke.result import CheckResult, CheckStatus, ProcessResult, SmokeResult, Verdict
from brummer.smoke.run import SmokeOptions, run_smoke

__all__ = ["CheckResult", "CheckStatus", "ProcessResult", "SmokeOptions", "SmokeResult", "Verdict", "run_smoke"]
