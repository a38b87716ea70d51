"""`agentgym compare RUN_A RUN_B`: is B's success different from A's, on the tasks both ran?

Two views of the same question, and the verdict needs both:
- per task: the difference in success rate (B - A), with a percentile bootstrap CI of its mean
  that resamples whole tasks (so k correlated samples of one task count as one unit);
- per paired episode: an exact McNemar test. Episodes pair by (task, sample index): the same
  task and, when both runs used the same --seed, the same seed. Only discordant pairs carry
  information: b = A succeeded and B failed, c = the reverse; under "no difference" each
  discordant pair goes either way with chance 1/2, so p = P(Binomial(b + c, 1/2) as extreme).

The difference is called real at 95% when McNemar's p < 0.05 and the CI excludes 0. Infra errors
are left out (a task pair needs a counted episode on both sides), as in every other figure.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from agentgym.core.errors import UserInputError
from agentgym.core.types import Episode
from agentgym.evaluation.metrics import bootstrap_ci
from agentgym.evaluation.rundir import RunRecords, load_run

ALPHA = 0.05


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (1.0 when there are none)."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass
class TaskDiff:
    task_id: str
    n_a: int
    n_b: int
    success_a: float
    success_b: float
    diff: float
    mean_reward_a: float
    mean_reward_b: float


@dataclass
class Comparison:
    run_a: str
    run_b: str
    env_id: str
    policy_a: str
    policy_b: str
    same_seed: bool
    tasks: list[TaskDiff]
    only_in_a: int
    only_in_b: int
    success_a: float  # mean over the shared tasks
    success_b: float
    diff: float
    ci95: tuple[float, float]
    pairs: int
    a_only_wins: int  # b: A succeeded, B failed
    b_only_wins: int  # c: B succeeded, A failed
    mcnemar_p: float
    significant: bool
    verdict: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _by_task(run: RunRecords) -> dict[str, dict[int, Episode]]:
    tasks: dict[str, dict[int, Episode]] = {}
    for e in run.episodes:
        if e.counted:
            tasks.setdefault(e.task_id, {})[e.sample] = e
    return tasks


def _rate(episodes: dict[int, Episode]) -> float:
    return sum(e.success for e in episodes.values()) / len(episodes)


def _reward(episodes: dict[int, Episode]) -> float:
    return sum(e.reward for e in episodes.values()) / len(episodes)


def compare_runs(run_a: str | Path, run_b: str | Path, seed: int = 0) -> Comparison:
    a, b = load_run(run_a), load_run(run_b)
    if a.env_id != b.env_id:
        raise UserInputError(
            f"the runs are of different envs ({a.env_id} in {a.path}, "
            f"{b.env_id} in {b.path}); compare runs of one env"
        )
    tasks_a, tasks_b = _by_task(a), _by_task(b)
    shared = sorted(set(tasks_a) & set(tasks_b))
    if not shared:
        raise UserInputError(f"{a.path} and {b.path} have no scored task in common")
    diffs = [
        TaskDiff(
            t,
            len(tasks_a[t]),
            len(tasks_b[t]),
            _rate(tasks_a[t]),
            _rate(tasks_b[t]),
            _rate(tasks_b[t]) - _rate(tasks_a[t]),
            _reward(tasks_a[t]),
            _reward(tasks_b[t]),
        )
        for t in shared
    ]
    a_wins = b_wins = pairs = 0
    for t in shared:
        for sample in sorted(set(tasks_a[t]) & set(tasks_b[t])):
            pairs += 1
            sa, sb = tasks_a[t][sample].success, tasks_b[t][sample].success
            a_wins += sa and not sb
            b_wins += sb and not sa
    p = mcnemar_exact(a_wins, b_wins)
    mean_diff = sum(d.diff for d in diffs) / len(diffs)
    ci = bootstrap_ci([d.diff for d in diffs], seed=seed)
    significant = p < ALPHA and (ci[0] > 0 or ci[1] < 0)
    notes = []
    same_seed = a.seed == b.seed
    if not same_seed:
        notes.append(
            f"the runs used different seeds ({a.seed} and {b.seed}): paired episodes "
            "share a task but not a seed"
        )
    if len(set(tasks_a) ^ set(tasks_b)):
        notes.append(
            f"{len(set(tasks_a) - set(tasks_b))} task(s) only in A and "
            f"{len(set(tasks_b) - set(tasks_a))} only in B are left out"
        )
    comparison = Comparison(
        run_a=str(a.path),
        run_b=str(b.path),
        env_id=a.env_id,
        policy_a=a.policy,
        policy_b=b.policy,
        same_seed=same_seed,
        tasks=diffs,
        only_in_a=len(set(tasks_a) - set(tasks_b)),
        only_in_b=len(set(tasks_b) - set(tasks_a)),
        success_a=sum(d.success_a for d in diffs) / len(diffs),
        success_b=sum(d.success_b for d in diffs) / len(diffs),
        diff=mean_diff,
        ci95=ci,
        pairs=pairs,
        a_only_wins=a_wins,
        b_only_wins=b_wins,
        mcnemar_p=p,
        significant=significant,
        verdict="",
        notes=notes,
    )
    comparison.verdict = verdict(comparison)
    return comparison


def verdict(c: Comparison) -> str:
    """One sentence in words."""
    evidence = (
        f"success {c.success_b:.3f} vs {c.success_a:.3f} on {len(c.tasks)} shared "
        f"task(s), difference {c.diff:+.3f} (95% CI [{c.ci95[0]:+.3f}, {c.ci95[1]:+.3f}]), "
        f"exact McNemar p = {c.mcnemar_p:.3g} over {c.pairs} paired episode(s)"
    )
    if c.significant:
        better = "B" if c.diff > 0 else "A"
        return f"{better} is better: {evidence}; the difference is real at 95%."
    if c.mcnemar_p < ALPHA or (c.ci95[0] > 0 or c.ci95[1] < 0):
        return (
            f"B vs A: {evidence}; the two tests disagree, so at 95% the difference is not "
            "shown to be real."
        )
    return f"B vs A: {evidence}; at 95% the difference is not shown to be real (it may be chance)."
