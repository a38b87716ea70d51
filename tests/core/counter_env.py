"""A tiny env for testing the framework itself: reach a target number by calling `add`.

Registered by tests as `test/Counter-v0`. Its state is a plain integer, so fork, step rewards
and truncation can be checked without any of the real families.
"""

from __future__ import annotations

from agentgym.core.env import Env
from agentgym.core.errors import SandboxError
from agentgym.core.types import Action, Message, Reward, Task, ToolSpec
from agentgym.tools import Toolbox, ToolCallError, parse_tool_calls, tool


@tool
def add(n: int, *, state: dict) -> str:
    """Add n to the counter.

    Args:
        n: How much to add, between -10 and 10.
    """
    if not -10 <= n <= 10:
        raise ToolCallError("n must be between -10 and 10")
    state["value"] += n
    return f"counter is now {state['value']}"


def counter_tasks(count: int = 5) -> list[Task]:
    return [
        Task(
            id=f"reach-{t}", family="test", prompt=f"Make the counter reach {t}.",
            data={"target": t},
            reference=[Action(tool_calls=[{"id": "c0", "name": "add", "arguments": {"n": t}}]),
                       Action(content="done")],
        )
        for t in range(1, count + 1)
    ]


class CounterEnv(Env):
    """The counter starts at 0; the outcome is 1 when it equals the task's target."""

    def __init__(self, tasks: list[Task] | None = None, max_steps: int = 10, crash_on_step: int | None = None):
        super().__init__(tasks or counter_tasks(), max_steps=max_steps)
        self.toolbox = Toolbox([add])
        self.crash_on_step = crash_on_step
        self.state = {"value": 0}
        self.closed = 0

    @property
    def tools(self) -> list[ToolSpec]:
        return self.toolbox.specs

    def _progress(self) -> float:
        target = self.task.data["target"]
        return 1.0 - min(1.0, abs(target - self.state["value"]) / target)

    async def _reset(self, task: Task, seed: int | None) -> list[Message]:
        self.state = {"value": 0}
        return [Message(role="system", content="Use add."), Message(role="user", content=task.prompt)]

    async def _step(self, action: Action):
        if self.crash_on_step is not None and self.steps_taken == self.crash_on_step:
            raise SandboxError("the sandbox died")
        before = self._progress()
        parsed = parse_tool_calls(action)
        out = [Message(role="assistant", content=parsed.text, tool_calls=parsed.calls)]
        for call in parsed.calls:
            msg, _ = await self.toolbox.call(call, state=self.state)
            out.append(msg)
        for problem in parsed.problems:
            out.append(Message(role="user", content=f"Tool call error: {problem}"))
        terminated = not parsed.calls and not parsed.problems
        reward = Reward(value=self._progress() - before, components={"progress": self._progress()})
        return out, reward, terminated

    async def score(self) -> Reward:
        ok = self.state["value"] == self.task.data["target"]
        return Reward(value=float(ok), components={"value": self.state["value"]},
                      explanation="" if ok else f"counter is {self.state['value']}", source="counter")

    async def _fork_state(self, child: Env) -> None:
        child.state = dict(self.state)

    async def close(self) -> None:
        self.closed += 1
