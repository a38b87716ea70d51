"""Rollouts for training: many episodes of one env in lockstep, one batched generation per turn.

Each episode is a full agentgym Episode record (token-exact actions, step rewards, outcome), and
each step also keeps the env's `state_key()` from before the step: GiGPO's anchor state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentgym.core.registry import make_async
from agentgym.core.types import Episode, Message, Reward, Step, Task, ToolSpec
from agentgym.policies.oracle import OraclePolicy


@dataclass
class Rollout:
    """One episode and, per step, the state key before it (None when the env gives none)."""

    episode: Episode
    group: str  # episodes of one group share a task: they are compared with each other
    state_keys: list[str | None] = field(default_factory=list)

    @property
    def rewards(self) -> list[float]:
        return [s.reward for s in self.episode.steps]


async def collect(
    env_id: str,
    policy,
    jobs: list[tuple[str, int]],
    *,
    max_steps: int | None = None,
    env_kwargs: dict | None = None,
) -> list[Rollout]:
    """Run one episode per (task_id, seed) job; the policy's `act_batch` acts for every live
    episode at once. The group of an episode is its task id."""
    envs = [make_async(env_id, **(env_kwargs or {})) for _ in jobs]
    try:
        observations, rollouts = [], []
        for sample, (env, (task_id, seed)) in enumerate(zip(envs, jobs, strict=True)):
            if max_steps is not None:
                env.max_steps = max_steps
            obs, _ = await env.reset(seed=seed, options={"task_id": task_id})
            observations.append(obs)
            rollouts.append(
                Rollout(
                    Episode(
                        env_id=env_id, task_id=task_id, seed=seed, sample=sample, policy=policy.name
                    ),
                    group=task_id,
                )
            )
        seen = [0] * len(envs)
        live = list(range(len(envs)))
        start = time.perf_counter()
        while live:
            tools: list[ToolSpec] = envs[live[0]].tools
            t0 = time.perf_counter()
            actions = policy.act_batch([observations[i] for i in live], tools)
            latency = (time.perf_counter() - t0) / len(live)
            still = []
            for i, action in zip(live, actions, strict=True):
                env, rollout = envs[i], rollouts[i]
                rollout.state_keys.append(env.state_key())
                result = await env.step(action)
                obs = observations[i]
                rollout.episode.steps.append(
                    Step(
                        index=len(rollout.episode.steps),
                        observation=obs.messages[seen[i] :],
                        action=action,
                        tool_results=[
                            m
                            for m in result.observation.messages[len(obs.messages) :]
                            if m.role == "tool"
                        ],
                        reward=result.reward.value,
                        reward_components=result.reward.components,
                        latency_s=latency,
                    )
                )
                seen[i] = len(obs.messages)
                observations[i] = result.observation
                if result.terminated or result.truncated:
                    rollout.episode.outcome = Reward.model_validate(result.info["outcome"])
                    rollout.episode.status = "truncated" if result.truncated else "ok"
                else:
                    still.append(i)
            live = still
        for r in rollouts:
            r.episode.duration_s = time.perf_counter() - start
        return rollouts
    finally:
        for env in envs:
            await env.close()


async def reference_conversations(
    env_id: str,
    split: str | None = None,
    seeds: tuple[int, ...] = (0,),
    solver: Callable[[Task, int | None], Any] | None = None,
) -> list[tuple[list[Message], list[ToolSpec]]]:
    """Each task's reference solution (or `solver(task, seed)`'s) acted out, once per seed: the
    whole conversation and the env's tools. Used to train a tokenizer and for SFT warm-up (on the
    train split only; tasks without a split count as train)."""
    from agentgym.rollout.runner import run_episode

    env = make_async(env_id)
    try:
        out = []
        for task in sorted(env.tasks.values(), key=lambda t: t.id):
            if split is not None and task.data.get("split", "train") != split:
                continue
            for seed in seeds:
                await run_episode(env, OraclePolicy(solver), task.id, seed=seed)
                out.append((list(env.messages), env.tools))
        return out
    finally:
        await env.close()


def run(coro):
    """Run a coroutine from sync code (the trainer is sync; envs are async)."""
    return asyncio.run(coro)
