"""Checking tool arguments against their input schema, with messages an agent can act on.

The SDK's low-level ``Server`` does not validate ``tools/call`` arguments, and a generic JSON Schema error ("'x' is
not of type 'integer'") does not say which argument or what to send instead. Our schemas use a small subset of JSON
Schema (object, string, integer, number, boolean, enum, minimum/maximum, minLength/maxLength, required, no extra
properties), so a small checker covers them all and names the argument, the rule and the value it got.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]
MAX_SAFE_INTEGER = 2**53 - 1  # beyond it JSON numbers stop being portable (RFC 8259 section 6): not a value, a defect


def unrepresentable(arguments: object) -> str | None:
    """The problem with an argument no JSON peer could mean (an integer beyond ``MAX_SAFE_INTEGER``, or a number
    that parsed as infinity), or None. Such a message is malformed rather than merely out of a tool's range."""
    if not isinstance(arguments, Mapping):
        return None
    for key, value in arguments.items():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
            return f"{key}: an integer of {_digits(value)} digits is out of range (at most {MAX_SAFE_INTEGER})"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{key}: {value!r} is not a JSON number"
    return None


def _digits(value: int) -> int:
    return len(str(abs(value))) if value.bit_length() < 10_000 else int(value.bit_length() * math.log10(2)) + 1


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
            return value, f"{key} must be >= {rule['minimum']}, got {value!r}"
        if "maximum" in rule and value > rule["maximum"]:
            return value, f"{key} must be <= {rule['maximum']}, got {value!r}"
    elif kind == "boolean" and not isinstance(value, bool):
        return value, f"{key} must be true or false, got {_kind(value)}"
    if "enum" in rule and value not in rule["enum"]:
        return value, f"{key} must be one of {', '.join(map(str, rule['enum']))}; got {value!r}"
    return value, None


def _kind(value: object) -> str:
    """How a JSON value reads in a message: its JSON type, and the value itself when short."""
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    kind = next((name for typ, name in names.items() if isinstance(value, typ)), type(value).__name__)
    text = repr(value)
    return f"{kind} {text}" if len(text) <= 40 else kind
