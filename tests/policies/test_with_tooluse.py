"""The built-in policies in the real tool-use env (tooluse/Retail-v0, SQLite-backed)."""

from __future__ import annotations

import agentgym
from agentgym.core.types import Episode, Step
from agentgym.policies import act, begin, load_policy

TASKS = 3


async def play(env, policy, task_id: str, sample: int = 0) -> Episode:
    obs, _ = await env.reset(options={"task_id": task_id})
    await begin(policy, env.task, None, sample)
    episode = Episode(
        env_id="tooluse/Retail-v0", task_id=task_id, sample=sample, policy=policy.name
    )
    while not env.done:
        action = await act(policy, obs, env.tools)
        result = await env.step(action)
        new = result.observation.messages[len(obs.messages) :]
        episode.steps.append(
            Step(index=len(episode.steps), observation=[], action=action, tool_results=new)
        )
        obs = result.observation
    episode.outcome = agentgym.Reward.model_validate(result.info["outcome"])
    return episode


async def test_oracle_solves_and_replay_reproduces(tmp_path):
    env = agentgym.make_async("tooluse/Retail-v0")
    task_ids = sorted(env.tasks)[:TASKS]
    recorded = [await play(env, load_policy("oracle"), t) for t in task_ids]
    assert [e.reward for e in recorded] == [1.0] * TASKS
    path = tmp_path / "oracle.jsonl"
    path.write_text("".join(e.model_dump_json() + "\n" for e in recorded))
    replay = load_policy(f"replay:{path}")
    replayed = [await play(env, replay, t) for t in task_ids]
    assert [e.reward for e in replayed] == [1.0] * TASKS
    await env.close()


async def test_random_calls_are_valid_for_the_env_tools():
    env = agentgym.make_async("tooluse/Retail-v0", max_steps=12)
    policy = load_policy("random:0", p_stop=0.05)
    results = []
    for task_id in sorted(env.tasks)[:TASKS]:
        episode = await play(env, policy, task_id)
        results += [
            m.content or "" for s in episode.steps for m in s.tool_results if m.role == "tool"
        ]
    await env.close()
    assert results
    assert not [r for r in results if "invalid arguments" in r]
    assert any(not r.startswith("Error") for r in results)  # some calls hit real records
