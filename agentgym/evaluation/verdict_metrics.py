"""The extra verifiers of a run in results.json: their mean score, their failures, and how well
they agree with the execution verdict of the same episodes (accuracy at a threshold, AUROC)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentgym.core.types import Episode
from agentgym.verifiers.metrics import agreement

#: a verdict at or above it counts as a pass when compared with the execution verdict
THRESHOLD = 0.5


def summarize_verdicts(
    episodes: Sequence[Episode], labels: Sequence[str] = (), threshold: float = THRESHOLD
) -> dict[str, dict[str, Any]]:
    """Per verifier label (those given, then any other found in the episodes, such as the
    tasks' own `task:NAME`): episodes scored and failed, mean score, agreement with execution.

    Only counted episodes take part (infrastructure errors are left out, as everywhere); an
    episode the verifier failed on is counted as failed, never as a 0."""
    counted = [e for e in episodes if e.counted]
    found = {label for e in counted for label in (*e.verdicts, *e.verdict_errors)}
    out = {}
    for label in [*labels, *sorted(found - set(labels))]:
        scored = [e for e in counted if label in e.verdicts]
        scores = [e.verdicts[label].value for e in scored]
        out[label] = {
            "scored": len(scored),
            "failed": sum(label in e.verdict_errors for e in counted),
            "mean": sum(scores) / len(scores) if scores else None,
            "agreement": (
                agreement(scores, [e.success for e in scored], threshold).model_dump()
                if scored
                else None
            ),
        }
    return out
