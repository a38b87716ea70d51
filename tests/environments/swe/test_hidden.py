"""Hidden tests: `test_patch` goes on the base state, and hidden tests never reach the agent."""

import json

import pytest

from agentgym.environments.swe.check import check_task, run_episode
from agentgym.environments.swe.env import SWEEnv
from agentgym.environments.swe.hidden import without_tests
from agentgym.environments.swe.schema import load_tasks, reference_actions
from tests.environments.swe.helpers import TESTS, call, sample_task

pytestmark = pytest.mark.bwrap

TEST_FILE = "tests/test_minicalc.py"
FUTURE_TESTS = "from __future__ import annotations\n\n" + TESTS


def whole_file(sign: str, text: str) -> str:
    lines = text.splitlines(keepends=True)
    header = f"@@ -1,{len(lines)} +0,0 @@\n" if sign == "-" else f"@@ -0,0 +1,{len(lines)} @@\n"
    return header + "".join(sign + line for line in lines)


def task_with_test_file_hidden():
    """base_patch deletes the test file; test_patch brings it back, starting with `from __future__`."""
    task = sample_task()
    delete = f"--- a/{TEST_FILE}\n+++ /dev/null\n" + whole_file("-", TESTS)
    add = f"--- /dev/null\n+++ b/{TEST_FILE}\n" + whole_file("+", FUTURE_TESTS)
    return sample_task(instance_id="minicalc-hidden-file", base_patch=task.data.base_patch + delete, test_patch=add)


async def test_test_patch_is_applied_to_the_base_state():
    task = task_with_test_file_hidden()
    oracle = await run_episode(task, reference_actions(task)[:-1])
    assert oracle.value == 1.0, oracle.explanation
    empty = await run_episode(task, [])
    assert empty.value == 0.0 and "FAIL_TO_PASS 0/1 pass" in empty.explanation


def shipped_hidden_tasks():
    return [t for t in load_tasks() if t.data.test_patch]


def hidden_test_names(task) -> set[str]:
    return {t.split("::")[-1].split("[")[0] for t in task.data.FAIL_TO_PASS}


def test_shipped_hidden_tasks_cover_every_project():
    tasks = shipped_hidden_tasks()
    assert len(tasks) >= 8
    assert {t.data.environment.pypi_sdist for t in tasks} == {
        t.data.environment.pypi_sdist for t in load_tasks()}
    for task in tasks:
        for name in hidden_test_names(task):
            assert f"def {name}(" not in task.prompt and f"def {name}(" in task.data.test_patch


@pytest.mark.parametrize("index", [0, 1])
async def test_hidden_tests_never_enter_the_agents_sandbox(index):
    task = shipped_hidden_tasks()[index * 4]  # two projects
    env = SWEEnv([task])
    try:
        obs, _ = await env.reset()
        names = hidden_test_names(task)
        pattern = "|".join(f"def {n}\\(" for n in names)
        found = await env.step(call("bash", command=f"grep -rEn '{pattern}' / --include=*.py 2>/dev/null; "
                                                    "ls /tmp; echo done"))
        text = found.observation.messages[-1].content
        shown = json.dumps([m.model_dump() for m in obs.messages])
    finally:
        await env.close()
    assert "done" in text and not any(f"def {n}(" in text for n in names)
    assert not any(f"def {n}(" in shown for n in names)
    await check_task(task)  # the reference scores 1 and an empty submission 0


def test_without_tests_keeps_the_rest_of_the_file():
    stripped = without_tests(TESTS, {"test_clamp_high", "test_is_even"})
    assert "def test_clamp_high" not in stripped and "@pytest.mark.parametrize" not in stripped
    assert "def test_clamp_low" in stripped and "def test_total" in stripped
    assert without_tests(TESTS, {"test_nowhere"}) is None
