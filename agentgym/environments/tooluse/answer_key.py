"""The answer key of a retail task: the facts the agent must tell the user, and the amounts the
task can justify, which bound how many amounts an answer may hold (see verifiers/answers.py).

The task's amounts are fixed by the task, never by what the agent does: the amounts that the
reference solution's look-ups return (the rows the task is about), the amounts its messages say,
and the amounts it writes (a refund row, a new gift card balance).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from agentgym.core.types import Message
from agentgym.environments.tooluse.tasks import RetailTask
from agentgym.verifiers.answers import Amount, AnswerKey, Phrase, money_mentions
from agentgym.verifiers.state_diff import Snapshot, diff

#: keys under which the retail tools return dollar amounts (tools.py)
MONEY_KEYS = frozenset({"price", "amount", "balance"})


def _amounts_in(value: Any) -> set[Decimal]:
    """Dollar amounts in a decoded tool result, found by key."""
    found: set[Decimal] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in MONEY_KEYS and isinstance(inner, int | float) and not isinstance(inner, bool):
                found.add(Decimal(f"{inner:.2f}"))
            else:
                found |= _amounts_in(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _amounts_in(inner)
    return found


def tool_result_amounts(message: Message) -> set[Decimal]:
    try:
        return _amounts_in(json.loads(message.content or ""))
    except json.JSONDecodeError:
        return set()  # a plain string result (a user id, "Transfer successful")


def written_amounts(initial: Snapshot, gold: Snapshot) -> set[Decimal]:
    """Cent amounts in the rows the reference inserts or changes, in dollars."""
    return {Decimal(value) / 100 for change in diff(initial, gold) if change.after
            for column, value in change.after.items() if column.endswith("_cents") and isinstance(value, int)}


def answer_key(task: RetailTask, reference_results: list[Message], initial: Snapshot, gold: Snapshot) -> AnswerKey:
    """The key of `task`, given the tool results of its reference replay and its databases."""
    facts: list[Phrase | Amount] = [Amount.of(a) for a in task.data.required_amounts]
    for output in task.data.required_outputs:
        facts.append(Phrase((output,)) if isinstance(output, str) else Phrase(tuple(output.any_of), tuple(output.not_with)))
    amounts = written_amounts(initial, gold)
    for message in reference_results:
        amounts |= tool_result_amounts(message)
    for action in task.reference:
        amounts |= {m.value for m in money_mentions(action.content or "")}
    return AnswerKey(tuple(facts), frozenset(amounts), tuple(task.data.must_not_say))
