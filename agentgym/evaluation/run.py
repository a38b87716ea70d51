"""`agentgym eval`: run a policy over an env's tasks, k samples each, and write the results.

`OUT/run.json` says what the run is (settings, code, tasks, machine), `OUT/episodes.jsonl` gets each
episode as it ends, `OUT/results.json` the summary with totals of tokens, cost and time. A second
run with the same OUT resumes: finished (task, sample) pairs are skipped, infra errors are re-run;
it refuses when OUT holds episodes of a different run (another policy, env, seed, max steps or
task set, or extra verifiers) unless `force` starts over.

Extra verifiers (`verifiers`: specs as `load_verifier` takes them) score every episode besides
the env; their verdicts go to each episode's `verdicts` and, summed up with their agreement with
the execution verdict, to results.json's `verifiers`. The outcome stays the env's own.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentgym.core.errors import UserInputError
from agentgym.core.registry import spec as env_spec
from agentgym.core.shutdown import release_shared
from agentgym.core.types import Episode
from agentgym.evaluation.manifest import (
    RunConfig,
    RunManifest,
    check_resume,
    file_digest,
    tasks_digest,
)
from agentgym.evaluation.metrics import summarize
from agentgym.evaluation.verdict_metrics import summarize_verdicts, verifier_spending
from agentgym.policies import load_policy
from agentgym.rollout.runner import Job, run_many
from agentgym.rollout.store import EpisodeStore
from agentgym.rollout.verdicts import build_verifiers, close_verifier, label_specs
from agentgym.rollout.versions import current_versions

RUNNERS = ("local", "ray")


def prepare_out_dir(out: str | Path) -> Path:
    """Create OUT and prove it is writable before any episode runs."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise UserInputError(f"--out {out}: not writable ({e.strerror or e})") from None
    return path


async def evaluate(
    env_id: str,
    policy_spec: str,
    out: str | Path,
    *,
    n: int | None = None,
    k: int = 1,
    concurrency: int = 8,
    tasks: str | None = None,
    seed: int = 0,
    max_steps: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    policy_args: dict[str, Any] | None = None,
    force: bool = False,
    probe: bool = True,
    on_start: Callable[[int], None] | None = None,
    on_episode: Callable[[Episode], None] | None = None,
    runner: str = "local",
    address: str | None = None,
    runtime_env: dict[str, Any] | None = None,
    verifiers: list[str | dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Evaluate `policy_spec` on `env_id`; see the module docstring. `runner="ray"` runs the
    episodes on the Ray cluster at `address` (default: $RAY_ADDRESS, else a local instance),
    with `runtime_env` for its workers."""
    if k < 1:
        raise UserInputError("-k must be at least 1")
    if n is not None and n < 1:
        raise UserInputError("-n must be at least 1")
    if concurrency < 1:
        raise UserInputError("--concurrency must be at least 1")
    if runner not in RUNNERS:
        raise UserInputError(f"--runner {runner!r}: expected one of {', '.join(RUNNERS)}")
    if runtime_env is not None and not isinstance(runtime_env, dict):
        raise UserInputError("runtime_env must be a table of Ray runtime_env fields")
    if runner != "ray" and (address or runtime_env):
        raise UserInputError("--address and runtime_env are for --runner ray")
    verifier_specs = label_specs(list(verifiers or []))
    # built before anything else: a bad spec or a PRM dir that is none stops the run here
    built = build_verifiers(verifier_specs)
    spec = env_spec(env_id)
    policy = load_policy(policy_spec, **(policy_args or {}))
    out_dir = prepare_out_dir(out)
    kwargs = dict(env_kwargs or {})
    if tasks:
        kwargs["tasks"] = tasks

    def make_env():
        return spec.make_async(**kwargs)

    probe_env = make_env()  # builds the env once: validates the task file and lists its tasks
    try:
        all_tasks = list(probe_env.tasks.values())
        tools = [t.to_openai() for t in probe_env.tools]
    finally:
        await probe_env.close()
    task_ids = sorted(t.id for t in all_tasks)[:n] if n else sorted(t.id for t in all_tasks)
    describe = getattr(policy, "describe", None)
    config = RunConfig(
        env_id=env_id, policy=policy_spec, policy_args=dict(policy_args or {}),
        policy_spec=describe() if callable(describe) else {"name": getattr(policy, "name", policy_spec)},
        n=n, k=k, seed=seed, max_steps=max_steps, concurrency=concurrency, tasks_file=tasks,
        tasks_sha256=tasks_digest(all_tasks), env_kwargs={k_: str(v) for k_, v in (env_kwargs or {}).items()},
        verifiers=verifier_specs,
    )
    manifest = RunManifest(config=config, task_files={tasks: file_digest(tasks)} if tasks else {},
                           tools=tools)
    check_resume(out_dir, manifest, force)

    store = EpisodeStore(out_dir / "episodes.jsonl")
    earlier = store.load()  # read once: this run's own episodes are added as they end
    done = {(e.task_id, e.sample) for e in earlier if e.counted}
    jobs = [
        Job(task_id=t, sample=s, seed=seed + s)
        for t in task_ids
        for s in range(k)
        if (t, s) not in done
    ]
    if jobs and probe and callable(getattr(policy, "probe", None)):
        await policy.probe()  # a wrong model or a dead endpoint stops here, not once per episode
    if on_start is not None:
        on_start(len(jobs))
    started = time.monotonic()
    try:
        if runner == "ray" and jobs:
            new = await _run_on_ray(
                make_env, policy, policy_spec, dict(policy_args or {}), jobs, env_id,
                concurrency=concurrency, store=store, max_steps=max_steps, on_episode=on_episode,
                address=address, runtime_env=runtime_env, verifier_specs=verifier_specs,
            )
        else:
            new = await run_many(
                make_env, policy, jobs, concurrency=concurrency, store=store,
                max_steps=max_steps, on_episode=on_episode, verifiers=built,
            )
    finally:
        for verifier in built.values():
            await close_verifier(verifier)
        await release_shared()  # e.g. the browser the web envs shared
        aclose = getattr(policy, "aclose", None)
        if callable(aclose):
            await aclose()  # its HTTP connections belong to this loop
    wanted = set(task_ids)
    latest: dict[tuple[str, int], Episode] = {}
    for episode in earlier + new:  # later records of a pair (a re-run infra error) win
        if episode.task_id in wanted and episode.sample < k:
            latest[(episode.task_id, episode.sample)] = episode
    episodes = list(latest.values())
    results = {
        "env_id": env_id,
        "policy": policy_spec,
        **summarize(episodes, k=k),
        "verifiers": summarize_verdicts(episodes, list(verifier_specs)),
        "totals": totals(episodes, time.monotonic() - started),
        "run": manifest.model_dump(),
        "versions": current_versions().model_dump(),
    }
    tmp = out_dir / "results.json.tmp"
    tmp.write_text(json.dumps(_json_safe(results), indent=2, allow_nan=False))
    os.replace(tmp, out_dir / "results.json")
    return results


async def _run_on_ray(make_env, policy, policy_spec, policy_args, jobs, env_id, *, address,
                      runtime_env, **options) -> list[Episode]:
    from agentgym.rollout import ray_backend

    joined = ray_backend.connect(address, runtime_env)
    try:
        return await ray_backend.run_many_ray(
            make_env, ray_backend.shippable(policy, policy_spec, policy_args), jobs,
            env_id=env_id, **options)
    finally:
        if joined:
            import ray

            ray.shutdown()


def totals(episodes: list[Episode], wall_s: float) -> dict[str, Any]:
    """Tokens and cost over every recorded episode (infra errors included: they were spent); the
    verifiers' model calls (LLM judges) are counted apart from the policy's."""
    costs = [e.usage.cost for e in episodes if e.usage.cost is not None]
    verifiers = verifier_spending(episodes)
    return {
        "prompt_tokens": sum(e.usage.prompt_tokens for e in episodes),
        "completion_tokens": sum(e.usage.completion_tokens for e in episodes),
        "cost_usd": sum(costs) if costs else None,
        "policy_calls": sum(len(e.steps) for e in episodes),
        "episode_time_s": sum(e.duration_s for e in episodes),
        "wall_time_s": wall_s,  # of this invocation (a resumed run counts its own time)
        "verifier_prompt_tokens": int(verifiers["prompt_tokens"]),
        "verifier_completion_tokens": int(verifiers["completion_tokens"]),
        "verifier_cost_usd": verifiers["cost_usd"] or None,
    }


def _json_safe(value: Any) -> Any:
    """NaN (no valid episode) becomes null: results.json stays strict JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def evaluate_sync(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return asyncio.run(evaluate(*args, **kwargs))
