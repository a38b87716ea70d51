"""The Policy protocol: what users plug in.

A policy is anything with `act(observation, tools) -> Action` (sync or async) and a `name`.
It may also define `begin(task, seed, sample)`, called before each episode. Only the oracle
receives the whole task there; every other policy gets `task.public_view()` (id, family,
prompt), what an agent may know.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol, runtime_checkable

from agentgym.core.types import Action, Observation, Task, ToolSpec


@runtime_checkable
class Policy(Protocol):
    name: str

    def act(self, observation: Observation, tools: list[ToolSpec]) -> Any:
        """Return an `Action` (or a coroutine that gives one)."""
        ...


async def act(policy: Policy, observation: Observation, tools: list[ToolSpec]) -> Action:
    """Call `policy.act`, awaiting it if it is async, and coerce what comes back to an Action."""
    result = policy.act(observation, tools)
    if inspect.isawaitable(result):
        result = await result
    return Action.coerce(result)


def is_privileged(policy: object) -> bool:
    """Whether a policy may see hidden task data: only the built-in oracle (declared, not guessed
    from an attribute a user's class could set)."""
    from agentgym.policies.oracle import OraclePolicy

    return isinstance(policy, OraclePolicy)


async def begin(policy: Policy, task: Task, seed: int | None, sample: int, **extra: Any) -> None:
    """Call the optional `begin` hook (`extra`, e.g. the env, only for privileged policies)."""
    hook = getattr(policy, "begin", None)
    if hook is not None:
        result = hook(task, seed, sample, **extra)
        if inspect.isawaitable(result):
            await result
