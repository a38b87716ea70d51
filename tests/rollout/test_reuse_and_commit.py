"""run_many reuses an env once an episode in it ended cleanly, never one that raised; the store
commits episodes that end together in one fsync, off the event loop, each durable when awaited."""

from __future__ import annotations

import asyncio

import pytest

from agentgym.core.errors import SandboxError
from agentgym.core.types import Episode, Reward
from agentgym.rollout import EpisodeStore, Job, run_many
from tests.core.counter_env import CounterEnv
from tests.rollout.test_runner import AddThenStop


class CountedEnv(CounterEnv):
    """Remembers every env ever built and the tasks each one was reset to."""

    built: list[CountedEnv] = []

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.env_id = "test/Counter-v0"
        self.resets: list[str] = []
        CountedEnv.built.append(self)

    async def _reset(self, task, seed):
        self.resets.append(task.id)
        return await super()._reset(task, seed)


@pytest.fixture
def built():
    CountedEnv.built = []
    return CountedEnv.built


async def test_envs_are_reused_across_episodes_and_closed_once_at_the_end(built):
    jobs = [Job(f"reach-{t}", s) for t in range(1, 6) for s in range(4)]
    episodes = await run_many(CountedEnv, AddThenStop(), jobs, concurrency=3)
    assert len(episodes) == 20 and all(e.success for e in episodes)
    assert len(built) <= 3  # at most one env per concurrent episode
    assert sum(len(env.resets) for env in built) == 20
    assert all(env.closed == 1 for env in built)


async def test_an_env_whose_episode_raised_is_closed_and_never_reused(built):
    class FailsOnce(AddThenStop):
        name = "fails-once"
        failed = [False]

        def act(self, observation, tools):
            if "reach 3" in observation.messages[1].content and not self.failed[0]:
                self.failed[0] = True
                raise SandboxError("the sandbox died")
            return super().act(observation, tools)

    jobs = [Job(f"reach-{t}") for t in range(1, 6)]
    episodes = await run_many(CountedEnv, FailsOnce(), jobs, concurrency=1, retries=1)
    assert all(e.success for e in episodes)  # reach-3 succeeded on its retry
    first, second = built  # one at a time: the failure retired the first env
    assert first.resets == ["reach-1", "reach-2", "reach-3"]  # nothing ran in it afterwards
    assert second.resets == ["reach-3", "reach-4", "reach-5"]
    assert first.closed == 1 and second.closed == 1


def _episode(task: str, sample: int = 0) -> Episode:
    return Episode(env_id="test/Counter-v0", task_id=task, sample=sample, policy="p",
                   outcome=Reward(value=1.0))


async def test_concurrent_writes_are_each_on_disk_when_awaited(tmp_path):
    store = EpisodeStore(tmp_path / "e.jsonl")

    async def write(i: int) -> int:
        await store.write(_episode(f"t{i}"))
        lines = (tmp_path / "e.jsonl").read_text().splitlines()
        return sum(1 for line in lines if f'"task_id":"t{i}"' in line)

    assert await asyncio.gather(*(write(i) for i in range(50))) == [1] * 50
    assert sorted(e.task_id for e in store.load(strict=True)) == sorted(f"t{i}" for i in range(50))


async def test_a_write_that_fails_reaches_every_waiter(tmp_path):
    store = EpisodeStore(tmp_path / "missing-dir" / "e.jsonl")
    results = await asyncio.gather(*(store.write(_episode(f"t{i}")) for i in range(3)),
                                   return_exceptions=True)
    assert all(isinstance(r, FileNotFoundError) for r in results)
