"""Best-of-N: rank each task's candidate episodes by a verifier and see whether the top one passes.

The figure is the expected execution success of the candidate a verifier picks, averaged over
tasks; candidates tied at the top share the pick. Beside it: a random pick (the candidates'
mean success) and the best possible pick (any candidate passes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel

from agentgym.core.types import Episode

TIE = 1e-9


def _groups(episodes: Sequence[Episode]) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, e in enumerate(episodes):
        groups[(e.env_id, e.task_id)].append(i)
    return groups


def pick_success(scores: Sequence[float], episodes: Sequence[Episode]) -> float:
    """Mean over tasks of the success of the top-scored candidate (ties share)."""
    groups = _groups(episodes)
    total = 0.0
    for members in groups.values():
        best = max(scores[i] for i in members)
        top = [i for i in members if scores[i] >= best - TIE]
        total += sum(episodes[i].success for i in top) / len(top)
    return total / len(groups)


class Baselines(BaseModel):
    tasks: int
    candidates: float  # mean per task
    random_pick: float
    best_possible: float


def baselines(episodes: Sequence[Episode]) -> Baselines:
    groups = _groups(episodes)
    random_pick = sum(sum(episodes[i].success for i in m) / len(m) for m in groups.values())
    best = sum(any(episodes[i].success for i in m) for m in groups.values())
    return Baselines(tasks=len(groups), candidates=len(episodes) / len(groups),
                     random_pick=random_pick / len(groups), best_possible=best / len(groups))
