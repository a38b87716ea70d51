"""The smallest complete agentgym env: reach a target number by calling `add`.

    python examples/counter_env.py        # runs the oracle and a do-nothing agent on it

Tools are typed functions; the env keeps its state in `tool_context()`, pays a step reward for
progress and scores the outcome. The base (`ToolEnv`) does the rest: reading tool calls, running
them, reporting mistakes to the agent, the step-reward contract, seeding, fork.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

import agentgym
from agentgym.core.types import Action, Message, Reward, Task
from agentgym.environments.base import ToolEnv, Turn
from agentgym.tools import Toolbox, tool


@tool
def add(n: Annotated[int, Field(ge=-10, le=10)], *, state: dict) -> str:
    """Add n to the counter.

    Args:
        n: How much to add, between -10 and 10.
    """
    state["value"] += n
    return f"counter is now {state['value']}"


TASKS = [Task(id=f"reach-{t}", family="counter", prompt=f"Make the counter reach {t}.",
              reference=[Action(tool_calls=[{"name": "add", "arguments": {"n": t}}]), Action(content="Done.")])
         for t in range(1, 6)]


class CounterEnv(ToolEnv):
    toolbox = Toolbox([add])
    no_call_reply = None  # no user here: plain text is the agent's last word and ends the episode

    def __init__(self, tasks: list[Task] | None = None, max_steps: int = 10):
        super().__init__(tasks or TASKS, max_steps=max_steps)
        self.state = {"value": 0}

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        self.state = {"value": 0}
        return [Message(role="system", content="Use the add tool."), Message(role="user", content=task.prompt)]

    def tool_context(self) -> dict:
        return {"state": self.state}

    async def step_reward(self, turn: Turn) -> Reward:  # progress towards the target, paid once
        target = int(self.task.id.split("-")[1])
        progress = max(0.0, 1 - abs(target - self.state["value"]) / target)
        return Reward(value=progress - self.paid, components={"progress": progress})

    async def score(self) -> Reward:
        target = int(self.task.id.split("-")[1])
        ok = self.state["value"] == target
        return Reward(value=float(ok), explanation="" if ok else f"counter is {self.state['value']}")


if __name__ == "__main__":
    import asyncio

    from agentgym.conformance import run_checks

    spec = agentgym.register("counter/Counter-v0", CounterEnv, override=True)
    for result in asyncio.run(run_checks(spec)):
        print(f"{result.status:5} {result.name:12} {result.detail}")
