"""Episodes of the real tool-use env for verifier tests, made by real policies."""

from __future__ import annotations

import pytest

import agentgym
from agentgym.core.types import Action, Episode, Task
from agentgym.policies import load_policy
from agentgym.policies._episode import turn_index
from agentgym.rollout.runner import run_episode


def _register_counter30() -> None:
    from agentgym.core.errors import RegistrationError
    from tests.core.counter_env import CounterEnv, counter_tasks
    from tests.verifiers.counter_episodes import ENV_ID

    try:
        agentgym.register(ENV_ID, lambda **kw: CounterEnv(counter_tasks(30), **kw),
                          description="counter env with 30 targets (verifier tests)")
    except RegistrationError:
        pass


_register_counter30()


class ClosingWith:
    """Plays a task's reference solution but ends with its own final message (`closing`)."""

    def __init__(self, closing: str, task: Task):
        # given the reference on purpose: it stands for an agent that did the work (or some of
        # it) and then tries to talk the judge into a higher score
        self.closing, self.name, self.reference = closing, "closing-with", list(task.reference or [])

    def act(self, observation, tools) -> Action:
        turn = turn_index(observation)
        if turn < len(self.reference) - 1:
            return self.reference[turn]
        return Action(content=self.closing)


async def play(policy, task_id: str, env_id: str = "tooluse/Retail-v0", **kwargs) -> Episode:
    env = agentgym.make_async(env_id, **kwargs)
    try:
        return await run_episode(env, policy, task_id)
    finally:
        await env.close()


@pytest.fixture(scope="session")
def retail_tasks() -> dict[str, Task]:
    env = agentgym.make_async("tooluse/Retail-v0")
    return dict(env.tasks)


@pytest.fixture
async def oracle_episode(retail_tasks) -> Episode:
    return await play(load_policy("oracle"), sorted(retail_tasks)[0])
