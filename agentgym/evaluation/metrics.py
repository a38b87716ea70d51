"""Metrics over episodes: success rate, mean reward, unbiased pass@k, bootstrap CIs, IQM.

Episodes with status `infra_error` are left out of every metric and only counted. Episodes with
status `error` (a crash in policy or env code) count as failures and are also counted apart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from agentgym.core.types import Episode


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c passed (Chen et al., 2021): 1 - C(n-c,k)/C(n,k)."""
    if k <= 0 or n <= 0:
        raise ValueError("pass@k needs n > 0 and k > 0")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per task, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def bootstrap_ci(
    values: Sequence[float], confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (resampling tasks). One value gives a zero-width CI."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (float("nan"), float("nan"))
    if data.size == 1:
        return (float(data[0]), float(data[0]))
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(n_resamples, data.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    return (float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)))


def iqm(values: Sequence[float]) -> float:
    """Interquartile mean: the mean of the middle 50% (robust to outliers; Agarwal et al., 2021)."""
    data = np.sort(np.asarray(values, dtype=float))
    if data.size == 0:
        return float("nan")
    lo, hi = int(math.floor(0.25 * data.size)), int(math.ceil(0.75 * data.size))
    return float(data[lo:hi].mean()) if hi > lo else float(data.mean())


def summarize(episodes: Sequence[Episode], k: int = 1) -> dict:
    """The figures of results.json: overall and per task."""
    valid = [e for e in episodes if e.counted]
    by_task: dict[str, list[Episode]] = defaultdict(list)
    for e in valid:
        by_task[e.task_id].append(e)
    per_task = {}
    for task_id, eps in sorted(by_task.items()):
        n, c = len(eps), sum(e.success for e in eps)
        per_task[task_id] = {
            "n": n,
            "successes": c,
            "success_rate": c / n,
            "mean_reward": float(np.mean([e.reward for e in eps])),
            "pass_at_k": pass_at_k(n, c, min(k, n)),
            "errors": sum(e.status == "error" for e in eps),
        }
    task_success = [t["success_rate"] for t in per_task.values()]
    return {
        "n_tasks": len(per_task),
        "n_episodes": len(valid),
        "k": k,
        "success_rate": float(np.mean([e.success for e in valid])) if valid else float("nan"),
        "mean_reward": float(np.mean([e.reward for e in valid])) if valid else float("nan"),
        "iqm_reward": iqm([e.reward for e in valid]),
        "pass_at_k": float(np.mean([t["pass_at_k"] for t in per_task.values()])) if per_task else float("nan"),
        "ci95": list(bootstrap_ci(task_success)),
        "n_errors": sum(e.status == "error" for e in valid),
        "n_infra_errors": len(episodes) - len(valid),
        "n_truncated": sum(e.status == "truncated" for e in valid),
        "per_task": per_task,
    }
