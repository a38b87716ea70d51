"""What the agent told the user, beyond the required outputs: no hedging, no contradiction.

The verifier's required outputs check that each fact was said; this refuses an answer that hides
the facts among guesses: more distinct dollar amounts than the task can justify (its own amounts,
plus `SLACK` figures an honest agent may work out), or a claim the task lists as contradicting
its outcome ("is cancelled" in a refusal). The task's amounts are fixed by the task (what the
reference's look-ups return, its messages say and its writes store), never by what the agent did.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agentgym.verifiers import diff, output_present
from agentgym.verifiers.state_diff import Snapshot

SLACK = 2
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONEY = re.compile(rf"\$\s?({_NUMBER})|({_NUMBER})\s*(?:dollars?|usd)\b|\busd\s?({_NUMBER})", re.IGNORECASE)
MONEY_KEYS = frozenset({"price", "amount", "balance"})


def amounts_said(text: str) -> set[Decimal]:
    """Dollar amounts in a text: "$1,234.50", "42 dollars", "USD 42.5"."""
    return {Decimal(next(g for g in m.groups() if g).replace(",", "")) for m in _MONEY.finditer(text)}


def amounts_in_result(value: Any) -> set[Decimal]:
    """Dollar amounts in a decoded tool result, found by key."""
    found: set[Decimal] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in MONEY_KEYS and isinstance(inner, int | float) and not isinstance(inner, bool):
                found.add(Decimal(f"{inner:.2f}"))
            else:
                found |= amounts_in_result(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= amounts_in_result(inner)
    return found


@dataclass(frozen=True)
class AnswerBounds:
    task_amounts: frozenset[Decimal]
    must_not_say: tuple[str, ...]

    @classmethod
    def of(cls, results: list[str], said: list[str], initial: Snapshot, gold: Snapshot,
           must_not_say: list[str]) -> AnswerBounds:
        """From the reference replay's tool results, its messages, and the rows it wrote."""
        amounts: set[Decimal] = set()
        for text in results:
            try:
                amounts |= amounts_in_result(json.loads(text))
            except json.JSONDecodeError:
                pass  # a plain string result
        for text in said:
            amounts |= amounts_said(text)
        amounts |= {Decimal(v) / 100 for c in diff(initial, gold) if c.after
                    for col, v in c.after.items() if col.endswith("_cents") and isinstance(v, int)}
        return cls(frozenset(amounts), tuple(must_not_say))

    def problems(self, said: list[str]) -> list[str]:
        """Why the agent's messages hedge or contradict the outcome (empty if they do not)."""
        found: set[Decimal] = set()
        for text in said:
            found |= amounts_said(text)
        out = []
        limit = len(self.task_amounts) + SLACK
        if len(found) > limit:
            out.append(f"{len(found)} different amounts said, more than the {limit} this task can justify: a hedge")
        contradictions = [p for p in self.must_not_say if output_present(p, said)]
        if contradictions:
            out.append("said what contradicts the outcome: " + ", ".join(repr(p) for p in contradictions[:5]))
        return out
