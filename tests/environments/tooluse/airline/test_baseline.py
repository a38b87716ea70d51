"""The scripted baseline: a real policy through the runner (public task view only), whose success
falls as the level rises (bench/difficulty.py measures it on more tasks)."""

from agentgym.environments.tooluse.airline.baseline import KeywordAgent
from agentgym.environments.tooluse.airline.env import AirlineEnv
from agentgym.environments.tooluse.airline.taskgen import generate_level
from agentgym.rollout.runner import Job, run_many


async def success(level: int, count: int) -> float:
    tasks = generate_level(level, count)
    episodes = await run_many(lambda: AirlineEnv(tasks), KeywordAgent(), [Job(t.id) for t in tasks], concurrency=4)
    assert all(e.status == "ok" for e in episodes)
    return sum(e.success for e in episodes) / len(episodes)


async def test_the_baseline_succeeds_less_as_the_level_rises():
    easy, hard = await success(1, 12), await success(5, 12)
    assert easy >= 0.5 and hard < easy
