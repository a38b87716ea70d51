"""`agentgym eval`: run a policy over an env's tasks, k samples each, and write the results.

`OUT/episodes.jsonl` gets each episode as it ends; `OUT/results.json` the summary. A second run
with the same OUT resumes: finished (task, sample) pairs are skipped, infra errors are re-run.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentgym.core.errors import UserInputError
from agentgym.core.registry import spec as env_spec
from agentgym.core.shutdown import release_shared
from agentgym.core.types import Episode
from agentgym.evaluation.metrics import summarize
from agentgym.policies import load_policy
from agentgym.rollout.runner import Job, run_many
from agentgym.rollout.store import EpisodeStore
from agentgym.rollout.versions import current_versions


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
    on_episode: Callable[[Episode], None] | None = None,
) -> dict[str, Any]:
    if k < 1:
        raise UserInputError("-k must be at least 1")
    if n is not None and n < 1:
        raise UserInputError("-n must be at least 1")
    spec = env_spec(env_id)
    policy = load_policy(policy_spec)
    out_dir = prepare_out_dir(out)
    kwargs = dict(env_kwargs or {})
    if tasks:
        kwargs["tasks"] = tasks

    def make_env():
        return spec.make_async(**kwargs)

    probe = make_env()  # builds the env once: validates the task file and lists its tasks
    try:
        task_ids = sorted(probe.tasks)[:n] if n else sorted(probe.tasks)
    finally:
        await probe.close()

    store = EpisodeStore(out_dir / "episodes.jsonl")
    done = store.finished()
    jobs = [
        Job(task_id=t, sample=s, seed=seed + s)
        for t in task_ids
        for s in range(k)
        if (t, s) not in done
    ]
    try:
        await run_many(
            make_env, policy, jobs, concurrency=concurrency, store=store,
            max_steps=max_steps, on_episode=on_episode,
        )
    finally:
        await release_shared()  # e.g. the browser the web envs shared
    wanted = set(task_ids)
    latest: dict[tuple[str, int], Episode] = {}
    for episode in store.load():  # later records of a pair (a re-run infra error) win
        if episode.task_id in wanted and episode.sample < k:
            latest[(episode.task_id, episode.sample)] = episode
    results = {
        "env_id": env_id,
        "policy": policy_spec,
        **summarize(list(latest.values()), k=k),
        "versions": current_versions().model_dump(),
    }
    tmp = out_dir / "results.json.tmp"
    tmp.write_text(json.dumps(_json_safe(results), indent=2, allow_nan=False))
    os.replace(tmp, out_dir / "results.json")
    return results


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
