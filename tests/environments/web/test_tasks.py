"""The web task schema and loader: good files load, every bad input names its line and field."""

from __future__ import annotations

import json

import pytest

from agentgym.core.errors import TaskFileError
from agentgym.environments.web.tasks import WebTask, dump_tasks, load_tasks, parse_tasks

GOOD = {"id": "t1", "prompt": "Add a lamp", "app": "shop", "final_checks": [{"check": "cart_contains", "args": {}}],
        "solution": [{"tool": "click", "target": {"role": "button", "name": "Add"}}]}


def _line(**changes) -> str:
    return json.dumps({**GOOD, **changes})


def test_a_good_file_loads(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(_line() + "\n\n" + _line(id="t2") + "\n")
    tasks = load_tasks(path)
    assert [t.id for t in tasks] == ["t1", "t2"]
    assert tasks[0].family == "web" and tasks[0].start_url == "/" and tasks[0].difficulty == 1


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "t.jsonl:2: not valid JSON"),
        ("[1, 2]", "t.jsonl:2: a task is a JSON object, not list"),
        (_line(difficulty=4), "t.jsonl:2: field difficulty"),
        (_line(app=None), "t.jsonl:2: field app"),
        (_line(start_url="shop"), "start_url must be a path"),
        (_line(answer_match="fuzzy"), "field answer_match"),
        (_line(solution=[{"tool": "hover"}]), "field solution.0.tool"),
        (_line(solution=[{"tool": "click", "target": {"name": "x"}}]), "target must be"),
        (_line(subgoals=[{"check": "x", "weight": 0}]), "field subgoals.0.weight"),
        (_line(surprise=1), "field surprise"),
        (_line(), "duplicate task id 't1' (first on line 1)"),
    ],
)
def test_bad_lines_name_line_and_field(tmp_path, line, expected):
    path = tmp_path / "t.jsonl"
    path.write_text(_line() + "\n" + line + "\n")
    with pytest.raises(TaskFileError) as info:
        load_tasks(path)
    assert expected in str(info.value)
    assert info.value.line == 2


def test_a_missing_file_is_a_task_file_error(tmp_path):
    with pytest.raises(TaskFileError, match="cannot read"):
        load_tasks(tmp_path / "nope.jsonl")


def test_dump_round_trips():
    tasks = parse_tasks([_line(), _line(id="t2", answer="$3.00")])
    again = parse_tasks(dump_tasks(tasks).splitlines())
    assert again == tasks
    assert isinstance(again[1], WebTask) and again[1].answer == "$3.00"
