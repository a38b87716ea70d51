"""Policies, envs and verifiers for the tests of extra verifiers (imported by spec, too)."""

from __future__ import annotations

import json
import re

import agentgym
from agentgym.core.errors import RegistrationError
from agentgym.core.types import Action, Episode, Reward, Task
from agentgym.verifiers import Verifier
from tests.core.counter_env import CounterEnv, counter_tasks

JUDGED_ENV = "test/CounterJudged-v0"
#: what the counter tasks of JUDGED_ENV name as their verifier: the judge, over the fake server
#: (OPENAI_BASE_URL), with the generic rubric, no retries and no on-disk cache
TASK_JUDGE = {
    "name": "judge",
    "policy": "openai:fake-model",
    "rubric": "generic",
    "retries": 0,
    "cache": False,
    "policy_options": {"max_retries": 0},
}


def judged_tasks() -> list[Task]:
    return [t.model_copy(update={"verifier": dict(TASK_JUDGE)}) for t in counter_tasks(3)]


try:
    agentgym.register(
        JUDGED_ENV,
        lambda **kw: CounterEnv(judged_tasks(), **kw),
        description="counter tasks that name a judge as their verifier",
    )
except RegistrationError:
    pass


class EvenOnly:
    """Reaches even targets; for an odd one it stops one short (so a run has both classes)."""

    name = "even-only"

    def act(self, observation, tools):
        last = observation.messages[-1]
        if last.role == "tool":
            return Action(content="done")
        target = int(re.search(r"reach (\d+)", last.content).group(1))
        n = target if target % 2 == 0 else target - 1
        return Action(tool_calls=[{"id": "c0", "name": "add", "arguments": {"n": n}}])


class Boom(Verifier):
    """A verifier with a bug: it raises something that is not a VerifierError."""

    name = "boom"
    privileged = False

    async def score_episode(self, episode: Episode, task: Task, env=None) -> Reward:
        raise KeyError("missing field")


class Peeks(Verifier):
    """Scores 1 and remembers what it was shown (the episode, the task, whether the env was live)."""

    name = "peeks"
    privileged = False

    def __init__(self):
        self.seen: list[tuple[Episode, Task, bool]] = []

    async def score_episode(self, episode: Episode, task: Task, env=None) -> Reward:
        self.seen.append((episode, task, env is not None and env.task is not None))
        return Reward(value=1.0, explanation="looked")


def verdict(score: float) -> str:
    return json.dumps({"score": score, "reasons": ["because"]})
