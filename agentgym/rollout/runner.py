"""The async episode runner: one episode, or many at once with a concurrency limit.

Each episode has an env to itself and a shallow copy of the policy (so a policy's `begin`
state is per episode). `run_many` reuses an env for a later episode once an episode in it has
ended cleanly: `reset()` starts every episode afresh (Gymnasium's contract), and building an env
can cost more than the episode's own work (a task file read and validated per env). An env that
raised is closed and never reused. Infrastructure errors are retried when retrying can help; if they
persist the episode is recorded with status `infra_error` and left out of every metric. Any
other exception (a bug or crash in policy or env code) is recorded with status `error`, which
counts as a failure, so a policy that crashes on hard tasks never scores higher for it.
"""

from __future__ import annotations

import asyncio
import copy
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from agentgym.core.env import Env
from agentgym.core.errors import InfraError, UserInputError
from agentgym.core.types import Episode, Reward, Step
from agentgym.policies.base import Policy, act, begin, is_privileged
from agentgym.rollout.store import EpisodeStore
from agentgym.rollout.verdicts import VerdictPanel, panel_of
from agentgym.rollout.versions import current_versions
from agentgym.verifiers.base import Verifier

StepCallback = Callable[[Step], None]


@dataclass(frozen=True)
class Job:
    task_id: str
    sample: int = 0
    seed: int | None = None


async def run_episode(
    env: Env,
    policy: Policy,
    task_id: str,
    *,
    seed: int | None = None,
    sample: int = 0,
    max_steps: int | None = None,
    on_step: StepCallback | None = None,
    verifiers: Mapping[str, Verifier] | VerdictPanel | None = None,
) -> Episode:
    """Run one episode to its end. Infrastructure errors propagate (the caller retries).

    When it has ended, `verifiers` (by label) and the verifier its task names add their verdicts
    to the record (verdicts.py); the outcome stays the env's own."""
    if max_steps is not None:
        env.max_steps = max_steps
    task = env.tasks.get(task_id)
    if task is None:
        raise UserInputError(f"{env.env_id} has no task {task_id!r}")
    policy = copy.copy(policy)
    episode = Episode(
        env_id=env.env_id, task_id=task_id, seed=seed, sample=sample,
        policy=getattr(policy, "name", type(policy).__name__), versions=current_versions(),
    )
    start = time.perf_counter()
    # only the oracle sees hidden task data (reference, tests, gold answers) and the env's own
    # reference solver; every other policy sees what an agent may know
    if is_privileged(policy):
        await begin(policy, task, seed, sample, env=env)
    else:
        await begin(policy, task.public_view(), seed, sample)
    observation, _ = await env.reset(seed=seed, options={"task_id": task_id})
    seen = 0
    while True:
        wall, t0 = time.time(), time.perf_counter()
        action = await act(policy, observation, env.tools)
        t1 = time.perf_counter()
        # Env.step hands the env its own copy of the action: an env that keeps and later changes
        # the arguments it was given cannot rewrite the recorded episode
        result = await env.step(action)
        t2 = time.perf_counter()
        new = result.observation.messages[len(observation.messages):]
        step = Step(
            index=len(episode.steps),
            observation=observation.messages[seen:],
            action=action,
            tool_results=[m for m in new if m.role == "tool"],
            reward=result.reward.value,
            reward_components=result.reward.components,
            latency_s=t1 - t0,
            env_latency_s=t2 - t1,
            started_at=wall,
        )
        episode.steps.append(step)
        if action.usage:
            episode.usage = episode.usage + action.usage
        if on_step:
            on_step(step)
        seen = len(observation.messages)
        observation = result.observation
        if result.terminated or result.truncated:
            episode.outcome = Reward.model_validate(result.info["outcome"])
            episode.status = "truncated" if result.truncated else "ok"
            break
    episode.duration_s = time.perf_counter() - start
    panel = panel_of(verifiers)
    try:
        await panel.score(episode, task, env)
    finally:
        if panel is not verifiers:
            await panel.aclose()
    return episode


class EnvPool:
    """Idle envs kept for the next episode; at most as many as ran at once."""

    def __init__(self, make_env: Callable[[], Env]):
        self.make_env = make_env
        self.idle: list[Env] = []

    def take(self) -> Env:
        return self.idle.pop() if self.idle else self.make_env()

    def give_back(self, env: Env) -> None:
        self.idle.append(env)

    async def close(self) -> None:
        envs, self.idle = self.idle, []
        for env in envs:
            await env.close()


async def run_with_retries(
    make_env: Callable[[], Env],
    policy: Policy,
    job: Job,
    *,
    retries: int = 2,
    max_steps: int | None = None,
    on_step: StepCallback | None = None,
    pool: EnvPool | None = None,
    verifiers: Mapping[str, Verifier] | VerdictPanel | None = None,
) -> Episode:
    """One episode; retried in a fresh env on infrastructure errors, then recorded as such.

    With a `pool`, the env comes from it and goes back to it when the episode ends cleanly;
    without, the env is made here and closed at the end."""
    status, error = "infra_error", ""
    for attempt in range(retries + 1):
        env = pool.take() if pool is not None else make_env()
        clean = False
        try:
            episode = await run_episode(
                env, policy, job.task_id, seed=job.seed, sample=job.sample,
                max_steps=max_steps, on_step=on_step, verifiers=verifiers,
            )
            clean = True
            return episode
        except UserInputError:
            raise
        except InfraError as e:
            status, error = "infra_error", f"{type(e).__name__}: {e}"
            if not e.retryable:
                break
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        except Exception as e:  # a bug in env or policy code: data, not a crash of the whole run
            status, error = "error", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}"
            break
        finally:
            if clean and pool is not None:
                pool.give_back(env)
            else:
                await env.close()
    return Episode(
        env_id=getattr(env, "env_id", ""), task_id=job.task_id, seed=job.seed, sample=job.sample,
        policy=getattr(policy, "name", type(policy).__name__), status=status,
        error=error, versions=current_versions(),
    )


async def run_many(
    make_env: Callable[[], Env],
    policy: Policy,
    jobs: list[Job],
    *,
    concurrency: int = 8,
    store: EpisodeStore | None = None,
    max_steps: int | None = None,
    retries: int = 2,
    on_episode: Callable[[Episode], None] | None = None,
    verifiers: Mapping[str, Verifier] | None = None,
) -> list[Episode]:
    """Run `jobs` with at most `concurrency` at once; each episode is stored as soon as it ends.
    `verifiers` (by label) score every episode besides the env (see `run_episode`)."""
    semaphore = asyncio.Semaphore(max(1, concurrency))
    pool = EnvPool(make_env)
    panel = VerdictPanel(verifiers)  # task-named verifiers are built once for the whole run

    async def one(job: Job) -> Episode:
        async with semaphore:
            episode = await run_with_retries(
                make_env, policy, job, retries=retries, max_steps=max_steps, pool=pool,
                verifiers=panel,
            )
        if store is not None:
            await store.write(episode)
        if on_episode is not None:
            on_episode(episode)
        return episode

    try:
        return list(await asyncio.gather(*(one(job) for job in jobs)))
    finally:
        await pool.close()
        await panel.aclose()
