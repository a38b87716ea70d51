"""`swe/Mutants-v1`: fix a bug in a real Python project inside a sandbox.

Reset builds (or finds in the cache) the task's environment, starts a sandbox whose workspace
has the built environment as its lowest read-only layer, and writes the task's base state on
top. Step rewards (default on) are the change in the fraction of FAIL_TO_PASS tests that pass,
checked in a fresh sandbox after each step that may have changed files.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agentgym.core.env import Env
from agentgym.core.types import Message, Reward, Task
from agentgym.environments.base import CallResult, ToolEnv, Turn
from agentgym.environments.swe.build import build_environment
from agentgym.environments.swe.editor import REPO_DIR
from agentgym.environments.swe.runner import shell_env
from agentgym.environments.swe.schema import SWETask, load_tasks
from agentgym.environments.swe.tools import Workbench, swe_toolbox
from agentgym.environments.swe.verify import DEPS_DIR, SWEVerifier
from agentgym.sandbox import Sandbox, create

SYSTEM_PROMPT = """\
You are a software engineer fixing a bug in a Python repository at {repo}.
Tools: `bash` (a shell in the repository; `python -m pytest` works there), `str_replace_editor`
(view, create and edit files), `search` (grep over the repository) and `submit`.
Find the cause, change the library code (not the tests), check your fix by running the tests,
then call `submit`. There is no network access."""

class SWEEnv(ToolEnv):
    """Repository-level bug fixing, scored by the project's own (and hidden) tests."""

    no_call_reply = "Please continue by calling one of the tools; call `submit` when the fix is done."
    fork_shared = ("toolbox", "verifier")  # the verifier's cache of test runs is shared on purpose
    fork_resources = ("sandbox", "bench")

    def __init__(
        self,
        tasks: list[Task] | str | Path | None = None,
        tasks_path: str | Path | None = None,
        max_steps: int = 50,
        step_rewards: bool = True,
        backend: str = "bwrap",
        image: str | None = None,
        limits: dict[str, Any] | None = None,
        max_output_chars: int = 16_000,
    ):
        if tasks is None or isinstance(tasks, (str, Path)):  # a task file (or dir); default: shipped
            tasks = load_tasks(tasks if tasks is not None else tasks_path)
        super().__init__(tasks, max_steps=max_steps, toolbox=swe_toolbox())
        self.step_rewards = step_rewards
        self.sandbox_options: dict[str, Any] = {"backend": backend, "image": image, "limits": limits}
        self.max_output_chars = max_output_chars
        self.sandbox: Sandbox | None = None
        self.bench: Workbench | None = None
        self.verifier: SWEVerifier | None = None
        self.f2p_fraction = 0.0

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        assert isinstance(task, SWETask), "SWEEnv needs SWETask tasks"
        await self.close()
        built = await asyncio.to_thread(build_environment, task.data.environment, task.id)
        self.verifier = SWEVerifier(task, built, self.sandbox_options)
        self.sandbox = await create(workspace=str(built.root), **self.sandbox_options)
        await self.verifier.write_base(self.sandbox)
        variables = shell_env(REPO_DIR, DEPS_DIR, built.pythonpath)
        self.bench = Workbench.on(self.sandbox, variables, self.max_output_chars)
        self.f2p_fraction = 0.0  # FAIL_TO_PASS tests fail on the base state by definition
        return [
            Message(role="system", content=SYSTEM_PROMPT.format(repo=REPO_DIR)),
            Message(role="user", content=task.prompt),
        ]

    def tool_context(self) -> dict[str, Any]:
        return {"bench": self.bench}

    def ends_episode(self, result: CallResult) -> bool:
        return result.ok and result.call.name == "submit"

    async def step_reward(self, turn: Turn) -> Reward:
        assert self.bench is not None and self.verifier is not None
        if not (self.step_rewards and self.bench.changed):
            return Reward(value=0.0, source="swe_step")
        self.bench.changed = False
        fraction = await self.verifier.f2p_fraction(self.sandbox)
        reward = Reward(value=fraction - self.f2p_fraction, components={"fail_to_pass": fraction},
                        explanation=f"{fraction:.0%} of FAIL_TO_PASS tests pass", source="swe_step")
        self.f2p_fraction = fraction
        return reward

    async def score(self) -> Reward:
        assert self.verifier is not None and self.sandbox is not None
        return await self.verifier.score(self.sandbox)

    async def _fork_state(self, child: Env) -> None:
        assert isinstance(child, SWEEnv) and self.sandbox is not None and self.bench is not None
        child.sandbox = await self.sandbox.fork()
        child.bench = self.bench.forked(child.sandbox)

    def extras(self) -> dict[str, Any]:
        if self.task is None:
            return {}
        return {"repo": self.task.data.repo, "instance_id": self.task.id, "workdir": REPO_DIR}

    async def close(self) -> None:
        sandbox, self.sandbox, self.bench = self.sandbox, None, None
        if sandbox is not None:
            await sandbox.close()
