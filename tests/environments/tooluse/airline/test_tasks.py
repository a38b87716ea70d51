"""The shipped airline tasks, their generator (the difficulty knob) and the loader's errors."""

import json

import pytest

import agentgym
from agentgym.core.errors import TaskFileError
from agentgym.environments.tooluse.airline.requests import KINDS
from agentgym.environments.tooluse.airline.taskgen import (
    DB_SEEDS,
    generate_level,
    generate_tasks,
    main,
)
from agentgym.environments.tooluse.airline.tasks import (
    default_tasks_path,
    dump_tasks,
    load_tasks,
    select_tasks,
)
from agentgym.environments.tooluse.levels import PLANS


def test_shipped_file_is_what_the_generator_makes():
    assert default_tasks_path().read_text(encoding="utf-8") == dump_tasks(generate_tasks())


def test_shipped_tasks_cover_every_kind_and_level():
    tasks = load_tasks()
    scripted = select_tasks(tasks, "scripted")
    assert len(scripted) >= 60
    for seed in DB_SEEDS:
        kinds = {t.data.kinds[0] for t in tasks if t.data.db_seed == seed and t.difficulty == 1}
        assert kinds == set(KINDS), seed
        assert {t.difficulty for t in tasks if t.data.db_seed == seed} == {1, 2, 3, 4, 5}
    for task in tasks:
        assert len(task.data.kinds) == (1 if task.difficulty == 1 else len(PLANS[task.difficulty]))
        assert task.id.startswith("airline-") and not any(k in task.id for k in task.data.kinds)
        assert "date of birth" in task.data.user_facts and task.data.user_facts["date of birth"] not in task.prompt


def test_higher_levels_compose_conditions_and_forbidden_requests():
    tasks = generate_level(5, 6) + generate_level(4, 6)
    assert len(tasks) == 12
    forbidden = {k for k, (_, cats) in KINDS.items() if "forbidden" in cats}
    for task in tasks:
        assert task.prompt.count("If ") >= (2 if task.difficulty == 5 else 1), task.id
        assert forbidden & set(task.data.kinds), task.id
        assert task.data.required_outputs, task.id  # the refusal's reason
    skipped = [t for t in tasks if any(k.endswith("_skipped") for k in t.data.kinds)]
    held = [t for t in tasks if not any(k.endswith("_skipped") for k in t.data.kinds)]
    assert skipped and all(t.data.decoys for t in skipped)  # conditions go both ways
    assert all(not t.data.decoys for t in held)


def test_level_tasks_are_deterministic_and_sized(tmp_path):
    assert dump_tasks(generate_level(3, 4)) == dump_tasks(generate_level(3, 4))
    for level in (1, 2, 3):
        tasks = generate_level(level, 5)
        assert len(tasks) == 5 and {t.difficulty for t in tasks} == {level}
        assert len({t.id for t in tasks}) == 5
    main(["--level", "2", "--count", "3", str(tmp_path / "l2.jsonl")])
    assert [t.difficulty for t in load_tasks(tmp_path / "l2.jsonl")] == [2, 2, 2]
    with pytest.raises(ValueError, match="levels are 1..5"):
        generate_level(6, 1)


def test_env_selects_tasks_by_user_and_difficulty(tmp_path):
    spec = agentgym.spec("tooluse/Airline-v0")
    tasks = load_tasks()
    assert spec.task_count() == len(select_tasks(tasks, "scripted")) < len(tasks)
    assert spec.task_count(user="openai:any-model") == len(tasks)
    assert spec.task_count(difficulty=3) == sum(t.difficulty == 3 for t in select_tasks(tasks, "scripted"))
    env = agentgym.make("tooluse/Airline-v0", difficulty=2)
    assert {t.difficulty for t in env.unwrapped.env.tasks.values()} == {2}
    env.close()
    with pytest.raises(agentgym.core.errors.UserInputError, match="no airline task supports a scripted user at difficulty 9"):
        agentgym.make("tooluse/Airline-v0", difficulty=9)


def good_line() -> dict:
    return json.loads(default_tasks_path().read_text(encoding="utf-8").splitlines()[0])


def test_loader_names_the_line_and_field(tmp_path):
    task = good_line()
    task["data"]["users"] = ["robot"]
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(good_line()) + "\n" + json.dumps(task) + "\n")
    with pytest.raises(TaskFileError, match=r"tasks.jsonl:2: field data.users.0: "):
        load_tasks(path)
    del task["data"]["kinds"]
    task["data"]["users"] = ["scripted"]
    path.write_text(json.dumps(task) + "\n")
    with pytest.raises(TaskFileError, match=r":1: field data.kinds: Field required"):
        load_tasks(path)
    assert agentgym.spec("tooluse/Airline-v0").task_count(tasks=str(path)) == 0  # a bad file counts none
