"""docs/architecture.md stays true to the code where a check can tell.

The document gives no sizes, pauses or budgets of its own: it names the constant that holds each one
(``supervise.pipes.READ_SIZE``). Every such name must exist, and every module must be in its table of modules.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import brummer

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"
SRC = Path(brummer.__file__).parent
CONSTANT = re.compile(r"``((?:[a-z_]+\.)+)([A-Z][A-Z0-9_]*)``")  # ``module.path.NAME``, relative to brummer


def test_every_constant_the_document_names_exists() -> None:
    named = CONSTANT.findall(DOC.read_text())
    assert len(named) > 20  # the check reads what it should
    missing = [
        f"{module}{name}"
        for module, name in named
        if not hasattr(importlib.import_module("brummer." + module.rstrip(".")), name)
    ]
    assert missing == []


def test_the_module_table_names_every_module() -> None:
    text = DOC.read_text()
    table = text[text.index("## Modules") :]
    rows = {row.split("|")[1].strip(): row for row in table.splitlines() if row.startswith("| `")}
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.name in ("__init__.py", "__main__.py") or relative.parts[:2] == ("logs", "errors"):
            continue  # packages, and the error detectors (`errors/` in the table)
        if len(relative.parts) == 1:
            if not any(f"`{relative.name}`" in folder for folder in rows):
                missing.append(str(relative))
            continue
        folder = f"`{relative.parts[0]}/`"
        row = next((row for name, row in rows.items() if folder in name), "")
        if f"`{relative.stem}`" not in row:
            missing.append(str(relative))
    assert missing == []
