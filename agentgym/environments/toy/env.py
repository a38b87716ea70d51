"""`toy/Lookup-v0` and `toy/LookupChain-v0`: look facts up with the tool the request asks for,
then `answer` with the value. Built on the shared ToolEnv turn loop.

The facts (colours, owners...) are drawn from the episode's seed. Each env supplies `state_key()`: the facts revealed so far. Episodes of one task that reach the
same key are in the same state (GiGPO's anchor states), whatever order or detours led there.
Scoring: the episode must end with `answer(value)` equal to the fact asked for; one answer per
episode, so hedging over values is impossible, and doing nothing scores 0.
"""

from __future__ import annotations

from typing import Any

from agentgym.core.types import Message, Reward, Task
from agentgym.environments.base import CallResult, ToolEnv
from agentgym.environments.toy.world import (
    ReferenceSolver,
    answer_for,
    chain_tasks,
    lookup_tasks,
    world_for,
)
from agentgym.tools import Toolbox, ToolCallError, tool

SYSTEM = "answer the request with the tools ."


def _fact(table: str, key: str, attr: str, kind: str, state: dict) -> str:
    row = getattr(state["world"], table).get(key.strip().lower())
    if row is None:
        raise ToolCallError(f"unknown {kind} {key!r}")
    state["revealed"].add(f"{attr}({key.strip().lower()})")
    return row[attr]


def _item_tool(attr: str):
    def lookup(item: str, *, state: dict) -> str:
        return _fact("items", item, attr, "item", state)

    lookup.__doc__ = f"The {attr} of an item.\n\nArgs:\n    item: The item's name.\n"
    lookup.__name__ = attr
    return tool(lookup)


def _person_tool(attr: str):
    def lookup(person: str, *, state: dict) -> str:
        return _fact("people", person, attr, "person", state)

    lookup.__doc__ = f"The {attr} of a person.\n\nArgs:\n    person: The person's name.\n"
    lookup.__name__ = attr
    return tool(lookup)


@tool
def answer(value: str, *, state: dict) -> str:
    """Give the final answer; this ends the episode.

    Args:
        value: The fact that was asked for.
    """
    state["answer"] = value.strip().lower()
    return "ok"


ITEM_TOOLS = [_item_tool(a) for a in ("color", "size", "owner", "material")]
PERSON_TOOLS = [_person_tool(a) for a in ("home", "age", "job")]


class LookupEnv(ToolEnv):
    """One lookup then the answer."""

    toolbox = Toolbox([*ITEM_TOOLS, answer])
    no_call_reply = "please call a tool ."
    max_calls_per_turn = 1  # one call per step: steps are the unit step-level credit works on
    parse_hint = 'write <tool_call>{"name": ..., "arguments": {...}}</tool_call> .'

    def __init__(
        self, tasks: list[Task] | None = None, max_steps: int = 3, split: str | None = None
    ):
        tasks = tasks or self.default_tasks()
        if split is not None:
            tasks = [t for t in tasks if t.data.get("split") == split]
        super().__init__(tasks, max_steps=max_steps)
        self.state: dict[str, Any] = {"revealed": set(), "answer": None, "world": None}

    @staticmethod
    def default_tasks() -> list[Task]:
        return lookup_tasks()

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        # the facts come from the seed: answers cannot be memorised across episodes
        self.state = {"revealed": set(), "answer": None, "world": world_for(task, seed or 0)}
        return [Message(role="system", content=SYSTEM), Message(role="user", content=task.prompt)]

    def tool_context(self) -> dict[str, Any]:
        return {"state": self.state}

    def ends_episode(self, result: CallResult) -> bool:
        return result.ok and result.call.name == "answer"

    def reference_solver(self, task: Task) -> ReferenceSolver:
        return ReferenceSolver(task)

    def state_key(self) -> str:
        answered = self.state["answer"]
        return "|".join(sorted(self.state["revealed"])) + (f"=>{answered}" if answered else "")

    async def score(self) -> Reward:
        expected = answer_for(self.task, self.state["world"])
        given = self.state["answer"]
        ok = given == expected
        why = "" if ok else ("no answer given" if given is None else f"answered {given!r}")
        return Reward(
            value=float(ok),
            components={"correct": float(ok)},
            explanation=why,
            source=type(self).__name__,
        )


class LookupChainEnv(LookupEnv):
    """Two lookups (the item's owner, then the owner's fact) then the answer."""

    toolbox = Toolbox([*ITEM_TOOLS, *PERSON_TOOLS, answer])

    def __init__(
        self, tasks: list[Task] | None = None, max_steps: int = 5, split: str | None = None
    ):
        super().__init__(tasks, max_steps=max_steps, split=split)

    @staticmethod
    def default_tasks() -> list[Task]:
        return chain_tasks()
