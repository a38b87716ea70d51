"""OraclePolicy: replays a task's reference (or the family's solver) in a real env."""

from __future__ import annotations

import asyncio
import sys
import types

import pytest

from agentgym.core.errors import UserInputError
from agentgym.core.types import Action, Message, Observation, Task
from agentgym.policies import act, begin, load_policy
from agentgym.policies.oracle import CLOSING_MESSAGE
from tests.core.counter_env import CounterEnv


async def run_episode(env: CounterEnv, policy, task_id: str) -> tuple[float, list[Action]]:
    obs, _ = await env.reset(options={"task_id": task_id})
    await begin(policy, env.task, None, 0)
    actions = []
    while True:
        action = await act(policy, obs, env.tools)
        actions.append(action)
        result = await env.step(action)
        obs = result.observation
        if result.terminated or result.truncated:
            return result.info["outcome"]["value"], actions


async def test_replays_the_reference_and_solves_the_task():
    env = CounterEnv()
    outcome, actions = await run_episode(env, load_policy("oracle"), "reach-4")
    assert outcome == 1.0
    assert actions == env.tasks["reach-4"].reference


async def test_concurrent_episodes_share_one_oracle():
    oracle = load_policy("oracle")
    results = await asyncio.gather(
        *(run_episode(CounterEnv(), oracle, f"reach-{t}") for t in (1, 2, 3, 4, 5))
    )
    assert [outcome for outcome, _ in results] == [1.0] * 5


async def test_closes_with_a_message_once_the_reference_is_used_up():
    task = Task(id="t", family="test", prompt="p", reference=[Action(content="only step")])
    oracle = load_policy("oracle")
    await begin(oracle, task, None, 0)
    obs = Observation(messages=[Message(role="user", content="p")])
    assert (await act(oracle, obs, [])).content == "only step"
    obs.messages.append(Message(role="assistant", content="only step"))
    assert (await act(oracle, obs, [])).content == CLOSING_MESSAGE


async def test_uses_the_family_reference_solver_when_there_is_one(monkeypatch):
    class CountingSolver:
        def __init__(self, task):
            self.task = task

        async def act(self, observation, tools):
            return f"solving {self.task.id} at {len(observation.messages)} messages"

    family = types.ModuleType("agentgym.environments.scripted_family")
    family.reference_solver = CountingSolver
    monkeypatch.setitem(sys.modules, family.__name__, family)
    oracle = load_policy("oracle")
    await begin(oracle, Task(id="s1", family="scripted_family", prompt="p"), None, 0)
    obs = Observation(messages=[Message(role="user", content="p")])
    assert (await act(oracle, obs, [])).content == "solving s1 at 1 messages"


async def test_a_family_solver_returning_none_falls_back_to_the_reference(monkeypatch):
    family = types.ModuleType("agentgym.environments.lazy_family")
    family.reference_solver = lambda task: None
    monkeypatch.setitem(sys.modules, family.__name__, family)
    task = Task(
        id="l1", family="lazy_family", prompt="p", reference=[Action(content="from reference")]
    )
    oracle = load_policy("oracle")
    await begin(oracle, task, None, 0)
    obs = Observation(messages=[Message(role="user", content="p")])
    assert (await act(oracle, obs, [])).content == "from reference"


async def test_a_task_without_a_reference_is_a_clear_error():
    with pytest.raises(UserInputError, match="task 'bare' has no reference solution"):
        await begin(load_policy("oracle"), Task(id="bare", family="test", prompt="p"), None, 0)


async def test_act_before_begin_is_a_clear_error():
    obs = Observation(messages=[Message(role="user", content="p")])
    with pytest.raises(UserInputError, match=r"needs begin\(task, seed, sample\) before act"):
        await act(load_policy("oracle"), obs, [])
