"""Search on a real SWE sandbox (bwrap): forks are sandboxes, and none is left open after a
search, whether it ends normally or crashes in the middle."""

from __future__ import annotations

import pytest

from agentgym.core.env import Env
from agentgym.environments.swe.env import SWEEnv
from agentgym.policies.step_noisy import StepNoisyOracle
from agentgym.search import Budget, run_search
from tests.environments.swe.helpers import sample_task
from tests.search.helpers import FailingOracle

pytestmark = pytest.mark.bwrap


class TrackedSWE(SWEEnv):
    made: list[TrackedSWE] = []

    def __init__(self):
        super().__init__([sample_task()])
        self.env_id = "swe/Mutants-v1"
        TrackedSWE.made.append(self)

    async def _fork_state(self, child: Env) -> None:
        await super()._fork_state(child)
        TrackedSWE.made.append(child)


@pytest.fixture(autouse=True)
def tracked():
    TrackedSWE.made = []


def _open_sandboxes() -> list:
    return [e for e in TrackedSWE.made if e.sandbox is not None]


async def test_beam_on_swe_forks_sandboxes_and_closes_them_all():
    result = await run_search(
        TrackedSWE,
        StepNoisyOracle(0.7, seed=2),
        "minicalc-clamp",
        method="beam",
        verifier="env",
        allow_privileged=True,
        width=2,
        samples=2,
        budget=Budget(policy_calls=6),
    )
    assert result.search.spent.forks >= 2 and len(TrackedSWE.made) == result.search.envs_opened
    assert _open_sandboxes() == []
    assert result.episode.outcome is not None and result.episode.task_id == "minicalc-clamp"


async def test_majority_vote_on_patches_and_no_sandbox_left_after_a_crash():
    result = await run_search(
        TrackedSWE,
        StepNoisyOracle(0.7, seed=2),
        "minicalc-clamp",
        method="best-of-n",
        n=2,
        selector="majority",
        budget=Budget(policy_calls=6),
    )
    chosen = result.search.candidates[result.search.chosen]
    assert chosen.answer and chosen.votes == max(c.votes for c in result.search.candidates)
    assert _open_sandboxes() == []
    with pytest.raises(RuntimeError, match="crashed"):
        await run_search(
            TrackedSWE,
            FailingOracle(3, p_correct=0.7),
            "minicalc-clamp",
            method="beam",
            verifier="env",
            allow_privileged=True,
            samples=3,
            budget=Budget(policy_calls=6),
        )
    assert len(TrackedSWE.made) > 2 and _open_sandboxes() == []
