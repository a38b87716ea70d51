"""How well a verifier's scores agree with execution verdicts: accuracy, precision, recall, AUROC."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The chance that a random success scores above a random failure (ties count half);
    None when there are no successes or no failures."""
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not positives or not negatives:
        return None
    # rank-sum (Mann-Whitney U) with average ranks for ties: O(n log n)
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(r for r, y in zip(ranks, labels, strict=True) if y)
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


class Agreement(BaseModel):
    """A verifier against the execution verdicts of the same episodes."""

    n: int
    positives: int  # episodes the execution verifier passed
    threshold: float
    accuracy: float
    precision: float | None  # of the episodes the verifier passed, the share execution passed
    recall: float | None  # of the episodes execution passed, the share the verifier passed
    auroc: float | None


def agreement(scores: Sequence[float], labels: Sequence[bool], threshold: float = 0.5) -> Agreement:
    if len(scores) != len(labels) or not scores:
        raise ValueError("agreement needs as many scores as labels, at least one")
    predicted = [s >= threshold for s in scores]
    tp = sum(p and y for p, y in zip(predicted, labels, strict=True))
    fp = sum(p and not y for p, y in zip(predicted, labels, strict=True))
    fn = sum(y and not p for p, y in zip(predicted, labels, strict=True))
    correct = sum(p == y for p, y in zip(predicted, labels, strict=True))
    return Agreement(
        n=len(scores), positives=sum(labels), threshold=threshold,
        accuracy=correct / len(scores),
        precision=tp / (tp + fp) if tp + fp else None,
        recall=tp / (tp + fn) if tp + fn else None,
        auroc=auroc(scores, labels),
    )
