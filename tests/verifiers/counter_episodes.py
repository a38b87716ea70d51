"""Episodes of the framework's counter env (tests/core/counter_env.py) from agents of four
habits, for fast PRM tests: some habits succeed, some fail, in ways a trajectory shows or not."""

from __future__ import annotations

import asyncio
import hashlib
import random

from agentgym.core.types import Action, Episode, ToolCall
from agentgym.policies._episode import EpisodeSlot, turn_index
from agentgym.rollout.runner import run_episode
from tests.core.counter_env import CounterEnv, counter_tasks

ENV_ID = "test/Counter30-v0"  # registered in tests/verifiers/conftest.py
HABITS = ("careful", "careful", "overshoot", "reckless", "quitter")


class HabitAgent:
    """careful: adds up to the target then stops (succeeds). overshoot: adds a little too much
    (fails, and looks like careful but for the numbers). reckless: asks for an add the tool
    refuses, then stops (fails). quitter: stops at once (fails)."""

    def __init__(self, seed: int = 0):
        self.seed, self.name = seed, f"habit:{seed}"
        self._plan: EpisodeSlot[list[Action]] = EpisodeSlot(self.name)

    def begin(self, task, seed, sample) -> None:
        digest = hashlib.sha256(f"{self.seed}|{task.id}|{sample}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        target = int(task.prompt.rstrip(".").split()[-1])
        habit = rng.choice(HABITS)
        amounts = {"careful": _chunks(target), "overshoot": _chunks(target + rng.randint(1, 3)),
                   "reckless": [rng.choice([40, -25, 99])], "quitter": []}[habit]
        calls = [Action(tool_calls=[ToolCall(id=f"c{i}", name="add", arguments={"n": n})])
                 for i, n in enumerate(amounts)]
        self._plan.set([*calls, Action(content="done")])

    def act(self, observation, tools) -> Action:
        plan = self._plan.get()
        return plan[min(turn_index(observation), len(plan) - 1)]


def _chunks(total: int) -> list[int]:
    out = []
    while total > 0:
        out.append(min(10, total))
        total -= out[-1]
    return out


async def counter_episodes(n_tasks: int = 30, samples: int = 8, seed: int = 0) -> list[Episode]:
    tasks = counter_tasks(n_tasks)
    agent = HabitAgent(seed)
    episodes = []
    for task in tasks:
        for sample in range(samples):
            env = CounterEnv(tasks)
            env.env_id = ENV_ID
            episodes.append(await run_episode(env, agent, task.id, sample=sample, seed=0))
    return episodes


def make_counter_episodes(**kwargs) -> list[Episode]:
    return asyncio.run(counter_episodes(**kwargs))
