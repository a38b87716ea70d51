"""A tiny project of our own (written into the cache, not collected by pytest) and a task on it."""

from __future__ import annotations

import shutil
from pathlib import Path

from agentgym.core.paths import cache_dir
from agentgym.core.types import Action, ToolCall
from agentgym.environments.swe.diffs import make_patch
from agentgym.environments.swe.schema import EnvironmentSpec, SWEData, SWETask, parse_task

LIBRARY = '''\
"""Small numeric helpers."""


def clamp(value, low, high):
    """Limit value to [low, high]."""
    if value < low:
        return low
    if value > high:
        return high
    return value


def mean(values):
    if not values:
        raise ValueError("mean of nothing")
    return sum(values) / len(values)


def is_even(n):
    return n % 2 == 0


def join_words(words, sep=" "):
    return sep.join(w.strip() for w in words if w.strip())


def in_range(value, low, high):
    return low <= value and value <= high


def total(values):
    result = 0
    for value in values:
        result += value
    return result
'''

TESTS = '''\
import pytest

from minicalc import clamp, in_range, is_even, join_words, mean, total


def test_clamp_low():
    assert clamp(-5, 0, 10) == 0


def test_clamp_high():
    assert clamp(50, 0, 10) == 10


def test_clamp_inside():
    assert clamp(5, 0, 10) == 5


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_mean_empty():
    with pytest.raises(ValueError):
        mean([])


@pytest.mark.parametrize("n, even", [(0, True), (3, False), (10, True)])
def test_is_even(n, even):
    assert is_even(n) is even


def test_join_words():
    assert join_words([" a", "b ", " "]) == "a b"


def test_in_range():
    assert in_range(3, 1, 5) and not in_range(7, 1, 5) and not in_range(0, 1, 5)


def test_total():
    assert total([1, 2, 3]) == 6
'''

BUGGY = LIBRARY.replace("    if value > high:\n        return high", "    if value > high:\n        return low")
F2P = ["tests/test_minicalc.py::test_clamp_high"]
P2P = [
    "tests/test_minicalc.py::test_clamp_low", "tests/test_minicalc.py::test_clamp_inside",
    "tests/test_minicalc.py::test_mean", "tests/test_minicalc.py::test_mean_empty",
    "tests/test_minicalc.py::test_is_even[0-True]", "tests/test_minicalc.py::test_is_even[3-False]",
    "tests/test_minicalc.py::test_is_even[10-True]", "tests/test_minicalc.py::test_join_words",
    "tests/test_minicalc.py::test_in_range", "tests/test_minicalc.py::test_total",
]


def sample_project() -> Path:
    """The project's directory, at a fixed place so its built environment is reused."""
    root = cache_dir() / "swe" / "test-projects" / "minicalc"
    files = {"minicalc/__init__.py": LIBRARY, "tests/test_minicalc.py": TESTS, "setup.cfg": "[metadata]\nname = minicalc\n"}
    if any((root / rel).read_text() != text if (root / rel).exists() else True for rel, text in files.items()):
        shutil.rmtree(root, ignore_errors=True)
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
    return root


def sample_task(**changes) -> SWETask:
    """A task whose base state has a bug in `clamp`; `changes` override SWE-bench fields."""
    fields = dict(
        instance_id="minicalc-clamp", repo="local/minicalc", base_commit="local",
        problem_statement="clamp(50, 0, 10) returns 0; it should return 10.",
        patch=make_patch("minicalc/__init__.py", BUGGY, LIBRARY),
        base_patch=make_patch("minicalc/__init__.py", LIBRARY, BUGGY),
        FAIL_TO_PASS=list(F2P), PASS_TO_PASS=list(P2P),
        environment=EnvironmentSpec(local_dir=str(sample_project())).model_dump(exclude_defaults=True),
    )
    fields.update(changes)
    return parse_task(fields)


def call(name: str, **arguments) -> Action:
    return Action(tool_calls=[ToolCall(id=f"c_{name}", name=name, arguments=arguments)])


def edit(command: str, path: str, **arguments) -> Action:
    return call("str_replace_editor", command=command, path=path, **arguments)


__all__ = ["sample_project", "sample_task", "call", "edit", "SWEData", "LIBRARY", "BUGGY", "TESTS", "F2P", "P2P"]
