import pytest

from agentgym.core.errors import EndpointError
from agentgym.core.types import Action
from agentgym.rollout import EpisodeStore, Job, run_episode, run_many, run_with_retries
from tests.core.counter_env import CounterEnv


class AddThenStop:
    """Adds the target found in the prompt, then says it is done."""

    name = "add-then-stop"

    def act(self, observation, tools):
        if observation.messages[-1].role == "user":
            target = int(observation.messages[-1].content.split()[-1].rstrip("."))
            return Action(tool_calls=[{"id": "c", "name": "add", "arguments": {"n": target}}])
        return "done"


class Flaky:
    """Fails like a dead endpoint a given number of times, then behaves."""

    name = "flaky"

    def __init__(self, failures):
        self.failures = [failures]  # shared by the per-episode shallow copies, like a real server

    async def act(self, observation, tools):
        if self.failures[0]:
            self.failures[0] -= 1
            raise EndpointError("503 from the server")
        return "done"


def make_env():
    env = CounterEnv()
    env.env_id = "test/Counter-v0"
    return env


async def test_episode_records_steps_rewards_and_outcome():
    episode = await run_episode(make_env(), AddThenStop(), "reach-3", seed=5)
    assert episode.status == "ok" and episode.success and episode.seed == 5
    first, last = episode.steps
    assert [m.role for m in first.observation] == ["system", "user"]
    assert first.tool_results[0].content == "counter is now 3"
    assert first.reward == pytest.approx(1.0) and first.reward_components["progress"] == 1.0
    assert [m.role for m in last.observation] == ["assistant", "tool"]
    assert episode.versions.agentgym and episode.versions.python
    assert first.latency_s >= 0 and first.env_latency_s >= 0


async def test_truncated_episode_is_marked():
    episode = await run_episode(make_env(), _Adder1(), "reach-5", max_steps=3)
    assert episode.status == "truncated" and len(episode.steps) == 3 and episode.reward == 0.0


class _Adder1:
    name = "adder1"

    def act(self, observation, tools):
        return {"role": "assistant", "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "add", "arguments": '{"n": 1}'}}]}


async def test_infra_errors_are_retried_then_recorded_not_scored():
    policy = Flaky(failures=1)
    episode = await run_with_retries(make_env, policy, Job("reach-1"), retries=2)
    assert episode.status == "ok"  # one failure, then a clean retry in a fresh env
    episode = await run_with_retries(make_env, Flaky(failures=10), Job("reach-1"), retries=2)
    assert episode.status == "infra_error" and "503 from the server" in episode.error
    assert episode.outcome is None and not episode.success


async def test_a_dying_sandbox_is_an_infra_error_and_env_is_closed():
    envs = []

    def factory():
        env = CounterEnv(crash_on_step=0)
        env.env_id = "test/Counter-v0"
        envs.append(env)
        return env

    episode = await run_with_retries(factory, AddThenStop(), Job("reach-2"), retries=1)
    assert episode.status == "infra_error" and "SandboxError: the sandbox died" in episode.error
    assert len(envs) == 2 and all(e.closed == 1 for e in envs)


async def test_policy_bug_is_recorded_with_its_traceback():
    class Buggy:
        name = "buggy"

        def act(self, observation, tools):
            raise ZeroDivisionError("oops")

    episode = await run_with_retries(make_env, Buggy(), Job("reach-1"))
    assert episode.status == "infra_error" and "ZeroDivisionError: oops" in episode.error


async def test_many_episodes_concurrently_each_stored_as_it_ends(tmp_path):
    store = EpisodeStore(tmp_path / "episodes.jsonl")
    jobs = [Job(f"reach-{t}", s, seed=s) for t in range(1, 6) for s in range(3)]
    episodes = await run_many(make_env, AddThenStop(), jobs, concurrency=4, store=store)
    assert len(episodes) == 15 and all(e.success for e in episodes)
    assert {(e.task_id, e.sample) for e in store.load()} == {(j.task_id, j.sample) for j in jobs}


async def test_begin_hook_state_is_per_episode():
    class Remembers:
        name = "remembers"
        task = None

        def begin(self, task, seed, sample):
            self.task = task

        def act(self, observation, tools):
            target = self.task.data["target"]
            if observation.messages[-1].role == "user":
                return Action(tool_calls=[{"id": "c", "name": "add", "arguments": {"n": target}}])
            return "done"

    jobs = [Job(f"reach-{t}") for t in range(1, 6)]
    episodes = await run_many(make_env, Remembers(), jobs, concurrency=5)
    assert all(e.success for e in episodes)
