"""Verification on Python objects: the agent's end state against the reference's, attribute by
attribute, explained the way `state_diff` explains SQLite rows.

For envs whose state is plain objects (a benchmark's API classes, a to-do list, a file system
model). `public_state(obj)` reads an object's public attributes recursively into plain data
(dicts, lists, scalars); `diff_states` lists every path that differs ("cart.items[2].qty: 1 vs 2");
`ObjectStateVerifier` scores 1 only when nothing differs. `results_check` is the companion result
check: every result the reference's calls returned must appear among the agent's call results.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agentgym.core.types import Reward

_SCALARS = (str, int, float, bool, type(None))


def public_state(obj: Any, depth: int = 8) -> Any:
    """Plain data for `obj`: scalars as they are, containers element-wise, objects as a dict of
    their public attributes (no leading underscore, no callables). Deeper than `depth` is cut."""
    if isinstance(obj, _SCALARS):
        return obj
    if isinstance(obj, enum.Enum):
        return public_state(obj.value, depth)
    if depth <= 0:
        return f"<{type(obj).__name__}>"
    if isinstance(obj, Mapping):
        return {str(k): public_state(v, depth - 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [public_state(v, depth - 1) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((public_state(v, depth - 1) for v in obj), key=repr)
    if dataclasses.is_dataclass(obj):
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    elif hasattr(obj, "model_dump"):  # pydantic
        return public_state(obj.model_dump(), depth)
    else:
        fields = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
    return {k: public_state(v, depth - 1) for k, v in sorted(fields.items())
            if not k.startswith("_") and not callable(v)}


@dataclass(frozen=True)
class StateChange:
    path: str
    expected: Any
    actual: Any

    def describe(self) -> str:
        return f"{self.path}: {_short(self.actual)} (agent) vs {_short(self.expected)} (reference)"


def diff_states(expected: Any, actual: Any, path: str = "") -> list[StateChange]:
    """Every place where two plain-data states differ, by path."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[StateChange] = []
        for key in sorted(set(expected) | set(actual)):
            sub = f"{path}.{key}" if path else key
            if key not in actual:
                out.append(StateChange(sub, expected[key], "<missing>"))
            elif key not in expected:
                out.append(StateChange(sub, "<missing>", actual[key]))
            else:
                out += diff_states(expected[key], actual[key], sub)
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        for i in range(max(len(expected), len(actual))):
            sub = f"{path}[{i}]"
            if i >= len(actual):
                out.append(StateChange(sub, expected[i], "<missing>"))
            elif i >= len(expected):
                out.append(StateChange(sub, "<missing>", actual[i]))
            else:
                out += diff_states(expected[i], actual[i], sub)
        return out
    same = expected == actual and type(expected) is type(actual) or (
        isinstance(expected, (int, float)) and isinstance(actual, (int, float))
        and not isinstance(expected, bool) and not isinstance(actual, bool) and expected == actual)
    return [] if same else [StateChange(path or "(state)", expected, actual)]


class ObjectStateVerifier:
    """Scores an episode by its end state: 1 when the agent's objects equal the reference's."""

    privileged = True  # it reads the reference end state
    source = "object_state"

    def __init__(self, expected: Any, ignore: Iterable[str] = ()):
        self.expected = public_state(expected)
        self.ignore = tuple(ignore)  # path prefixes that may differ (ids, timestamps)

    def changes(self, actual_objects: Any) -> list[StateChange]:
        found = diff_states(self.expected, public_state(actual_objects))
        return [c for c in found if not any(c.path == p or c.path.startswith((p + ".", p + "["))
                                            for p in self.ignore)]

    def score_episode(self, actual_objects: Any, limit: int = 10) -> Reward:
        changes = self.changes(actual_objects)
        if not changes:
            return Reward(value=1.0, components={"state": 1.0}, explanation="the end state matches",
                          source=self.source)
        shown = "; ".join(c.describe() for c in changes[:limit])
        more = f" and {len(changes) - limit} more" if len(changes) > limit else ""
        return Reward(value=0.0, components={"state": 0.0, "differences": float(len(changes))},
                      explanation=f"{len(changes)} difference(s) from the reference end state: {shown}{more}",
                      source=self.source)


def results_check(reference_results: Iterable[Any], agent_results: Iterable[Any]) -> Reward:
    """1 when every result of the reference's calls appears among the agent's call results (as
    plain data, in any order, each agent result used once)."""
    pool = [_canonical(r) for r in agent_results]
    missing = []
    for result in reference_results:
        key = _canonical(result)
        if key in pool:
            pool.remove(key)
        else:
            missing.append(result)
    if not missing:
        return Reward(value=1.0, components={"results": 1.0}, explanation="every reference result was obtained",
                      source="results_check")
    shown = "; ".join(_short(m) for m in missing[:5])
    return Reward(value=0.0, components={"results": 0.0, "missing": float(len(missing))},
                  explanation=f"{len(missing)} reference result(s) not obtained: {shown}", source="results_check")


def _canonical(value: Any) -> str:
    return json.dumps(public_state(value), sort_keys=True, default=repr)


def _short(value: Any, width: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
