"""Verifiers made of verifiers: a weighted hybrid, and the first decisive verdict of a chain.

A composite is privileged if any part is (it reads what its parts read), and scores steps only
if every part does. Each part is given only what it may see of the task (`task_for`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from agentgym.core.env import Env
from agentgym.core.types import Episode, Reward, Task
from agentgym.verifiers.base import Verifier, VerifierSpecError, task_for


def _labels(parts: Sequence[Verifier]) -> list[str]:
    """A distinct label per part, for components (`judge`, `judge#2`, ...)."""
    seen: dict[str, int] = {}
    out = []
    for part in parts:
        base = part.name or type(part).__name__
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return out


class _Composite(Verifier):
    def __init__(self, parts: Sequence[Verifier]):
        if not parts:
            raise VerifierSpecError(f"{self.name} needs at least one verifier")
        for part in parts:
            if not isinstance(part, Verifier):
                raise VerifierSpecError(f"{self.name}: {part!r} is not a Verifier")
        self.parts = list(parts)
        self.labels = _labels(self.parts)
        self.task_fields = tuple(sorted({f for p in self.parts for f in p.task_fields}))
        self.scores_steps = all(p.scores_steps for p in self.parts)

    @property
    def privileged(self) -> bool:
        return any(p.privileged for p in self.parts)

    def describe(self) -> str:
        inner = ", ".join(p.describe() for p in self.parts)
        return f"{self.name}[{inner}]"


def _merge(label: str, reward: Reward, into: dict[str, float]) -> None:
    into[label] = reward.value
    for key, value in reward.components.items():
        into[f"{label}.{key}"] = value


class Hybrid(_Composite):
    """The weighted mean of its parts' values; every part's value and components are kept."""

    name = "hybrid"

    def __init__(self, parts: Sequence[Verifier], weights: Sequence[float] | None = None):
        super().__init__(parts)
        weights = [1.0] * len(self.parts) if weights is None else [float(w) for w in weights]
        if len(weights) != len(self.parts):
            raise VerifierSpecError(f"hybrid: {len(self.parts)} verifiers but {len(weights)} weights")
        if any(w < 0 or not math.isfinite(w) for w in weights) or sum(weights) <= 0:
            raise VerifierSpecError(f"hybrid: weights must be finite, >= 0, not all 0: {weights}")
        self.weights = weights

    def _combine(self, rewards: list[Reward]) -> Reward:
        total = sum(self.weights)
        value = sum(w * r.value for w, r in zip(self.weights, rewards, strict=True)) / total
        components: dict[str, float] = {}
        for label, reward in zip(self.labels, rewards, strict=True):
            _merge(label, reward, components)
        explanation = "; ".join(f"{label} ({w:g}): {r.value:.3f} {r.explanation}".strip()
                                for label, w, r in zip(self.labels, self.weights, rewards, strict=True))
        return Reward(value=value, components=components, explanation=explanation, source=self.name)

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        # in turn, not at once: parts may share the live env (one sandbox, one browser page)
        rewards = [await p.score_episode(episode, task_for(p, task), env) for p in self.parts]
        return self._combine(rewards)

    async def score_step(self, episode: Episode, index: int, task: Task, env: Env | None = None) -> Reward:
        if not self.scores_steps:
            return await super().score_step(episode, index, task, env)
        rewards = [await p.score_step(episode, index, task_for(p, task), env) for p in self.parts]
        return self._combine(rewards)


class FirstDecisive(_Composite):
    """Asks its parts in order; the first decisive verdict wins (the last part always decides).

    A verdict is decisive when its value is >= `accept` or <= `reject`, and its component
    `unless` (if named) is not set: e.g. an execution verdict on a patch flagged `suspicious`
    is passed on to the next part for a second opinion.
    """

    name = "first_decisive"

    def __init__(self, parts: Sequence[Verifier], accept: float = 1.0, reject: float = 0.0,
                 unless: str | None = None):
        super().__init__(parts)
        if reject > accept:
            raise VerifierSpecError(f"first_decisive: reject ({reject}) is above accept ({accept})")
        self.accept, self.reject, self.unless = accept, reject, unless

    def decisive(self, reward: Reward) -> bool:
        if self.unless and reward.components.get(self.unless, 0.0) > 0:
            return False
        return reward.value >= self.accept or reward.value <= self.reject

    def _decided(self, label: str, reward: Reward, asked: dict[str, float]) -> Reward:
        components = dict(asked)
        _merge(label, reward, components)
        explanation = f"decided by {label}: {reward.explanation}".strip()
        return Reward(value=reward.value, components=components, explanation=explanation,
                      source=self.name)

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        asked: dict[str, float] = {}
        for i, (label, part) in enumerate(zip(self.labels, self.parts, strict=True)):
            reward = await part.score_episode(episode, task_for(part, task), env)
            if self.decisive(reward) or i == len(self.parts) - 1:
                return self._decided(label, reward, asked)
            _merge(label, reward, asked)
        raise AssertionError("unreachable: the last part always decides")

    async def score_step(self, episode: Episode, index: int, task: Task, env: Env | None = None) -> Reward:
        if not self.scores_steps:
            return await super().score_step(episode, index, task, env)
        asked: dict[str, float] = {}
        for i, (label, part) in enumerate(zip(self.labels, self.parts, strict=True)):
            reward = await part.score_step(episode, index, task_for(part, task), env)
            if self.decisive(reward) or i == len(self.parts) - 1:
                return self._decided(label, reward, asked)
            _merge(label, reward, asked)
        raise AssertionError("unreachable: the last part always decides")


def hybrid(parts: Sequence[Verifier], weights: Sequence[float] | None = None) -> Hybrid:
    """A weighted mean of verifiers (equal weights by default)."""
    return Hybrid(parts, weights)


def first_decisive(parts: Sequence[Verifier], accept: float = 1.0, reject: float = 0.0,
                   unless: str | None = None) -> FirstDecisive:
    """The first decisive verdict of a chain of verifiers."""
    return FirstDecisive(parts, accept, reject, unless)


class SecondOpinion(_Composite):
    """An execution verdict with a reviewer (e.g. the judge) for the episodes it flags.

    When the primary verifier sets component `flag` (the SWE verifier's `suspicious`: the patch
    touches test machinery, frames or exit hooks) on an episode whose tests all passed (every
    component in `passed_when` is 1), the reviewer decides: 1 if its value is >= `accept`, else
    0. Otherwise the primary verdict stands: the reviewer can only reinstate a flagged patch that
    passed, never pass one that failed.
    """

    name = "second_opinion"

    def __init__(self, parts: Sequence[Verifier], flag: str = "suspicious", accept: float = 0.5,
                 passed_when: Sequence[str] = ("fail_to_pass", "pass_to_pass")):
        super().__init__(parts)
        if len(self.parts) != 2:
            raise VerifierSpecError("second_opinion takes two verifiers: [primary, reviewer]")
        self.flag, self.accept, self.passed_when = flag, accept, tuple(passed_when)

    def _needs_review(self, reward: Reward) -> bool:
        flagged = reward.components.get(self.flag, 0.0) > 0
        return flagged and all(reward.components.get(k, 0.0) >= 1.0 for k in self.passed_when)

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        primary, reviewer = self.parts
        first = await primary.score_episode(episode, task_for(primary, task), env)
        if not self._needs_review(first):
            return first
        review = await reviewer.score_episode(episode, task_for(reviewer, task), env)
        components: dict[str, float] = {}
        for label, reward in zip(self.labels, (first, review), strict=True):
            _merge(label, reward, components)
        passed = review.value >= self.accept
        verdict = "reinstated" if passed else "upheld the flag"
        return Reward(value=1.0 if passed else 0.0, components=components, source=self.name,
                      explanation=f"{self.labels[0]} flagged it ({self.flag}) but its tests pass; "
                                  f"{self.labels[1]} {verdict}: {review.explanation}")


def second_opinion(parts: Sequence[Verifier], flag: str = "suspicious", accept: float = 0.5,
                   passed_when: Sequence[str] = ("fail_to_pass", "pass_to_pass")) -> SecondOpinion:
    """A reviewer's say on the episodes an execution verifier flags."""
    return SecondOpinion(parts, flag, accept, passed_when)
