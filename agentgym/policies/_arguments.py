"""Random values that validate against a JSON schema, drawn where possible from the conversation.

Covers what tool schemas use: string, integer, number, boolean, null, enum, const, array (items,
prefixItems, min/maxItems), object (required vs optional, additionalProperties), anyOf/oneOf/allOf,
local `$ref`s, and the usual bounds. String values come from tokens seen in the conversation (ids
like `#W1234567`, emails, words) so that random calls sometimes hit real records.
"""

from __future__ import annotations

import json
import math
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"#?[\w-]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]*\w")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_WORD = re.compile(r"[A-Za-z][A-Za-z_'-]{2,}")
MAX_DEPTH = 6


def _is_id(token: str) -> bool:
    """`#W1234567`, `mina_ito_1234`, `1008292230`: a digit and a letter, or a long number."""
    bare = token.lstrip("#")
    has_digit = any(c.isdigit() for c in bare)
    return has_digit and (any(c.isalpha() for c in bare) or (bare.isdigit() and len(bare) >= 5))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


@dataclass
class Vocabulary:
    """Tokens seen in the conversation, by kind."""

    ids: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    @classmethod
    def from_texts(
        cls, texts: list[str], exclude: set[str] | frozenset[str] = frozenset()
    ) -> Vocabulary:
        """Read prose and JSON (values only, not keys); `exclude` drops names like the tools'."""
        vocab = cls()
        for text in texts:
            try:
                parsed = json.loads(text)
            except ValueError:
                vocab._read_prose(text)
                continue
            for leaf in _leaves(parsed):
                if isinstance(leaf, bool) or leaf is None:
                    continue
                if isinstance(leaf, (int, float)):
                    vocab.numbers.append(float(leaf))
                elif _EMAIL.fullmatch(leaf) or _is_id(leaf):
                    vocab._read_prose(leaf)
                elif len(leaf) <= 40:
                    vocab.words.append(leaf)  # a whole value, such as a city or a reason
        # dedupe, keeping first-seen order so draws are reproducible
        for name in ("ids", "emails", "numbers", "words"):
            setattr(
                vocab, name, [t for t in dict.fromkeys(getattr(vocab, name)) if t not in exclude]
            )
        return vocab

    def _read_prose(self, text: str) -> None:
        self.emails += _EMAIL.findall(text)
        rest = _EMAIL.sub(" ", text)
        self.ids += [t for t in _TOKEN.findall(rest) if _is_id(t)]
        self.numbers += [float(n) for n in _NUMBER.findall(rest)]
        self.words += [w for w in _WORD.findall(rest) if not _is_id(w)]


class ArgumentSampler:
    """Draws values for one tool's parameter schema."""

    def __init__(self, rng: random.Random, vocab: Vocabulary, p_optional: float = 0.5):
        self.rng = rng
        self.vocab = vocab
        self.p_optional = p_optional

    def arguments(self, schema: dict[str, Any]) -> dict[str, Any]:
        value = self.value(schema, schema, "", 0)
        return value if isinstance(value, dict) else {}

    def value(self, schema: Any, root: dict[str, Any], name: str, depth: int) -> Any:
        rng = self.rng
        if not isinstance(schema, dict) or not schema:
            return self.string({}, name)  # `true` / `{}` accepts anything
        if "$ref" in schema:
            return self.value(_resolve(schema["$ref"], root), root, name, depth + 1)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return rng.choice(schema["enum"])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = schema[key]
                non_null = [
                    o for o in options if not (isinstance(o, dict) and o.get("type") == "null")
                ]
                if len(non_null) < len(options) and (depth >= MAX_DEPTH or rng.random() < 0.1):
                    return None  # null is allowed; deep down it also ends recursion
                return self.value(rng.choice(non_null or options), root, name, depth + 1)
        if "allOf" in schema and schema["allOf"]:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged.update(_resolve(part["$ref"], root) if "$ref" in part else part)
            return self.value(merged, root, name, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = rng.choice([k for k in kind if k != "null"] or kind)
        if kind is None:
            kind = (
                "object" if "properties" in schema else "array" if "items" in schema else "string"
            )
        make = getattr(self, f"_{kind}", None)
        if make is None:
            raise ValueError(f"cannot draw a value of JSON schema type {kind!r}")
        return make(schema, root, name, depth)

    # ---- one method per JSON type --------------------------------------------------------------

    def _string(self, schema: dict[str, Any], root: dict[str, Any], name: str, depth: int) -> str:
        return self.string(schema, name)

    def string(self, schema: dict[str, Any], name: str) -> str:
        rng, vocab = self.rng, self.vocab
        lowered = name.lower()
        if "email" in lowered and vocab.emails:
            pool = vocab.emails
        elif (lowered == "id" or lowered.endswith("id") or lowered.endswith("ids")) and vocab.ids:
            pool = vocab.ids
        else:
            pool = [*vocab.ids, *vocab.emails, *vocab.words]
        lo, hi = schema.get("minLength", 0), schema.get("maxLength")
        fitting = [t for t in pool if len(t) >= lo and (hi is None or len(t) <= hi)]
        if fitting and rng.random() < 0.85:
            return rng.choice(fitting)
        length = rng.randint(max(lo, 1), max(lo, 1, min(hi if hi is not None else 8, 8)))
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(length))

    def _integer(self, schema: dict[str, Any], root: dict[str, Any], name: str, depth: int) -> int:
        lo, hi = _bounds(schema, integer=True)
        seen = [int(n) for n in self.vocab.numbers if n == int(n) and lo <= n <= hi]
        if seen and self.rng.random() < 0.5:
            return self.rng.choice(seen)
        return self.rng.randint(int(lo), int(hi))

    def _number(self, schema: dict[str, Any], root: dict[str, Any], name: str, depth: int) -> float:
        lo, hi = _bounds(schema, integer=False)
        seen = [n for n in self.vocab.numbers if lo <= n <= hi]
        if seen and self.rng.random() < 0.5:
            return self.rng.choice(seen)
        return round(self.rng.uniform(lo, hi), 2) if hi - lo > 0.02 else lo

    def _boolean(self, schema: dict[str, Any], root: dict[str, Any], name: str, depth: int) -> bool:
        return self.rng.random() < 0.5

    def _null(self, schema: dict[str, Any], root: dict[str, Any], name: str, depth: int) -> None:
        return None

    def _array(
        self, schema: dict[str, Any], root: dict[str, Any], name: str, depth: int
    ) -> list[Any]:
        prefix = schema.get("prefixItems") or []
        lo = max(schema.get("minItems", 0), len(prefix))
        hi = schema.get("maxItems", max(lo, 3 if depth < MAX_DEPTH else 0))
        count = self.rng.randint(lo, max(lo, min(hi, lo + 3)))
        singular = name[:-1] if name.endswith("s") else name  # "order_ids" -> "order_id"
        items = [self.value(s, root, singular, depth + 1) for s in prefix[:count]]
        item_schema = schema.get("items", {})
        items += [
            self.value(item_schema, root, singular, depth + 1) for _ in range(count - len(items))
        ]
        return items

    def _object(
        self, schema: dict[str, Any], root: dict[str, Any], name: str, depth: int
    ) -> dict[str, Any]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        out = {
            key: self.value(sub, root, key, depth + 1)
            for key, sub in properties.items()
            if key in required or (depth < MAX_DEPTH and self.rng.random() < self.p_optional)
        }
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and depth < MAX_DEPTH:
            for _ in range(self.rng.randint(0, 2)):
                out[self.string({}, "key")] = self.value(extra, root, name, depth + 1)
        return out


def _bounds(schema: dict[str, Any], integer: bool) -> tuple[float, float]:
    step = 1 if integer else 0.01
    lo = schema.get(
        "minimum", schema["exclusiveMinimum"] + step if "exclusiveMinimum" in schema else None
    )
    hi = schema.get(
        "maximum", schema["exclusiveMaximum"] - step if "exclusiveMaximum" in schema else None
    )
    if lo is None and hi is None:
        lo, hi = 0, 10
    elif lo is None:
        lo = min(0, hi)
    elif hi is None:
        hi = max(lo + 10, 10)
    if integer:
        lo, hi = math.ceil(lo), math.floor(hi)
    return lo, hi


def _resolve(ref: str, root: dict[str, Any]) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node
