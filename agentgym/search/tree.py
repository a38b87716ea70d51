"""The pieces every search method drives: a `Branch` (a live env and the trajectory that led to
it) and a `SearchContext` that opens, forks, steps and closes branches, charging a meter and
keeping a ledger of every env it opened, so nothing outlives the search.

Branches are copied with `Env.fork()` by default. `copy="replay"` copies a branch instead by
resetting a fresh env and replaying the branch's actions: what a search must do without fork, and
the peer `bench/search.py` measures fork against.
"""

from __future__ import annotations

import copy as copy_module
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from agentgym.core.env import Env
from agentgym.core.types import Action, Episode, Observation, Reward, Step, Task, TokenUsage
from agentgym.policies.base import Policy, act, begin, is_privileged
from agentgym.rollout.versions import current_versions
from agentgym.search.budget import Meter

CopyMode = Literal["fork", "replay"]


@dataclass
class Branch:
    """One line of play: its env (None once closed), what the agent sees, and the steps so far."""

    env: Env | None
    observation: Observation
    steps: list[Step] = field(default_factory=list)
    done: bool = False
    truncated: bool = False
    outcome: Reward | None = None  # the env's verdict at the end (reporting only, never selection)
    usage: TokenUsage = field(default_factory=TokenUsage)
    value: float = 0.0  # the search's own score of this branch (from a scorer)
    answer: str | None = None  # its answer key, for voting (read while its env is live)
    sample: int = 0

    @property
    def actions(self) -> list[Action]:
        return [s.action for s in self.steps]


class Ledger:
    """Every env a search opened; `close_all` closes those still open (also after an exception)."""

    def __init__(self) -> None:
        self._open: dict[int, Env] = {}
        self.opened = 0

    def add(self, env: Env) -> Env:
        self._open[id(env)] = env
        self.opened += 1
        return env

    async def close(self, env: Env) -> None:
        if self._open.pop(id(env), None) is not None:
            await env.close()

    @property
    def open_count(self) -> int:
        return len(self._open)

    async def close_all(self) -> None:
        errors = []
        while self._open:
            _, env = self._open.popitem()
            try:
                await env.close()
            except Exception as e:  # close the others anyway, then report the first failure
                errors.append(e)
        if errors:
            raise errors[0]


class SearchContext:
    """A search over one task: the env factory, the policy, the meter and the ledger."""

    def __init__(
        self,
        make_env: Callable[[], Env],
        policy: Policy,
        task_id: str,
        meter: Meter,
        seed: int | None = 0,
        copy: CopyMode = "fork",
    ):
        if copy not in ("fork", "replay"):
            raise ValueError(f"copy must be 'fork' or 'replay', not {copy!r}")
        self.make_env, self.task_id, self.meter = make_env, task_id, meter
        self.policy = copy_module.copy(policy)  # its per-episode state is this search's own
        self.seed, self.copy_mode = seed, copy
        self.ledger = Ledger()
        self.env_id = ""
        self.task: Task | None = None
        self.replayed_steps = 0

    @property
    def policy_name(self) -> str:
        return getattr(self.policy, "name", type(self.policy).__name__)

    async def _fresh(self) -> tuple[Env, Observation]:
        env = self.ledger.add(self.make_env())
        self.env_id = env.env_id
        observation, _ = await env.reset(seed=self.seed, options={"task_id": self.task_id})
        self.task = env.task
        self.meter.spent.resets += 1
        return env, observation

    async def root(self, sample: int = 0) -> Branch:
        """A fresh episode (the policy's `begin` runs for `sample`)."""
        env, observation = await self._fresh()
        assert self.task is not None
        if is_privileged(self.policy):
            await begin(self.policy, self.task, self.seed, sample, env=env)
        else:
            await begin(self.policy, self.task.public_view(), self.seed, sample)
        return Branch(env=env, observation=observation, sample=sample)

    async def fork(self, branch: Branch) -> Branch:
        """An independent copy of a live branch."""
        if branch.env is None:
            raise RuntimeError("cannot copy a closed branch")
        if self.copy_mode == "fork":
            env = self.ledger.add(await branch.env.fork())
            self.meter.spent.forks += 1
            observation = branch.observation
        else:
            env, observation = await self._fresh()
            for action in branch.actions:  # replayed steps are the copy's cost, not the agent's
                observation = (await env.step(action)).observation
                self.replayed_steps += 1
                self.meter.spent.replayed_steps += 1
        return Branch(
            env=env,
            observation=observation,
            steps=list(branch.steps),
            usage=branch.usage,
            value=branch.value,
            sample=branch.sample,
        )

    async def act(self, branch: Branch) -> Action:
        """One policy call at the branch's state, charged to the meter."""
        assert branch.env is not None
        action = await act(self.policy, branch.observation, branch.env.tools)
        self.meter.charge_action(action)
        return action

    async def step(self, branch: Branch, action: Action, latency_s: float = 0.0) -> None:
        """Apply `action` to the branch's env and record the step (as the episode runner does)."""
        assert branch.env is not None and not branch.done
        seen = sum(len(s.observation) for s in branch.steps)
        wall, t0 = time.time(), time.perf_counter()
        result = await branch.env.step(action)
        self.meter.charge_step()
        before = branch.observation.messages
        new = result.observation.messages[len(before) :]
        branch.steps.append(
            Step(
                index=len(branch.steps),
                observation=before[seen:],
                action=action,
                tool_results=[m for m in new if m.role == "tool"],
                reward=result.reward.value,
                reward_components=result.reward.components,
                latency_s=latency_s,
                env_latency_s=time.perf_counter() - t0,
                started_at=wall,
            )
        )
        if action.usage:
            branch.usage = branch.usage + action.usage
        branch.observation = result.observation
        if result.terminated or result.truncated:
            branch.done, branch.truncated = True, result.truncated
            branch.outcome = Reward.model_validate(result.info["outcome"])

    async def advance(self, branch: Branch) -> Action:
        """Ask the policy and step the branch with its action."""
        t0 = time.perf_counter()
        action = await self.act(branch)
        await self.step(branch, action, latency_s=time.perf_counter() - t0)
        return action

    async def close(self, branch: Branch) -> None:
        if branch.env is not None:
            env, branch.env = branch.env, None
            await self.ledger.close(env)

    async def settle(self, branch: Branch) -> None:
        """Give an unfinished branch its verdict as it stands (the search ran out of budget)."""
        if not branch.done and branch.env is not None:
            branch.outcome = await branch.env.score()
            branch.truncated = True

    def episode(self, branch: Branch, **extra: Any) -> Episode:
        """The branch as an Episode record (the usual schema)."""
        status = "truncated" if branch.truncated else "ok"
        return Episode(
            env_id=self.env_id,
            task_id=self.task_id,
            seed=self.seed,
            sample=branch.sample,
            policy=self.policy_name,
            steps=list(branch.steps),
            outcome=branch.outcome,
            status=status,
            usage=branch.usage,
            versions=current_versions(),
            **extra,
        )


def blind(episode: Episode) -> Episode:
    """The episode without what the env's (privileged) verifier wrote into it: no outcome, no
    step rewards. A deployable verifier or a vote sees only this, so selection can never read
    the hidden verdict, even by mistake."""
    steps = [s.model_copy(update={"reward": 0.0, "reward_components": {}}) for s in episode.steps]
    return episode.model_copy(update={"steps": steps, "outcome": None})
