"""Checking tool arguments against their input schema, with messages an agent can act on.

The SDK's low-level ``Server`` does not validate ``tools/call`` arguments, and a generic JSON Schema error ("'x' is
not of type 'integer'") does not say which argument or what to send instead. Our schemas use a small subset of JSON
Schema (object, string, integer, number, boolean, enum, minimum/maximum, minLength/maxLength, required, no extra
properties), so a small checker covers them all and names the argument, the rule and the value it got. A value
out of range is a tool error however far out it is (an integer beyond ``MAX_SAFE_INTEGER`` too: it is counted in the
message, not printed).

Before any of that, the SDK checks a request's params against the MCP schema itself (``arguments`` must be an object,
``name`` a string) and answers a failure with a bare "Invalid request parameters"; ``explain`` says which field and
why, for the adapter to answer with instead.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping, Sequence
from typing import Any

Schema = Mapping[str, Any]
_SHORT = reprlib.Repr()  # (keyword arguments only from Python 3.12)
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist = 3, 8, 8
_SHORT.maxstring = _SHORT.maxlong = _SHORT.maxother = 42
MAX_SAFE_INTEGER = 2**53 - 1  # beyond it JSON numbers stop being portable (RFC 8259 section 6): not a value, a defect


# What the MCP schema's checks (pydantic's error types) mean, in the words of ``check_value``'s messages.
_SCHEMA_RULES = {
    "missing": "is required",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "list_type": "must be an array",
}


def explain(errors: Sequence[Mapping[str, Any]]) -> str:
    """A pydantic ``ValidationError``'s ``errors()`` as one line: ``arguments must be an object, got array``."""
    said = []
    for error in errors[:3]:
        loc = tuple(error.get("loc", ()))
        where = ".".join(str(part) for part in (loc[1:] if loc[:1] == ("params",) else loc)) or "params"
        rule = _SCHEMA_RULES.get(str(error.get("type")))
        if rule is None:
            said.append(f"{where}: {error.get('msg', 'invalid')}")
        elif error.get("type") == "missing":
            said.append(f"{where} {rule}")
        else:
            said.append(f"{where} {rule}, got {_kind(error.get('input'))}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(said) + more


def _shown(value: object) -> str:
    """A value in a message: an integer of hundreds of digits is counted, not printed."""
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        digits = len(str(abs(value))) if value.bit_length() < 10_000 else int(value.bit_length() * math.log10(2)) + 1
        return f"an integer of {digits} digits"
    return repr(value)


def check_arguments(schema: Schema, arguments: object) -> tuple[dict[str, Any], list[str]]:
    """``arguments`` with defaults filled in, and the problems found (empty when valid)."""
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        return {}, [f"arguments must be an object, got {_kind(arguments)}"]
    properties: Mapping[str, Schema] = schema.get("properties", {})
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key in arguments:
        if key not in properties:
            known = ", ".join(properties) or "none"
            problems.append(f"unknown argument {key!r} (this tool takes: {known})")
    problems.extend(f"{key} is required" for key in schema.get("required", ()) if arguments.get(key) is None)
    for key, rule in properties.items():
        value = arguments.get(key)
        if value is None:  # absent, or an explicit null: both mean "not given"
            if "default" in rule:
                values[key] = rule["default"]
            continue
        checked, problem = check_value(key, rule, value)
        if problem:
            problems.append(problem)
        else:
            values[key] = checked
    return values, problems


def check_value(key: str, rule: Schema, value: object) -> tuple[Any, str | None]:
    """The value (integral floats become ints) and a problem, or None."""
    kind = rule.get("type")
    if kind == "string":
        if not isinstance(value, str):
            return value, f"{key} must be a string, got {_kind(value)}"
        if len(value) < rule.get("minLength", 0):
            return value, f"{key} must not be empty"
        if "maxLength" in rule and len(value) > rule["maxLength"]:
            return value, f"{key} must be at most {rule['maxLength']} characters, got {len(value)}"
    elif kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value, f"{key} must be {'an integer' if kind == 'integer' else 'a number'}, got {_kind(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return value, f"{key} must be a finite number, got {value!r}"
        if kind == "integer":
            if isinstance(value, float) and not value.is_integer():
                return value, f"{key} must be an integer, got {value!r}"
            value = int(value)
        if "minimum" in rule and value < rule["minimum"]:
            return value, f"{key} must be >= {rule['minimum']}, got {_shown(value)}"
        if "maximum" in rule and value > rule["maximum"]:
            return value, f"{key} must be <= {rule['maximum']}, got {_shown(value)}"
        if abs(value) > MAX_SAFE_INTEGER:  # beyond it JSON numbers stop being portable: no tool means such a value
            sign = "<= " if value > 0 else ">= -"
            return value, f"{key} must be {sign}{MAX_SAFE_INTEGER} (2^53 - 1), got {_shown(value)}"
    elif kind == "boolean" and not isinstance(value, bool):
        return value, f"{key} must be true or false, got {_kind(value)}"
    if "enum" in rule and value not in rule["enum"]:
        return value, f"{key} must be one of {', '.join(map(str, rule['enum']))}; got {value!r}"
    return value, None


def _kind(value: object) -> str:
    """How a JSON value reads in a message: its JSON type, and the value itself when short."""
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    kind = next((name for typ, name in names.items() if isinstance(value, typ)), type(value).__name__)
    text = _SHORT.repr(value)  # bounded work, however big the value (a 16 MiB string as `arguments`)
    return f"{kind} {text}" if len(text) <= 40 and "..." not in text else kind
