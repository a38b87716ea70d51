"""The async environment base that the framework drives.

Subclasses implement `_reset` and `_step`, and `score` for the outcome. The base counts steps,
truncates at `max_steps`, and attaches the outcome reward to the final step's info, so every env
ends the same way whatever its family. It also keeps the step-reward contract: the final step's
reward is the outcome minus the rewards already paid, so step rewards always sum to the outcome.
"""

from __future__ import annotations

import abc
import copy
from typing import Any

from agentgym.core.types import Action, Message, Observation, Reward, StepResult, Task, ToolSpec


class Env(abc.ABC):
    """An episode at a time: `reset`, then `step` until terminated or truncated, then `close`."""

    env_id: str = ""
    #: tasks this env can be reset to, by id (reset(options={"task_id": ...}) picks one)
    tasks: dict[str, Task]

    def __init__(self, tasks: list[Task], max_steps: int = 30):
        if not tasks:
            raise ValueError(f"{type(self).__name__} needs at least one task")
        self.tasks = {t.id: t for t in tasks}
        self.max_steps = max_steps
        self.task: Task | None = None
        self.steps_taken = 0
        self.messages: list[Message] = []
        self.done = False
        self.paid = 0.0  # step rewards paid so far this episode

    # ---- what subclasses write -----------------------------------------------------------------

    @property
    @abc.abstractmethod
    def tools(self) -> list[ToolSpec]:
        """The tools the agent may call in this env."""

    @abc.abstractmethod
    async def _reset(self, task: Task, seed: int | None) -> list[Message]:
        """Prepare fresh state for `task`; return the opening messages."""

    @abc.abstractmethod
    async def _step(self, action: Action) -> tuple[list[Message], Reward, bool]:
        """Apply one action; return (new messages, step reward, terminated)."""

    @abc.abstractmethod
    async def score(self) -> Reward:
        """Verify the episode as it stands now (outcome reward). Raises if it cannot."""

    async def _fork_state(self, child: Env) -> None:
        """Give `child` an independent copy of live state (db, sandbox, browser). Optional."""
        raise NotImplementedError(f"{type(self).__name__} does not support fork()")

    async def close(self) -> None:
        """Release resources. Safe to call twice."""

    def extras(self) -> dict[str, Any]:
        """Structured extras shown to the agent beside the messages (never hidden data)."""
        return {}

    # ---- the contract the framework drives -----------------------------------------------------

    def pick_task(self, seed: int | None, options: dict[str, Any] | None) -> Task:
        task_id = (options or {}).get("task_id")
        if task_id is not None:
            if task_id not in self.tasks:
                from agentgym.core.errors import UserInputError

                raise UserInputError(f"{self.env_id or type(self).__name__} has no task {task_id!r}")
            return self.tasks[task_id]
        ids = sorted(self.tasks)
        return self.tasks[ids[(seed or 0) % len(ids)]]

    async def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        self.task = self.pick_task(seed, options)
        self.steps_taken = 0
        self.done = False
        self.paid = 0.0
        self.messages = list(await self._reset(self.task, seed))
        return self.observation(), {"task_id": self.task.id}

    async def step(self, action: Action | str | dict[str, Any]) -> StepResult:
        if self.task is None:
            raise RuntimeError("call reset() before step()")
        if self.done:
            raise RuntimeError("the episode has ended; call reset()")
        # the env works on its own copy, and the history keeps another: an env that holds on to
        # (and later changes) the arguments it was given cannot rewrite what the agent was shown
        action = Action.coerce(action).model_copy(deep=True)
        n_before = len(self.messages)
        new_messages, reward, terminated = await self._step(action)
        self.messages.extend(copy.deepcopy(new_messages))
        self.steps_taken += 1
        truncated = not terminated and self.steps_taken >= self.max_steps
        info: dict[str, Any] = {"task_id": self.task.id, "new_messages": len(self.messages) - n_before}
        if terminated or truncated:
            self.done = True
            outcome = await self.score()
            info["outcome"] = outcome.model_dump()
            # the last step carries what the earlier ones did not pay: the sum is the outcome
            reward = reward.model_copy(update={"value": outcome.value - self.paid})
        self.paid += reward.value
        return StepResult(
            observation=self.observation(),
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            info=info,
        )

    def observation(self) -> Observation:
        return Observation(messages=copy.deepcopy(self.messages), extras=self.extras())

    async def fork(self) -> Env:
        """An independent copy of this env mid-episode: same task, history and state."""
        child = copy.copy(self)
        child.messages = copy.deepcopy(self.messages)
        await self._fork_state(child)
        return child

    async def __aenter__(self) -> Env:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
