"""The answer key of an airline task (see verifiers/answers.py): the facts the agent must tell
the user, the claims it must not make, and the amounts the task justifies, which bound how many
amounts an answer may hold.

The task's amounts are what the reference says and the cells it writes (a refund, a new
certificate), fixed by the task, never by what the agent does. Unlike retail, not what its
look-ups return: a flight search shows every fare of the day, and listing them all in answer to
"what is the lowest fare?" is a hedge.
"""

from __future__ import annotations

from decimal import Decimal

from agentgym.environments.tooluse.airline.tasks import AirlineTask
from agentgym.verifiers.answers import Amount, AnswerKey, Phrase, money_mentions
from agentgym.verifiers.state_diff import Snapshot, diff


def written_amounts(initial: Snapshot, gold: Snapshot) -> set[Decimal]:
    """Cent amounts in the cells the reference writes (inserted rows, changed cells), in dollars."""
    found = set()
    for change in diff(initial, gold):
        for column, value in (change.after or {}).items():
            written = change.before is None or change.before[column] != value
            if written and column.endswith("_cents") and isinstance(value, int):
                found.add(Decimal(value) / 100)
    return found


def answer_key(task: AirlineTask, initial: Snapshot, gold: Snapshot) -> AnswerKey:
    facts: list[Phrase | Amount] = [Amount.of(a) for a in task.data.required_amounts]
    for output in task.data.required_outputs:
        facts.append(Phrase((output,)) if isinstance(output, str) else Phrase(tuple(output.any_of), tuple(output.not_with)))
    amounts = written_amounts(initial, gold)
    for action in task.reference:
        amounts |= {m.value for m in money_mentions(action.content or "")}
    return AnswerKey(tuple(facts), frozenset(amounts), tuple(task.data.must_not_say))
