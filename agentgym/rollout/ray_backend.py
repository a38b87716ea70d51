"""Episodes on a Ray cluster: the same runner, in worker actors spread over the nodes.

Each worker actor runs `run_with_retries` on its own event loop, with its own env pool and its
own copy of the policy, several episodes at a time. The driver hands out jobs (never more than
`concurrency` at once, each to the least busy worker), and stores each episode the moment it
comes back, so `episodes.jsonl`, resume and progress work exactly as with the local backend.

A worker that dies (its node lost, the process killed) is replaced; its episodes are run again,
and recorded as `infra_error` once that keeps happening. Stopping the driver (^C) cancels what
is in flight and ends the workers; a Ray instance it started is shut down with it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import os
import pickle
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentgym.core.env import Env
from agentgym.core.errors import UserInputError
from agentgym.core.types import Episode
from agentgym.rollout.runner import EnvPool, Job, run_with_retries
from agentgym.rollout.store import EpisodeStore
from agentgym.rollout.verdicts import VerdictPanel, build_verifiers, close_verifier
from agentgym.rollout.versions import current_versions

#: the names of the worker actors start with this
WORKER_PREFIX = "agentgym-episodes-"
_worker_ids = itertools.count()


@dataclass(frozen=True)
class PolicyFactory:
    """Builds the policy on the worker, for policies that cannot be pickled (the oracle keeps
    per-episode state in context variables)."""

    spec: str
    options: dict[str, Any]

    def __call__(self) -> Any:
        from agentgym.policies import load_policy

        return load_policy(self.spec, **self.options)


class EpisodeWorker:
    """One Ray actor: episodes on its own event loop, envs reused as in `run_many`."""

    def __init__(self, make_env: Callable[[], Env], policy: Any, max_steps: int | None,
                 retries: int, verifier_specs: dict[str, dict[str, Any]] | None = None):
        self.make_env = make_env
        self.policy = policy() if isinstance(policy, PolicyFactory) else policy
        self.max_steps, self.retries = max_steps, retries
        self.pool = EnvPool(make_env)
        # verifiers travel as specs and are built here: a judge's HTTP session or a PRM's model
        # belongs to the worker's process, not the driver's
        self.verifiers = build_verifiers(verifier_specs or {})
        self.panel = VerdictPanel(self.verifiers)

    async def ready(self) -> str:
        """Builds the first env, so a worker that cannot (a module missing on its node) says so
        before any episode is handed out."""
        self.pool.give_back(self.make_env())
        return os.uname().nodename

    async def run(self, task_id: str, sample: int, seed: int | None) -> str:
        episode = await run_with_retries(
            self.make_env, self.policy, Job(task_id, sample, seed), retries=self.retries,
            max_steps=self.max_steps, pool=self.pool, verifiers=self.panel,
        )
        return episode.model_dump_json()

    async def close(self) -> None:
        from agentgym.core.shutdown import release_shared

        await self.pool.close()
        await self.panel.aclose()
        for verifier in self.verifiers.values():
            await close_verifier(verifier)
        await release_shared()
        aclose = getattr(self.policy, "aclose", None)
        if callable(aclose):
            await aclose()


def _ray():
    try:
        import ray
    except ModuleNotFoundError:
        raise UserInputError("--runner ray needs Ray: pip install 'agentgym[ray]'") from None
    return ray


def connect(address: str | None = None, runtime_env: dict[str, Any] | None = None) -> bool:
    """Join the Ray cluster at `address` (or $RAY_ADDRESS); without either, start a local one.
    Returns whether this call started or joined it (and so should shut it down)."""
    ray = _ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is not None:
        _check_reachable(address)
    try:
        quiet = {"log_to_driver": False, "logging_level": logging.ERROR, "runtime_env": runtime_env}
        if address is None:  # a private local instance, never someone else's `ray start`
            ray.init(address="local", include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, ValueError, RuntimeError) as e:
        raise UserInputError(f"--address {address}: cannot join the Ray cluster: {e}") from None
    return True


def _check_reachable(address: str) -> None:
    """Ray retries a dead address for minutes, logging as it goes: knock first."""
    target = address.removeprefix("ray://")
    host, colon, port = target.rpartition(":")
    if target == "auto" or not colon or not port.isdigit():
        return  # Ray reads the address itself ("auto": the cluster `ray start` made here)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as e:
        raise UserInputError(f"--address {address}: no Ray cluster answers there "
                             f"({e.strerror or e})") from None


def shippable(policy: Any, spec: str, options: dict[str, Any]) -> Any:
    """The policy itself when it pickles (an endpoint's settings then travel with it), else a
    factory that builds it from its spec on the worker."""
    from ray import cloudpickle

    try:
        cloudpickle.dumps(policy)
        return policy
    except (TypeError, pickle.PicklingError, AttributeError):
        return PolicyFactory(spec, dict(options))


async def run_many_ray(
    make_env: Callable[[], Env],
    policy: Any,
    jobs: list[Job],
    *,
    concurrency: int = 8,
    store: EpisodeStore | None = None,
    max_steps: int | None = None,
    retries: int = 2,
    on_episode: Callable[[Episode], None] | None = None,
    workers: int | None = None,
    env_id: str = "",
    verifier_specs: dict[str, dict[str, Any]] | None = None,
) -> list[Episode]:
    """Like `run_many`, on the Ray cluster this process is connected to (see `connect`).

    `policy` is a Policy that pickles, or a `PolicyFactory`. `workers` actors (default: one per
    CPU in the cluster, at most `concurrency`) share the `concurrency` slots. `verifier_specs`
    (label -> spec) are built on each worker and score its episodes as `run_many`'s do."""
    ray = _ray()
    if not jobs:
        return []
    cpus = int(ray.cluster_resources().get("CPU", 1))
    n_workers = max(1, min(concurrency, workers or cpus, len(jobs)))
    slots = math.ceil(concurrency / n_workers)
    actor_class = ray.remote(EpisodeWorker)

    def start_worker():
        # named, so `ray list actors` and the dashboard show whose they are
        return actor_class.options(
            name=f"{WORKER_PREFIX}{os.getpid()}-{next(_worker_ids)}", num_cpus=min(1, cpus / n_workers),
            max_concurrency=slots, scheduling_strategy="SPREAD",
        ).remote(make_env, policy, max_steps, retries, dict(verifier_specs or {}))

    actors = [start_worker() for _ in range(n_workers)]
    in_flight: dict[asyncio.Future[Any], tuple[Job, int, int]] = {}
    try:
        try:
            await asyncio.gather(*(_await(a.ready.remote()) for a in actors))
        except ray.exceptions.RayError as e:
            raise UserInputError(f"the Ray workers cannot build the env, the policy or the verifiers: {_cause(e)} "
                                 "(every node needs the code: install it there or pass a "
                                 "runtime_env)") from None
        queue = deque((job, 0) for job in jobs)
        busy = [0] * n_workers
        episodes: list[Episode] = []
        while queue or in_flight:
            while queue and len(in_flight) < concurrency:
                job, attempt = queue.popleft()
                i = min(range(n_workers), key=busy.__getitem__)
                busy[i] += 1
                ref = actors[i].run.remote(job.task_id, job.sample, job.seed)
                in_flight[asyncio.ensure_future(_await(ref))] = (job, i, attempt)
            done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                job, i, attempt = in_flight.pop(future)
                busy[i] -= 1
                try:
                    episode = Episode.model_validate_json(future.result())
                except ray.exceptions.RayError as e:  # the worker died, not the episode
                    if isinstance(e, ray.exceptions.RayActorError):
                        ray.kill(actors[i], no_restart=True)
                        actors[i] = start_worker()
                    if attempt < retries:
                        queue.appendleft((job, attempt + 1))
                        continue
                    episode = _lost(job, env_id, policy, f"the Ray worker was lost: {_cause(e)}")
                if store is not None:
                    await store.write(episode)
                if on_episode is not None:
                    on_episode(episode)
                episodes.append(episode)
        await asyncio.gather(*(_await(a.close.remote()) for a in actors), return_exceptions=True)
        return episodes
    finally:
        for future in in_flight:
            future.cancel()
        for actor in actors:
            ray.kill(actor, no_restart=True)


async def _await(ref: Any) -> Any:
    return await ref


def _cause(error: BaseException) -> str:
    cause = getattr(error, "cause", None) or error.__cause__
    text = f"{type(cause).__name__}: {cause}" if cause is not None else str(error)
    return text.strip().splitlines()[-1][:500] if text.strip() else type(error).__name__


def _lost(job: Job, env_id: str, policy: Any, error: str) -> Episode:
    name = policy.spec if isinstance(policy, PolicyFactory) else getattr(policy, "name", "")
    return Episode(env_id=env_id, task_id=job.task_id, seed=job.seed, sample=job.sample, policy=name,
                   status="infra_error", error=error, versions=current_versions())
