"""Every shipped task: the reference scores 1 and an empty submission scores 0 (in real sandboxes);
bad tasks fail with an error naming the task and the step."""

import asyncio
import json

import pytest
from typer.testing import CliRunner

from agentgym.environments.swe.build import TaskSetupError
from agentgym.environments.swe.check import check_task, check_tasks
from agentgym.environments.swe.cli import tasks_app
from agentgym.environments.swe.diffs import make_patch
from agentgym.environments.swe.schema import dump_tasks, load_tasks
from tests.environments.swe.helpers import BUGGY, LIBRARY, sample_task
from tests.sweep import FULL_SWEEP

pytestmark = pytest.mark.bwrap


def one_per_project():
    seen = {}
    for task in load_tasks():
        if not task.data.test_patch:  # hidden-test tasks: test_hidden.py
            seen.setdefault(task.data.environment.pypi_sdist, task)
    return list(seen.values())


async def test_sample_of_shipped_tasks_oracle_one_empty_zero():
    tasks = one_per_project()
    assert len(tasks) >= 4
    assert await check_tasks(tasks, concurrency=2) == []


@pytest.mark.slow
@pytest.mark.skipif(not FULL_SWEEP, reason="every shipped SWE task: AGENTGYM_FULL_SWEEP=1 (make test-full)")
async def test_every_shipped_task_oracle_one_empty_zero():
    problems = await check_tasks(load_tasks(), concurrency=3)
    assert problems == []


async def test_environment_that_fails_to_build():
    task = sample_task(environment={"local_dir": "/nonexistent/project"})
    with pytest.raises(TaskSetupError, match=r"^minicalc-clamp: step 'fetch source' failed: .*not a directory"):
        await check_task(task)


async def test_patch_that_does_not_apply():
    task = sample_task(patch=make_patch("minicalc/__init__.py", "x = 1\n", "x = 2\n"))
    with pytest.raises(TaskSetupError, match=r"^minicalc-clamp: step 'apply patch' failed: .*hunk 1"):
        await check_task(task)


async def test_tests_that_fail_whatever_the_fix():
    two_bugs = BUGGY.replace("return n % 2 == 0", "return n % 2 == 1")
    task = sample_task(base_patch=make_patch("minicalc/__init__.py", LIBRARY, two_bugs),
                       patch=make_patch("minicalc/__init__.py", two_bugs, two_bugs.replace("return low\n    return value", "return high\n    return value")))
    with pytest.raises(TaskSetupError) as err:
        await check_task(task)
    message = str(err.value)
    assert message.startswith("minicalc-clamp: step 'run tests with the reference patch' failed")
    assert "test_is_even[3-False]" in message


async def test_bug_that_the_tests_do_not_catch():
    task = sample_task(base_patch="", patch=make_patch("minicalc/__init__.py", LIBRARY, "# tidy\n" + LIBRARY))
    with pytest.raises(TaskSetupError, match=r"^minicalc-clamp: step 'score an empty submission' failed"):
        await check_task(task)


def test_cli_validate_run_names_the_failing_task(tmp_path):
    good = sample_task()
    bad = sample_task(instance_id="minicalc-broken", patch=make_patch("minicalc/__init__.py", "x = 1\n", "x = 2\n"))
    path = tmp_path / "mixed.jsonl"
    path.write_text(dump_tasks([good, bad]))
    result = CliRunner().invoke(tasks_app, ["validate", str(path), "--run"])
    assert result.exit_code == 1
    assert "ok minicalc-clamp" in result.output
    assert "minicalc-broken: step 'apply patch' failed" in result.output
    assert json.loads(path.read_text().splitlines()[0])["instance_id"] == "minicalc-clamp"
    assert asyncio.iscoroutinefunction(check_task)


@pytest.mark.docker
def test_cli_validate_runs_on_the_docker_backend_and_refuses_unknown_ones(tmp_path):
    from tests.sandbox.conftest import docker_reason, need

    path = tmp_path / "one.jsonl"
    path.write_text(dump_tasks([sample_task()]))
    result = CliRunner().invoke(tasks_app, ["validate", str(path), "--run", "--backend", "podman"])
    assert result.exit_code == 2 and "use one of bwrap, docker" in result.output
    need(docker_reason() is None, docker_reason() or "")
    result = CliRunner().invoke(tasks_app, ["validate", str(path), "--run", "--backend", "docker"])
    assert result.exit_code == 0, result.output
    assert "ok minicalc-clamp" in result.output
