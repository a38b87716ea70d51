"""An env whose agent works in a sandbox: write a script that prints the task's answer.

    python examples/sandbox_env.py        # runs agentgym's checks on it (needs bubblewrap)

The sandbox is a live resource: it is made in `_start`, copied in `_fork_state` (a fork of its
files, whatever their size) and closed in `close`. The outcome runs the agent's script in a
fresh process and reads what it printed; the agent's own claims count for nothing.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

import agentgym
from agentgym.core.types import Action, Message, Reward, Task
from agentgym.environments.base import ToolEnv
from agentgym.sandbox import Sandbox, create
from agentgym.tools import Toolbox, tool


@tool
async def bash(command: Annotated[str, Field(min_length=1)], *, sandbox: Sandbox) -> str:
    """Run a shell command in /workspace.

    Args:
        command: The command line.
    """
    result = await sandbox.exec(command, timeout=30, cwd="/workspace")
    return f"{result.output}\n[exit code {result.exit_code}]"


def task(i: int, a: int, b: int) -> Task:
    script = f"print({a} * {b})"
    return Task(id=f"mul-{i}", family="sandboxed", prompt=f"Write /workspace/answer.py printing {a} times {b}.",
                data={"expected": str(a * b)},
                reference=[Action(tool_calls=[{"name": "bash", "arguments": {"command": f"echo '{script}' > answer.py"}}]),
                           Action(content="Done.")])


class ScriptEnv(ToolEnv):
    toolbox = Toolbox([bash])
    no_call_reply = None  # text is the agent's last word
    fork_resources = ("sandbox",)

    def __init__(self, backend: str = "bwrap", max_steps: int = 10):
        super().__init__([task(0, 6, 7), task(1, 12, 12)], max_steps=max_steps)
        self.backend, self.sandbox = backend, None

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        await self.close()
        self.sandbox = await create(backend=self.backend)
        return [Message(role="user", content=task.prompt)]

    def tool_context(self) -> dict:
        return {"sandbox": self.sandbox}

    async def _fork_state(self, child: ScriptEnv) -> None:
        child.sandbox = await self.sandbox.fork()

    async def score(self) -> Reward:
        run = await self.sandbox.exec(["python3", "/workspace/answer.py"], timeout=30)
        printed = run.stdout.strip()
        ok = run.exit_code == 0 and printed == self.task.data["expected"]
        return Reward(value=float(ok), explanation=f"the script printed {printed[:80]!r}")

    async def close(self) -> None:
        sandbox, self.sandbox = self.sandbox, None
        if sandbox is not None:
            await sandbox.close()


if __name__ == "__main__":
    import asyncio

    from agentgym.conformance import run_checks

    spec = agentgym.register("example/Script-v0", ScriptEnv, override=True)
    for result in asyncio.run(run_checks(spec)):
        print(f"{result.status:5} {result.name:12} {result.detail}")
