"""The extra verifiers of a run in results.json: their mean score, their failures, how well they
agree with the execution verdict of the same episodes (accuracy at a threshold, AUROC), and the
tokens their models spent (an LLM judge's calls cost as much as the policy's, at times)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentgym.core.types import Episode, Reward
from agentgym.verifiers.metrics import agreement

#: a verdict at or above it counts as a pass when compared with the execution verdict
THRESHOLD = 0.5


SPENT = ("prompt_tokens", "completion_tokens", "cost_usd")


def spent(reward: Reward) -> dict[str, float]:
    """What a verdict's model calls cost: its own components, and those of the parts of a
    composite verifier (`judge.prompt_tokens`...); zeros for verifiers that call no model."""
    out = dict.fromkeys(SPENT, 0.0)
    for key, value in reward.components.items():
        name = key.rsplit(".", 1)[-1]
        if name in out:
            out[name] += value
    return out


def verifier_spending(episodes: Sequence[Episode], label: str | None = None) -> dict[str, float]:
    """Tokens and cost of the verdicts (of one verifier, or all) of every recorded episode: all
    of it was spent, infra errors included."""
    total = dict.fromkeys(SPENT, 0.0)
    for e in episodes:
        for name, reward in e.verdicts.items():
            if label is None or name == label:
                for key, value in spent(reward).items():
                    total[key] += value
    return total


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
            **verifier_spending(episodes, label),
        }
    return out

