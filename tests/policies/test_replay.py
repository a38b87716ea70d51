"""ReplayPolicy: reads a JSONL file written from Episode models and acts the recorded actions."""

from __future__ import annotations

import pytest

from agentgym.core.errors import UserInputError
from agentgym.core.types import Action, Episode, Message, Observation, Step, Task, TokenUsage
from agentgym.policies import act, begin, load_policy
from agentgym.policies.replay import CLOSING_MESSAGE
from tests.core.counter_env import CounterEnv


def add(n: int) -> Action:
    return Action(
        tool_calls=[{"id": f"c{n}", "name": "add", "arguments": {"n": n}}],
        usage=TokenUsage(prompt_tokens=10, completion_tokens=5),
    )


def episode(task_id: str, sample: int, actions: list[Action]) -> Episode:
    steps = [Step(index=i, observation=[], action=a) for i, a in enumerate(actions)]
    return Episode(
        env_id="test/Counter-v0", task_id=task_id, sample=sample, policy="recorded", steps=steps
    )


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / "episodes.jsonl"
    episodes = [
        episode("reach-3", 0, [add(1), add(1), Action(content="done")]),
        episode("reach-3", 1, [add(3), Action(content="done")]),
        episode("reach-5", 0, [add(2), Action(content="done")]),
    ]
    path.write_text("".join(e.model_dump_json() + "\n" for e in episodes))
    return path


async def replay_in_env(policy, task_id: str, sample: int) -> tuple[int, list[Action]]:
    env = CounterEnv()
    obs, _ = await env.reset(options={"task_id": task_id})
    await begin(policy, env.task, None, sample)
    actions = []
    while not env.done:
        action = await act(policy, obs, env.tools)
        actions.append(action)
        obs = (await env.step(action)).observation
    return env.state["value"], actions


async def test_replays_the_episode_for_task_and_sample(recording):
    policy = load_policy(f"replay:{recording}")
    value, actions = await replay_in_env(policy, "reach-3", 0)
    assert value == 2
    assert [a.tool_calls[0].arguments for a in actions[:2]] == [{"n": 1}, {"n": 1}]
    assert actions[-1].content == "done"
    assert all(a.usage is None for a in actions)  # tokens were spent by the recorded run
    value, _ = await replay_in_env(policy, "reach-3", 1)
    assert value == 3


async def test_falls_back_to_the_first_episode_of_the_task(recording):
    value, _ = await replay_in_env(load_policy(f"replay:{recording}"), "reach-5", 4)
    assert value == 2


async def test_closes_with_a_message_when_the_recording_runs_out(recording):
    policy = load_policy(f"replay:{recording}")
    await begin(policy, Task(id="reach-5", family="test", prompt="p"), None, 0)
    obs = Observation(messages=[Message(role="assistant", content="x")] * 2)
    assert (await act(policy, obs, [])).content == CLOSING_MESSAGE


async def test_missing_task_is_a_clear_error(recording):
    policy = load_policy(f"replay:{recording}")
    with pytest.raises(
        UserInputError,
        match=r"no recorded episode for task 'reach-9' \(it has 3 episodes, for tasks: reach-3, reach-5\)",
    ):
        await begin(policy, Task(id="reach-9", family="test", prompt="p"), None, 0)
