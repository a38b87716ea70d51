"""Per-episode state for policies that one runner shares between concurrent episodes.

`begin()` and `act()` of one episode run in the same asyncio task (or in tasks created from it),
so a ContextVar keeps concurrent episodes apart. The last value set is kept as a fallback for
callers that drive one episode from several `asyncio.run` calls (the sync gym facade).
"""

from __future__ import annotations

import itertools
from contextvars import ContextVar
from typing import Generic, TypeVar

from agentgym.core.errors import UserInputError
from agentgym.core.types import Observation

T = TypeVar("T")
_slot_ids = itertools.count()


class EpisodeSlot(Generic[T]):
    """Holds one value per episode for one policy instance."""

    def __init__(self, owner: str):
        self._owner = owner
        self._var: ContextVar[T | None] = ContextVar(f"agentgym_episode_{next(_slot_ids)}")
        self._last: T | None = None

    def set(self, value: T) -> None:
        self._var.set(value)
        self._last = value

    def peek(self) -> T | None:
        return self._var.get(self._last)

    def get(self) -> T:
        value = self.peek()
        if value is None:
            raise UserInputError(
                f"{self._owner} needs begin(task, seed, sample) before act(): it acts per task"
            )
        return value


def turn_index(observation: Observation) -> int:
    """How many actions the agent has taken so far: the assistant messages in the history.

    Deriving the position from the observation (not a counter) keeps replays right in forked envs.
    """
    return sum(1 for m in observation.messages if m.role == "assistant")
