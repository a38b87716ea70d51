"""Checking a tool's JSON schema when the tool is built (`validation.py` checks the arguments).

The subset is what tool schemas use: type (a list for unions; `nullable`), enum, const, required,
properties, additionalProperties, items/prefixItems, anyOf/oneOf/allOf, local $ref, bounds on
numbers, strings, lists and objects, pattern, uniqueItems, default. A constraint keyword outside
it is refused here rather than silently not enforced.
"""

from __future__ import annotations

import copy
import re
from typing import Any

#: type names some benchmarks' tool docs use in place of JSON Schema's
TYPE_ALIASES = {
    "dict": "object",
    "float": "number",
    "int": "integer",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "tuple": "array",
}
TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
UNSUPPORTED = frozenset(
    {
        "not",
        "if",
        "then",
        "else",
        "patternProperties",
        "dependencies",
        "dependentRequired",
        "dependentSchemas",
        "contains",
        "minContains",
        "maxContains",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "$dynamicRef",
        "$recursiveRef",
    }
)
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_COUNT_KEYS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")


def normalize_schema(schema: Any, where: str = "parameters") -> dict[str, Any]:
    """Checked copy of a parameters schema, type aliases replaced; TypeError says what is wrong."""
    if not isinstance(schema, dict):
        raise TypeError(f"{where}: a JSON schema must be an object, not {type(schema).__name__}")
    schema = copy.deepcopy(schema)
    _check(schema, schema, where)
    if schema.get("type", "object") != "object":
        raise TypeError(
            f"{where}: the parameters of a tool must be an object schema, "
            f"not type {schema['type']!r}"
        )
    schema["type"] = "object"
    schema.setdefault("properties", {})
    return schema


def _check(node: Any, root: dict[str, Any], where: str) -> None:
    if isinstance(node, bool):
        return  # `true` accepts anything, `false` nothing
    if not isinstance(node, dict):
        raise TypeError(f"{where}: a schema must be an object or a boolean, not {node!r}")
    unsupported = sorted(UNSUPPORTED & node.keys())
    if unsupported:
        raise TypeError(
            f"{where}: {', '.join(unsupported)} is not supported by the tool validator; "
            "simplify the schema or build the tool with validate=False"
        )
    if "type" in node:
        node["type"] = _checked_type(node["type"], where)
        if node["type"] is None:
            del node["type"]  # "any"
    for key in _NUMBER_KEYS:
        value = node.get(key)
        if isinstance(value, bool) and key.startswith("exclusive"):
            continue  # draft-4 form: a flag on minimum/maximum
        if key in node and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise TypeError(f"{where}.{key}: must be a number, not {value!r}")
    for key in _COUNT_KEYS:
        if key in node and (
            isinstance(node[key], bool) or not isinstance(node[key], int) or node[key] < 0
        ):
            raise TypeError(f"{where}.{key}: must be a whole number >= 0, not {node[key]!r}")
    if "pattern" in node:
        try:
            re.compile(node["pattern"])
        except (re.error, TypeError) as e:
            raise TypeError(
                f"{where}.pattern: {node['pattern']!r} is not a regular expression ({e})"
            ) from None
    if "enum" in node and (not isinstance(node["enum"], list) or not node["enum"]):
        raise TypeError(f"{where}.enum: must be a non-empty list")
    props = node.get("properties", {})
    if not isinstance(props, dict):
        raise TypeError(f"{where}.properties: must be an object mapping names to schemas")
    required = node.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise TypeError(f"{where}.required: must be a list of property names")
    missing = [r for r in required if props and r not in props]
    if missing:
        raise TypeError(
            f"{where}.required: {', '.join(missing)} not in properties ({', '.join(props)})"
        )
    for name, sub in props.items():
        _check(sub, root, f"{where}.{name}")
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        _check(extra, root, f"{where}.additionalProperties")
    items = node.get("items")
    if isinstance(items, list):  # draft-4 tuple form
        node["prefixItems"] = node.pop("items")
    elif items is not None:
        _check(items, root, f"{where}.items")
    for key in ("prefixItems", "anyOf", "oneOf", "allOf"):
        if key in node:
            if not isinstance(node[key], list) or not node[key]:
                raise TypeError(f"{where}.{key}: must be a non-empty list of schemas")
            for i, sub in enumerate(node[key]):
                _check(sub, root, f"{where}.{key}[{i}]")
    for key in ("$defs", "definitions"):
        for name, sub in node.get(key, {}).items():
            _check(sub, root, f"{where}.{key}.{name}")
    if "$ref" in node:
        resolve_ref(node["$ref"], root, TypeError)


def _checked_type(kind: Any, where: str) -> Any:
    kinds = kind if isinstance(kind, list) else [kind]
    out = []
    for k in kinds:
        k = TYPE_ALIASES.get(k, k) if isinstance(k, str) else k
        if k == "any":
            return None
        if k not in TYPES:
            raise TypeError(
                f"{where}.type: unknown type {k!r} (JSON Schema has {', '.join(TYPES)})"
            )
        out.append(k)
    return out if isinstance(kind, list) else out[0]


def resolve_ref(ref: Any, root: dict[str, Any], error: type[Exception] = ValueError) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise error(f"only local $refs (#/...) are supported, not {ref!r}")
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise error(f"$ref {ref!r} points at nothing")
        node = node[part]
    return node
