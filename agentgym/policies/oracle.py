"""The oracle: acts out a task's reference solution, to check that tasks are solvable.

The env may offer a solver (`Env.reference_solver(task)`, an object with `act(observation,
tools)`), which the runner hands over through `begin(..., env=env)`; a plugin's env works the same
as a built-in one. Otherwise `task.reference`, a list of actions, is replayed in order, and once it
is used up the oracle closes with a short message.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentgym.core.errors import UserInputError
from agentgym.core.types import Action, Observation, Task, ToolSpec
from agentgym.policies._episode import EpisodeSlot, turn_index

CLOSING_MESSAGE = "I have completed the task."


@dataclass
class _Plan:
    task_id: str
    solver: Any | None  # a family's reference solver, or None to replay `actions`
    actions: list[Action]


class OraclePolicy:
    """Replays the reference solution of whichever task `begin()` was given."""

    def __init__(self, solver: Callable[[Task, int | None], Any] | None = None) -> None:
        """`solver(task, seed)`, when given, acts instead of the env's reference solver (for
        demonstrations from a teacher other than the reference)."""
        self.name = "oracle"
        self._solver = solver
        self._plan: EpisodeSlot[_Plan] = EpisodeSlot(self.name)

    def begin(self, task: Task, seed: int | None, sample: int, env: Any = None) -> None:
        if self._solver is not None:
            solver = self._solver(task, seed)
        else:
            solver = env.reference_solver(task) if env is not None else None
        if solver is None and not task.reference:
            raise UserInputError(
                f"task {task.id!r} has no reference solution, so the oracle cannot act on it"
            )
        self._plan.set(_Plan(task.id, solver, list(task.reference or [])))

    async def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        plan = self._plan.get()
        if plan.solver is not None:
            result = plan.solver.act(observation, tools)
            if inspect.isawaitable(result):
                result = await result
            return Action.coerce(result)
        turn = turn_index(observation)
        if turn < len(plan.actions):
            return plan.actions[turn].model_copy(deep=True)
        return Action(content=CLOSING_MESSAGE)
