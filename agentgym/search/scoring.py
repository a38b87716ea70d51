"""How a search scores branches: with a verifier (deployable, or privileged in an oracle
experiment), or with the env's own step rewards (privileged: they come from hidden task data).

A scorer gives an unfinished branch a value after each step (a step verifier's return so far,
else the verifier's verdict on the prefix) and a finished branch its final value (the verifier's
verdict on the episode). Verifiers see a blinded episode (`tree.blind`) and only what they may
see of the task, so a deployable score never reads the hidden verdict.
"""

from __future__ import annotations

from typing import Any

from agentgym.core.errors import UserInputError
from agentgym.search.tree import Branch, SearchContext, blind
from agentgym.verifiers.base import Verifier, score_episode, score_step
from agentgym.verifiers.registry import load_verifier

ENV_REWARD = "env"


class Scorer:
    """Base: a name, whether it reads hidden data, and the two values."""

    name = ""
    privileged = True

    async def after_step(self, ctx: SearchContext, branch: Branch) -> float:
        raise NotImplementedError

    async def final(self, ctx: SearchContext, branch: Branch) -> float:
        raise NotImplementedError

    async def update(self, ctx: SearchContext, branch: Branch) -> float:
        """Score `branch` after its last step (final value when it has ended)."""
        branch.value = await (self.final if branch.done else self.after_step)(ctx, branch)
        return branch.value


class EnvRewardScorer(Scorer):
    """The env's step rewards so far (its outcome once the episode ends): an oracle signal."""

    name = ENV_REWARD
    privileged = True

    async def after_step(self, ctx: SearchContext, branch: Branch) -> float:
        return sum(s.reward for s in branch.steps)

    async def final(self, ctx: SearchContext, branch: Branch) -> float:
        return branch.outcome.value if branch.outcome is not None else 0.0


class VerifierScorer(Scorer):
    def __init__(self, verifier: Verifier):
        self.verifier = verifier
        self.name = verifier.describe()
        self.privileged = verifier.privileged

    async def after_step(self, ctx: SearchContext, branch: Branch) -> float:
        assert ctx.task is not None
        episode = blind(ctx.episode(branch))
        if self.verifier.scores_steps:  # the return so far: the parent's value plus this step's
            step = await score_step(
                self.verifier, episode, len(episode.steps) - 1, ctx.task, branch.env
            )
            return branch.value + step.value
        return (await score_episode(self.verifier, episode, ctx.task, branch.env)).value

    async def final(self, ctx: SearchContext, branch: Branch) -> float:
        assert ctx.task is not None
        episode = blind(ctx.episode(branch))
        return (await score_episode(self.verifier, episode, ctx.task, branch.env)).value


def load_scorer(
    spec: str | dict[str, Any] | Verifier | None,
    allow_privileged: bool = False,
    purpose: str = "selection",
) -> Scorer | None:
    """A scorer from a verifier spec, or `env` for the env's step rewards; None for None.
    Privileged ones are refused unless `allow_privileged` (the run is an oracle experiment)."""
    if spec is None:
        return None
    scorer: Scorer = (
        EnvRewardScorer() if spec == ENV_REWARD else VerifierScorer(load_verifier(spec))
    )
    if scorer.privileged and not allow_privileged:
        raise UserInputError(
            f"{scorer.name} is privileged (it reads hidden task data), so it cannot be used for "
            f"{purpose}; pass --allow-privileged to run this as an oracle experiment"
        )
    return scorer
