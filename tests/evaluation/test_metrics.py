import math

import pytest

from agentgym.core.types import Episode, Reward
from agentgym.evaluation import bootstrap_ci, iqm, pass_at_k, summarize


def test_pass_at_k_matches_the_unbiased_estimator():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 5) == 1.0
    assert pass_at_k(5, 1, 1) == pytest.approx(0.2)
    assert pass_at_k(4, 2, 2) == pytest.approx(1 - math.comb(2, 2) / math.comb(4, 2))
    with pytest.raises(ValueError, match="at least 3 samples"):
        pass_at_k(2, 1, 3)


def test_bootstrap_ci_brackets_the_mean_and_is_reproducible():
    values = [0, 1] * 50
    lo, hi = bootstrap_ci(values)
    assert lo < 0.5 < hi and hi - lo < 0.3
    assert bootstrap_ci(values) == (lo, hi)
    assert bootstrap_ci([0.7]) == (0.7, 0.7)


def test_iqm_ignores_the_tails():
    assert iqm([0, 1, 1, 1, 1, 1, 1, 100]) == 1.0


def ep(task, sample, value, status="ok"):
    return Episode(env_id="e/A-v0", task_id=task, sample=sample, policy="p", status=status,
                   outcome=None if status == "infra_error" else Reward(value=value))


def test_summary_leaves_infra_errors_out_of_every_metric():
    episodes = [ep("a", 0, 1.0), ep("a", 1, 0.0), ep("b", 0, 0.0), ep("b", 1, 0.0),
                ep("c", 0, 0.0, status="infra_error")]
    s = summarize(episodes, k=2)
    assert s["n_tasks"] == 2 and s["n_episodes"] == 4 and s["n_infra_errors"] == 1
    assert s["success_rate"] == 0.25 and s["pass_at_k"] == 0.5
    assert s["per_task"]["a"] == {"n": 2, "successes": 1, "success_rate": 0.5,
                                  "mean_reward": 0.5, "pass_at_k": 1.0, "errors": 0}


def test_summary_counts_errors_as_failures_and_apart():
    episodes = [ep("a", 0, 1.0), ep("b", 0, 0.0, status="error"), ep("c", 0, 0.0, status="infra_error")]
    s = summarize(episodes)
    assert s["n_episodes"] == 2 and s["success_rate"] == 0.5
    assert s["n_errors"] == 1 and s["n_infra_errors"] == 1 and s["per_task"]["b"]["errors"] == 1
