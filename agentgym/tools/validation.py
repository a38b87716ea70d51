"""Checking a tool call's arguments against the tool's JSON schema (built by `schema.py`).

Written here rather than taken from `jsonschema` because a tool needs what that library does not
do: coercion in lax mode ("3" -> 3 where the schema says integer) in the same walk, defaults
filled in, and error messages in the same words as the typed-function tools (pydantic's), so an
agent sees one style whichever way a tool was made.
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

from agentgym.tools.schema import resolve_ref

_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INT_TEXT = re.compile(r"[+-]?\d+")
_TYPE_WORDS = {
    "object": "a valid dictionary",
    "array": "a valid list",
    "string": "a valid string",
    "integer": "a valid integer",
    "number": "a valid number",
    "boolean": "a valid boolean",
    "null": "None",
}


class Violation(ValueError):
    """Arguments that do not fit the schema; `problems` holds (path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{p or 'arguments'}: {m}" for p, m in problems))
        self.problems = problems


def conform(arguments: Any, schema: dict[str, Any], lax: bool) -> Any:
    """The arguments checked against the schema (coerced in lax mode; defaults filled in).

    An object that declares properties and says nothing of others refuses others: a function
    cannot take arguments it does not name, and a misspelt optional one should not pass unseen.
    """
    problems: list[tuple[str, str]] = []
    value = _Walk(schema, lax, True, problems).value(arguments, schema, "")
    if problems:
        raise Violation(problems)
    return value


def coerce(arguments: Any, schema: dict[str, Any]) -> Any:
    """The arguments with lax coercions applied and nothing else; whoever validates next words
    what is still wrong (a typed function's pydantic model)."""
    return _Walk(schema, True, False, []).value(arguments, schema, "")


class _Walk:
    def __init__(self, root: dict[str, Any], lax: bool, fill_defaults: bool, problems: list):
        self.root, self.lax, self.fill_defaults, self.problems = root, lax, fill_defaults, problems

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def value(self, value: Any, schema: Any, path: str) -> Any:
        if schema is True or schema == {}:
            return value
        if schema is False:
            self.fail(path, "No value is allowed here")
            return value
        if "$ref" in schema:
            value = self.value(value, resolve_ref(schema["$ref"], self.root), path)
        for part in schema.get("allOf", ()):
            value = self.value(value, part, path)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                value = self.alternatives(value, schema[key], path)
        if value is None and schema.get("nullable"):
            return value
        kinds = schema.get("type")
        if kinds is not None:
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if not any(_is(value, k) for k in kinds):
                coerced = (
                    next((c for k in kinds if (c := _coerce(value, k)) is not _NO), _NO)
                    if self.lax
                    else _NO
                )
                if coerced is _NO:
                    words = " or ".join(_TYPE_WORDS[k] for k in kinds)
                    self.fail(path, f"Input should be {words}")
                    return value
                value = coerced
        if "enum" in schema:
            value = self.member(value, schema["enum"], path, "Input should be ")
        if "const" in schema:
            value = self.member(value, [schema["const"]], path, "Input should be ")
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            self.number(value, schema, path)
        elif isinstance(value, str):
            self.string(value, schema, path)
        elif isinstance(value, (list, tuple)):
            value = self.array(list(value), schema, path)
        elif isinstance(value, dict):
            value = self.object(value, schema, path)
        return value

    def alternatives(self, value: Any, options: list[Any], path: str) -> Any:
        attempts = []
        for lax in [False, True] if self.lax else [False]:  # an exact match beats a coerced one
            for option in options:
                problems: list[tuple[str, str]] = []
                result = _Walk(self.root, lax, self.fill_defaults, problems).value(
                    value, option, path
                )
                if not problems:
                    return result
                attempts.append((option, problems))
        real = [
            (o, p) for o, p in attempts if not (isinstance(o, dict) and o.get("type") == "null")
        ]
        last = {json.dumps(o, sort_keys=True, default=str): p for o, p in real}  # lax try last
        if len(last) == 1:
            self.problems.extend(*last.values())  # Optional[X]: X's problems are the useful ones
        else:
            shapes = "; ".join(dict.fromkeys(p[0][1] for p in last.values()))
            self.fail(path, f"Input should match one of the allowed shapes ({shapes})")
        return value

    def member(self, value: Any, allowed: list[Any], path: str, prefix: str) -> Any:
        for option in allowed:
            if _same(value, option):
                return option
        if self.lax:
            for option in allowed:
                coerced = _coerce(value, _json_type(option))
                if coerced is not _NO and _same(coerced, option):
                    return option
        shown = [repr(a) if isinstance(a, str) else json.dumps(a) for a in allowed]
        words = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
        self.fail(path, prefix + words)
        return value

    def number(self, value: float, s: dict[str, Any], path: str) -> None:
        lo, hi = s.get("minimum"), s.get("maximum")
        xlo, xhi = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
        if xlo is True:
            xlo, lo = lo, None
        if xhi is True:
            xhi, hi = hi, None
        for bound, ok, words in (
            (lo, lambda b: value >= b, "greater than or equal to"),
            (xlo, lambda b: value > b, "greater than"),
            (hi, lambda b: value <= b, "less than or equal to"),
            (xhi, lambda b: value < b, "less than"),
        ):
            if bound is not None and bound is not False and not ok(bound):
                self.fail(path, f"Input should be {words} {bound}")
        step = s.get("multipleOf")
        if step and not math.isclose(value / step, round(value / step), abs_tol=1e-9):
            self.fail(path, f"Input should be a multiple of {step}")

    def string(self, value: str, s: dict[str, Any], path: str) -> None:
        self.count(len(value), s, "minLength", "maxLength", "String", "character", path)
        if "pattern" in s and not re.search(s["pattern"], value):
            self.fail(path, f"String should match pattern '{s['pattern']}'")

    def count(self, n: int, s: dict, lo: str, hi: str, what: str, unit: str, path: str) -> None:
        for key, words in ((lo, "at least"), (hi, "at most")):
            if key in s and (n < s[key] if key == lo else n > s[key]):
                units = (
                    unit if s[key] == 1 else unit[:-1] + "ies" if unit.endswith("y") else unit + "s"
                )
                self.fail(path, f"{what} should have {words} {s[key]} {units}, not {n}")

    def array(self, value: list[Any], s: dict[str, Any], path: str) -> list[Any]:
        self.count(len(value), s, "minItems", "maxItems", "List", "item", path)
        prefix = s.get("prefixItems", [])
        out = [
            self.value(
                v, prefix[i] if i < len(prefix) else s.get("items", True), f"{path}.{i}".lstrip(".")
            )
            for i, v in enumerate(value)
        ]
        if s.get("uniqueItems") and len(
            {json.dumps(v, sort_keys=True, default=str) for v in out}
        ) < len(out):
            self.fail(path, "List items should be unique")
        return out

    def object(self, value: dict[str, Any], s: dict[str, Any], path: str) -> dict[str, Any]:
        props = s.get("properties", {})
        self.count(len(value), s, "minProperties", "maxProperties", "Object", "property", path)
        extra = s.get("additionalProperties", not props)
        out = {}
        for key, item in value.items():
            where = f"{path}.{key}".lstrip(".")
            if key in props:
                out[key] = self.value(item, props[key], where)
            elif extra is False:
                self.fail(where, "Extra inputs are not permitted")
                out[key] = item  # kept, so a validator after `coerce` refuses it too
            else:
                out[key] = self.value(item, extra, where)
        for key in s.get("required", []):
            if key not in value:
                self.fail(f"{path}.{key}".lstrip("."), "Field required")
        for key, sub in props.items() if self.fill_defaults else ():
            if key not in out and isinstance(sub, dict) and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])  # what the agent was told it would get
        return out


_NO = object()


_PY_TYPES = {
    "string": str,
    "boolean": bool,
    "object": dict,
    "array": (list, tuple),
    "null": type(None),
}


def _is(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
    return isinstance(value, _PY_TYPES[kind])


def _json_type(value: Any) -> str:
    for kind in ("boolean", "integer", "number", "string", "array", "object", "null"):
        if _is(value, kind):
            return kind
    return "string"


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values: True is not 1, but 1 is 1.0."""
    return (
        _json_type(a) == _json_type(b)
        and a == b
        or ({_json_type(a), _json_type(b)} <= {"integer", "number"} and a == b)
    )


def _coerce(value: Any, kind: str) -> Any:
    """The value as `kind` where that reading is unambiguous, else _NO."""
    if isinstance(value, bool):
        return str(value).lower() if kind == "string" else _NO
    if kind == "integer":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
            return int(value.strip())
        if (
            isinstance(value, str)
            and _NUMBER_TEXT.fullmatch(value.strip())
            and float(value).is_integer()
        ):
            return int(float(value))
    elif kind == "number" and isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        return int(value) if _INT_TEXT.fullmatch(value.strip()) else float(value)
    elif kind == "string" and isinstance(value, (int, float)):
        return str(value)
    elif (
        kind == "boolean" and isinstance(value, str) and value.strip().lower() in ("true", "false")
    ):
        return value.strip().lower() == "true"
    elif kind in ("array", "object") and isinstance(value, str):
        try:
            parsed = json.loads(value)  # a list or object sent as JSON text
        except ValueError:
            return _NO
        return parsed if _is(parsed, kind) else _NO
    return _NO
