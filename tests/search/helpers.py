"""Envs that remember every instance (forks too), so a test can count what a search left open."""

from __future__ import annotations

from agentgym.core.env import Env
from agentgym.environments.tooluse.env import RetailEnv
from agentgym.policies.step_noisy import StepNoisyOracle


class TrackedRetail(RetailEnv):
    """Retail whose instances and forks are listed; an open one holds a live SQLite database."""

    made: list[TrackedRetail] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.env_id = "tooluse/Retail-v0"
        TrackedRetail.made.append(self)

    async def _fork_state(self, child: Env) -> None:
        await super()._fork_state(child)
        TrackedRetail.made.append(child)

    @classmethod
    def still_open(cls) -> list[TrackedRetail]:
        return [e for e in cls.made if e.db is not None]


class FailingOracle(StepNoisyOracle):
    """A step-noisy oracle that raises on its `fail_at`-th call (a crash in mid-search)."""

    def __init__(self, fail_at: int, p_correct: float = 0.7, seed: int = 0):
        super().__init__(p_correct, seed)
        self.fail_at, self.calls = fail_at, 0

    def act(self, observation, tools):
        self.calls += 1
        if self.calls >= self.fail_at:
            raise RuntimeError("the policy crashed")
        return super().act(observation, tools)
