"""Checking that tasks are sound: they build, their patches apply, the reference scores 1 and an
empty submission scores 0. Used by `agentgym tasks validate --run` and by the test suite."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from agentgym.core.types import Action, Reward, ToolCall
from agentgym.environments.swe.build import TaskFetchError, TaskSetupError, build_environment
from agentgym.environments.swe.schema import SWETask, reference_actions
from agentgym.environments.swe.verify import SWEVerifier, patched_files


def check_patches(task: SWETask) -> SWEVerifier:
    """Build the environment and apply base_patch, test_patch and patch on the host (no tests run)."""
    built = build_environment(task.data.environment, task.id)
    verifier = SWEVerifier(task, built)
    patched_files(built, task.data.patch, task.id, "apply patch", start=verifier.base_files)
    return verifier


async def run_episode(task: SWETask, actions: list[Action], **env_options: Any) -> Reward:
    """Play `actions` in a fresh SWEEnv on `task`; the outcome reward (submits if they do not)."""
    from agentgym.environments.swe.env import SWEEnv

    env = SWEEnv([task], step_rewards=False, **env_options)
    try:
        await env.reset(options={"task_id": task.id})
        for action in [*actions, Action(tool_calls=[ToolCall(id="end", name="submit")])]:
            result = await env.step(action)
            if "outcome" in result.info:
                return Reward.model_validate(result.info["outcome"])
        raise AssertionError("unreachable: submit ends the episode")
    finally:
        await env.close()


async def check_task(task: SWETask, **env_options: Any) -> None:
    """Raise `TaskSetupError` (naming the task and the step) unless the task is sound."""
    await asyncio.to_thread(check_patches, task)
    oracle = await run_episode(task, reference_actions(task)[:-1], **env_options)
    if oracle.value != 1.0:
        raise TaskSetupError(task.id, "run tests with the reference patch",
                             f"the reference scored {oracle.value}: {oracle.explanation}")
    empty = await run_episode(task, [], **env_options)
    if empty.value != 0.0:
        raise TaskSetupError(task.id, "score an empty submission",
                             f"doing nothing scored {empty.value}: the tests do not catch the bug")


async def check_tasks(tasks: list[SWETask], concurrency: int = 2,
                      log: Callable[[str], None] = lambda _: None, **env_options: Any) -> list[str]:
    """Check every task, `concurrency` at a time; the list of problems (empty when all pass)."""
    gate = asyncio.Semaphore(concurrency)
    problems: list[str] = []

    async def one(task: SWETask) -> None:
        async with gate:
            try:
                await check_task(task, **env_options)
                log(f"ok {task.id}")
            except (TaskSetupError, TaskFetchError) as e:
                problems.append(str(e))
                log(f"FAILED {e}")

    await asyncio.gather(*(one(t) for t in tasks))
    return problems
