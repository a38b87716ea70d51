"""The async environment base that the framework drives.

Subclasses implement `_reset` and `_step`, and `score` for the outcome. The base counts steps,
truncates at `max_steps`, and attaches the outcome reward to the final step's info, so every env
ends the same way whatever its family. It also keeps the step-reward contract: the final step's
reward is the outcome minus the rewards already paid, so step rewards always sum to the outcome
(`returns="earned"` keeps the step rewards as they are: the return is what was earned on the way,
and the outcome is still reported).

Before `score()` runs, `end_reason` says why the episode ended: "terminated", "max_steps", or a
reason the env gave when it cut the episode short (`cut_short`), so an env can refuse credit to an
unfinished conversation.
"""

from __future__ import annotations

import abc
import asyncio
import copy
from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypeVar

from agentgym.core.types import Action, Message, Observation, Reward, StepResult, Task, ToolSpec

T = TypeVar("T")
Returns = Literal["outcome", "earned"]
# per-class shared contexts of envs made without a spec (see Env.shared)
_CLASS_CONTEXTS: dict[type, dict[str, Any]] = {}


def _own_copy(item: Any) -> Any:
    """A copy of a message or action that shares nothing mutable with the original: messages are
    frozen and strings immutable, so only tool-call arguments (plain dicts) need copying."""
    if not item.tool_calls:
        return item if isinstance(item, Message) else item.model_copy()
    calls = [c.model_copy(update={"arguments": copy.deepcopy(c.arguments)}) for c in item.tool_calls]
    return item.model_copy(update={"tool_calls": calls})


class Env(abc.ABC):
    """An episode at a time: `reset`, then `step` until terminated or truncated, then `close`."""

    env_id: str = ""
    #: tasks this env can be reset to, by id (reset(options={"task_id": ...}) picks one)
    tasks: dict[str, Task]
    #: on fork, these attributes are shared with the child; everything else is deep-copied...
    fork_shared: ClassVar[tuple[str, ...]] = ()
    #: ...except these live resources (a db, a sandbox, a browser), which `_fork_state` must set
    fork_resources: ClassVar[tuple[str, ...]] = ()
    returns: Returns = "outcome"

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
        self.end_reason: str | None = None
        self._cut: str | None = None
        self._shared: dict[str, Any] | None = None

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
        """Give `child` its own copy of each live resource named in `fork_resources`."""

    async def close(self) -> None:
        """Release resources. Safe to call twice."""

    def extras(self) -> dict[str, Any]:
        """Structured extras shown to the agent beside the messages (never hidden data)."""
        return {}

    def state_key(self) -> str | None:
        """A key equal for two moments of one task exactly when the env is in the same state there
        (GiGPO groups steps by it: agentgym.training); None when the env cannot tell."""
        return None

    def reference_solver(self, task: Task) -> Any | None:
        """A policy-like object (with `act`) that solves `task`, for the oracle; None means the
        oracle replays `task.reference`. Families whose reference is not a fixed action list
        (pages with random ids, say) override this."""
        return None

    # ---- helpers for subclasses ----------------------------------------------------------------

    @property
    def shared(self) -> dict[str, Any]:
        """A context shared by every env made from the same spec (per class otherwise): a place to
        cache expensive task data (gold replays, hashes) once, instead of once per episode."""
        if self._shared is None:
            self._shared = _CLASS_CONTEXTS.setdefault(type(self), {})
        return self._shared

    @shared.setter
    def shared(self, context: dict[str, Any]) -> None:
        self._shared = context

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU-heavy or blocking work (verification, a big diff) off the event loop."""
        return await asyncio.to_thread(fn, *args)

    def cut_short(self, reason: str) -> None:
        """End the episode after the current step as truncated, for `reason` (e.g. a per-turn
        step limit); `end_reason` tells `score()` why."""
        self._cut = reason

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
        self.end_reason = self._cut = None
        self.messages = list(await self._reset(self.task, seed))
        return self.observation(), {"task_id": self.task.id}

    async def step(self, action: Action | str | dict[str, Any]) -> StepResult:
        if self.task is None:
            raise RuntimeError("call reset() before step()")
        if self.done:
            raise RuntimeError("the episode has ended; call reset()")
        # the env works on its own copy, and the history keeps another: an env that holds on to
        # (and later changes) the arguments it was given cannot rewrite what the agent was shown
        action = _own_copy(Action.coerce(action))
        n_before = len(self.messages)
        new_messages, reward, terminated = await self._step(action)
        self.messages.extend(_own_copy(m) for m in new_messages)
        self.steps_taken += 1
        truncated = not terminated and (self.steps_taken >= self.max_steps or self._cut is not None)
        info: dict[str, Any] = {"task_id": self.task.id, "new_messages": len(self.messages) - n_before}
        if terminated or truncated:
            self.done = True
            self.end_reason = "terminated" if terminated else (self._cut or "max_steps")
            info["end_reason"] = self.end_reason
            outcome = await self.score()
            info["outcome"] = outcome.model_dump()
            if self.returns == "outcome":  # the last step carries what the earlier ones did not pay
                reward = reward.model_copy(update={"value": outcome.value - self.paid})
        self.paid += reward.value
        # built from values this method made and checked: no need to validate them again
        return StepResult.model_construct(
            observation=self.observation(), reward=Reward.model_validate(reward),
            terminated=terminated, truncated=truncated, info=info,
        )

    def observation(self) -> Observation:
        # messages are frozen and the history only grows or has items replaced: a new list of the
        # same messages is as safe as a deep copy, without a cost that grows with every step
        return Observation.model_construct(messages=list(self.messages), extras=self.extras())

    async def fork(self) -> Env:
        """An independent copy of this env mid-episode: same task, history and state.

        Attributes named in `fork_shared` (and the task set) are shared; live resources named in
        `fork_resources` are copied by `_fork_state`; everything else is deep-copied, so a child's
        changes never reach its parent."""
        if self.task is None:
            raise RuntimeError("call reset() before fork()")
        if self.fork_resources and type(self)._fork_state is Env._fork_state:
            raise NotImplementedError(f"{type(self).__name__} does not support fork() yet")
        keep = {"tasks", "task", "_shared", *self.fork_shared, *self.fork_resources}
        child = copy.copy(self)
        for name, value in vars(self).items():
            if name not in keep:
                setattr(child, name, copy.deepcopy(value))
        for name in self.fork_resources:
            setattr(child, name, None)
        await self._fork_state(child)
        missing = [n for n in self.fork_resources
                   if getattr(self, n) is not None and getattr(child, n) is None]
        if missing:
            raise NotImplementedError(f"{type(self).__name__}._fork_state left {missing} unset")
        return child

    async def __aenter__(self) -> Env:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
