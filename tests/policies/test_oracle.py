"""OraclePolicy: replays a task's reference (or the env's own solver) in a real env."""

from __future__ import annotations

import asyncio

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


class _SolvedCounter(CounterEnv):
    """A plugin-style env whose oracle is its own solver, not a fixed action list."""

    def reference_solver(self, task):
        if task.id == "reach-2":
            return None  # falls back to task.reference

        class CountingSolver:
            async def act(self, observation, tools):
                n_calls = sum(len(m.tool_calls) for m in observation.messages)
                if n_calls:
                    return "done"
                return {"tool_calls": [{"id": "x", "function": {"name": "add", "arguments": {"n": 1}}}] * int(task.id[-1])}

        return CountingSolver()


async def test_the_oracle_uses_the_envs_own_solver_through_the_runner():
    from agentgym.rollout import run_episode as run

    env = _SolvedCounter()
    env.env_id = "test/Solved-v0"
    oracle = load_policy("oracle")
    episode = await run(env, oracle, "reach-3")
    assert episode.success and len(episode.steps[0].action.tool_calls) == 3  # the solver acted
    episode = await run(_SolvedCounter(), oracle, "reach-2")
    assert episode.success and episode.steps[0].action.tool_calls[0].arguments == {"n": 2}  # reference


async def test_a_task_without_a_reference_is_a_clear_error():
    with pytest.raises(UserInputError, match="task 'bare' has no reference solution"):
        await begin(load_policy("oracle"), Task(id="bare", family="test", prompt="p"), None, 0)


async def test_act_before_begin_is_a_clear_error():
    obs = Observation(messages=[Message(role="user", content="p")])
    with pytest.raises(UserInputError, match=r"needs begin\(task, seed, sample\) before act"):
        await act(load_policy("oracle"), obs, [])
