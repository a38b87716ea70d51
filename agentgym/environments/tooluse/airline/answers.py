"""What the agent told the user, beyond the required outputs: no hedging, no contradiction.

The verifier's required outputs check that each fact was said; this refuses an answer that hides
the facts among guesses: more distinct dollar amounts than the task can justify (its own amounts,
plus `SLACK` figures an honest agent may work out), or a claim the task lists as contradicting
its outcome ("is cancelled" in a refusal). The task's amounts are fixed by the task (what the
reference's messages say and its writes store), never by what the agent did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from agentgym.verifiers import diff, output_present
from agentgym.verifiers.state_diff import Snapshot

SLACK = 2
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONEY = re.compile(rf"\$\s?({_NUMBER})|({_NUMBER})\s*(?:dollars?|usd)\b|\busd\s?({_NUMBER})", re.IGNORECASE)


def amounts_said(text: str) -> set[Decimal]:
    """Dollar amounts in a text: "$1,234.50", "42 dollars", "USD 42.5"."""
    return {Decimal(next(g for g in m.groups() if g).replace(",", "")) for m in _MONEY.finditer(text)}


@dataclass(frozen=True)
class AnswerBounds:
    task_amounts: frozenset[Decimal]
    must_not_say: tuple[str, ...]

    @classmethod
    def of(cls, said: list[str], initial: Snapshot, gold: Snapshot, must_not_say: list[str]) -> AnswerBounds:
        """From the reference's messages and the cells it writes. Not from what its look-ups
        return: a search shows every fare of the day, and listing them all is a hedge."""
        amounts: set[Decimal] = set()
        for text in said:
            amounts |= amounts_said(text)
        for change in diff(initial, gold):
            for column, value in (change.after or {}).items():
                written = change.before is None or change.before[column] != value
                if written and column.endswith("_cents") and isinstance(value, int):
                    amounts.add(Decimal(value) / 100)
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
