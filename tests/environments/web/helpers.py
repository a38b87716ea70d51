"""Helpers for browser tests of the web family (also used by the forum and tracker tests).

    @pytest.mark.browser
    @pytest.mark.asyncio(loop_scope="session")
    async def test_oracle(browser):
        await assert_oracle_solves_all("forum")
"""

from __future__ import annotations

import asyncio
from typing import Any

from agentgym.core.types import Observation
from agentgym.environments.web.app_env import AppEnv
from agentgym.environments.web.tasks import WebTask
from tests.sweep import sweep


def call(name: str, **arguments) -> dict:
    """An assistant message calling one tool."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": name, "arguments": arguments}}
        ],
    }


def element(env: Any, role: str, name: str | None = None) -> int:
    """The id of the first element of the last observation with this role (and name)."""
    return next(
        e["id"]
        for e in env.extras()["elements"]
        if e["role"] == role and (name is None or e["name"] == name)
    )


async def run_reference(env: Any, task: WebTask, max_turns: int = 60) -> tuple[dict, Observation]:
    """Reset `env` to `task` and replay its reference solution; returns (outcome, last observation)."""
    observation, _ = await env.reset(options={"task_id": task.id})
    solver = env.reference_solver(task)
    assert solver is not None, f"{task.id} has no reference solution"
    for _ in range(max_turns):
        result = await env.step(solver.act(observation, env.tools))
        observation = result.observation
        if result.terminated or result.truncated:
            return result.info["outcome"], observation
    raise AssertionError(f"{task.id}: the reference solution did not end within {max_turns} turns")


def transcript(observation: Observation, last: int = 4) -> str:
    return "\n".join(f"[{m.role}] {(m.content or '')[:2000]}" for m in observation.messages[-last:])


async def oracle_outcomes(app: str, workers: int = 4) -> dict[str, tuple[dict, Observation]]:
    """The shipped tasks of `app` (a spread of 12; all with AGENTGYM_FULL_SWEEP=1) replayed by the
    oracle, `workers` episodes at a time."""
    envs = [AppEnv(app) for _ in range(workers)]
    queue: asyncio.Queue[WebTask] = asyncio.Queue()
    for task in sweep(list(envs[0].tasks.values()), 12):
        queue.put_nowait(task)  # type: ignore[arg-type]
    results: dict[str, tuple[dict, Observation]] = {}

    async def work(env: AppEnv) -> None:
        while not queue.empty():
            task = queue.get_nowait()
            results[task.id] = await run_reference(env, task)

    try:
        await asyncio.gather(*(work(env) for env in envs))
    finally:
        for env in envs:
            await env.close()
    return results


async def assert_oracle_solves_all(app: str, workers: int = 4) -> None:
    """The oracle scores 1.0 on the shipped tasks of `app` (see `oracle_outcomes`), in the real browser."""
    outcomes = await oracle_outcomes(app, workers)
    failures = [
        f"{task_id}: {outcome['explanation']}\n{transcript(obs)}"
        for task_id, (outcome, obs) in sorted(outcomes.items())
        if outcome["value"] != 1.0
    ]
    assert outcomes, f"{app} has no tasks"
    assert not failures, f"{len(failures)} of {len(outcomes)} {app} tasks failed:\n" + "\n\n".join(failures)
