import pytest

from agentgym.core.errors import EndpointError
from agentgym.core.types import Action
from agentgym.evaluation.metrics import summarize
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


async def test_policy_bug_is_an_error_with_its_traceback_not_retried():
    class Buggy:
        name = "buggy"
        calls = [0]

        def act(self, observation, tools):
            self.calls[0] += 1
            raise ZeroDivisionError("oops")

    policy = Buggy()
    episode = await run_with_retries(make_env, policy, Job("reach-1"), retries=3)
    assert episode.status == "error" and "ZeroDivisionError: oops" in episode.error
    assert policy.calls == [1] and not episode.success and episode.counted


async def test_a_policy_that_crashes_on_hard_tasks_does_not_score_higher():
    """Crashing on the tasks it would fail must not lift the success rate (it did when a crash
    was an infra error, left out of the metrics)."""

    class CrashesOnHard(AddThenStop):
        name = "crashes-on-hard"

        def act(self, observation, tools):
            if "reach 5" in (observation.messages[1].content or ""):
                raise RuntimeError("I give up")
            return super().act(observation, tools)

    class FailsOnHard(AddThenStop):
        name = "fails-on-hard"

        def act(self, observation, tools):
            if "reach 5" in (observation.messages[1].content or ""):
                return "I cannot."
            return super().act(observation, tools)

    jobs = [Job(f"reach-{t}") for t in range(1, 6)]
    crashing = summarize(await run_many(make_env, CrashesOnHard(), jobs), k=1)
    failing = summarize(await run_many(make_env, FailsOnHard(), jobs), k=1)
    assert crashing["success_rate"] == failing["success_rate"] == 0.8
    assert crashing["n_errors"] == 1 and crashing["n_infra_errors"] == 0
    assert crashing["n_episodes"] == 5 and failing["n_errors"] == 0


async def test_a_refused_request_is_not_retried(openai_env):
    """HTTP 404 (unknown model) gets the same answer every time: one request, then infra_error."""
    from agentgym.policies import load_policy
    from tests.fakes.openai_server import error

    openai_env.responder = lambda request: error(404, "model not found")
    policy = load_policy("openai:missing-model")
    episode = await run_with_retries(make_env, policy, Job("reach-1"), retries=3)
    assert episode.status == "infra_error" and "model not found" in episode.error
    assert len(openai_env.requests) == 1


class _HoardingEnv(CounterEnv):
    """Keeps the argument lists it was given and appends to them later (a realistic env bug)."""

    async def _step(self, action):
        for kept in self.state.get("kept", []):  # arguments of earlier steps
            kept.setdefault("tags", []).append("touched")
        result = await super()._step(action)
        for call in action.tool_calls:
            self.state.setdefault("kept", []).append(call.arguments)
        return result


async def test_the_env_cannot_rewrite_the_recorded_actions_or_the_history():
    class AddsTwice:
        name = "adds-twice"

        def act(self, observation, tools):
            n_calls = sum(len(m.tool_calls) for m in observation.messages)
            if n_calls < 2:
                return Action(tool_calls=[{"id": f"c{n_calls}", "name": "add", "arguments": {"n": 1}}])
            return "done"

    env = _HoardingEnv()
    env.env_id = "test/Counter-v0"
    episode = await run_episode(env, AddsTwice(), "reach-2")
    assert episode.success
    recorded = [c.arguments for s in episode.steps for c in s.action.tool_calls]
    assert recorded == [{"n": 1}, {"n": 1}]  # as the policy sent them
    shown = [c.arguments for m in env.messages for c in m.tool_calls]
    assert shown == [{"n": 1}, {"n": 1}]  # and as the agent is shown them
    assert "tags" in env.state["kept"][0]  # the env did change its own copy


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
            target = int(self.task.prompt.split()[-1].rstrip("."))
            if observation.messages[-1].role == "user":
                return Action(tool_calls=[{"id": "c", "name": "add", "arguments": {"n": target}}])
            return "done"

    jobs = [Job(f"reach-{t}") for t in range(1, 6)]
    episodes = await run_many(make_env, Remembers(), jobs, concurrency=5)
    assert all(e.success for e in episodes)


async def test_only_the_oracle_sees_hidden_task_data():
    from agentgym.policies import load_policy

    seen = {}

    class Curious:
        name = "curious"

        def begin(self, task, seed, sample):
            seen["task"] = task

        def act(self, observation, tools):
            return "done"

    await run_episode(make_env(), Curious(), "reach-3")
    task = seen["task"]
    assert task.id == "reach-3" and task.prompt == "Make the counter reach 3."
    assert task.data == {} and task.reference is None and task.verifier == {}

    oracle = load_policy("oracle")
    episode = await run_episode(make_env(), oracle, "reach-3")
    assert episode.success  # the oracle acts out task.reference, which it alone receives
