"""The user side of a conversation: who answers when the agent writes text instead of calling a tool.

A user is anything with `opening() -> str` and `respond(agent_text, conversation) -> UserTurn`
(each sync or async). `ScriptedUser` is deterministic and offline; `SimulatedUser` (simulator.py)
is a model-based simulator that plays the user through a policy spec such as `openai:MODEL`. The tool-env base (`agentgym.environments.base.ToolEnv`) asks its user
whenever a turn ends in text; `UserTurn.done` ends the episode.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from agentgym.core.types import Message
from agentgym.users.scripted import ScriptedUser
from agentgym.users.simulator import SimulatedUser, UserSimulatorError, simulator_policy


@dataclass(frozen=True)
class UserTurn:
    """What the user says back, and whether the conversation is over for them."""

    text: str
    done: bool = False


@runtime_checkable
class User(Protocol):
    def opening(self) -> Any:
        """The user's first message (the task as the user would put it), or a coroutine giving it."""
        ...

    def respond(self, agent_text: str, conversation: list[Message]) -> Any:
        """A `UserTurn` (or a coroutine giving one) answering the agent's message."""
        ...


async def opening(user: User) -> str:
    """The user's first message, awaiting it if it is async."""
    result = user.opening()
    if inspect.isawaitable(result):
        result = await result
    if not isinstance(result, str):
        raise TypeError(f"a user opens with a str, not {type(result).__name__}")
    return result


async def respond(user: User, agent_text: str, conversation: list[Message]) -> UserTurn:
    """Ask `user` for its answer, awaiting it if it is async; a (text, done) tuple is accepted."""
    result = user.respond(agent_text, conversation)
    if inspect.isawaitable(result):
        result = await result
    if isinstance(result, tuple):
        result = UserTurn(*result)
    if not isinstance(result, UserTurn):
        raise TypeError(f"a user responds with a UserTurn, not {type(result).__name__}")
    return result


__all__ = ["User", "UserTurn", "ScriptedUser", "SimulatedUser", "UserSimulatorError", "simulator_policy", "opening", "respond"]
