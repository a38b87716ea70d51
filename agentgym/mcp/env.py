"""An env whose tools are any MCP server's: a command spawned for each episode, or a URL.

    env = MCPEnv(server="python notes_server.py", tasks="tasks.jsonl",
                 verifier={"name": "mcp_state", "tool": "export_notes"}, hide_tools=["export_notes"])

Every episode opens a fresh connection (a new server process for a command, a new session for a
URL), runs the task's `setup` calls, and offers the agent the server's tools, minus `hide_tools`
(tools only the verifier uses). Text without a tool call is the agent's last word and ends the
episode. The score comes from `verifier` (a registry spec, or `mcp_state`) or `check` (a function of
the env) when one is given, else from each task's own verifier spec. `close()` ends the server
process.

A command's server keeps nothing between episodes. A URL's server is shared: whether its state is
per session is up to it (give tasks a `setup` call that resets it if it is not).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentgym.core.errors import AgentgymError, UserInputError, VerifierError
from agentgym.core.taskfile import field_problems, read_tasks
from agentgym.core.types import Action, Episode, Message, Reward, Step, Task, ToolSpec
from agentgym.environments.base import ToolEnv
from agentgym.mcp.client import MCPConnection, ServerAddress
from agentgym.mcp.remote import render_result, result_data, toolbox_from
from agentgym.mcp.verify import Check, build_verifier, load_check, run_check
from agentgym.tools import Toolbox, ToolCallError
from agentgym.verifiers.base import Verifier, score_episode

DEFAULT_SYSTEM_PROMPT = ("Complete the task with the tools you are given. When you are done, reply "
                         "with a short final message and no tool call: that ends the episode.")


class SetupCall(BaseModel):
    """A tool call run before the agent starts (the state the task begins from); not shown."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class MCPTaskData(BaseModel):
    """What an MCP task needs besides its prompt. Other fields are kept for the task's checks."""

    model_config = ConfigDict(extra="allow")

    setup: list[SetupCall] = Field(default_factory=list)
    #: the end state `mcp_state` compares with what the state tool returns
    expected_state: Any = None


class MCPTask(Task):
    data: MCPTaskData = Field(default_factory=MCPTaskData)


def load_mcp_tasks(tasks: str | Path | Iterable[Task | Mapping[str, Any]]) -> list[MCPTask]:
    """Tasks from a task file (JSONL, through `read_tasks`) or given as Task objects or dicts."""
    if isinstance(tasks, (str, Path)):
        return read_tasks(tasks, MCPTask)
    loaded = []
    for i, task in enumerate(tasks):
        raw = task.model_dump() if isinstance(task, Task) else task
        try:
            loaded.append(task if isinstance(task, MCPTask) else MCPTask.model_validate(raw))
        except ValidationError as e:
            raise UserInputError(f"task {i}: {field_problems(e)}") from None
    return loaded


class MCPEnv(ToolEnv):
    """The tools of an MCP server, tasks from a task file, a verifier that reads the end state."""

    no_call_reply: ClassVar[str | None] = None  # no user: text is the agent's final answer
    fork_resources = ("connection",)  # a live server process cannot be copied
    toolbox: Toolbox | None = None  # per episode, from the server's own listing

    def __init__(
        self,
        server: str | Sequence[str] | Mapping[str, Any] | ServerAddress,
        tasks: str | Path | Iterable[Task | Mapping[str, Any]],
        verifier: str | dict[str, Any] | Verifier | None = None,
        check: str | Check | None = None,
        hide_tools: Sequence[str] = (),
        system_prompt: str | None = None,
        max_steps: int = 30,
        call_timeout: float = 60.0,
    ):
        super().__init__(load_mcp_tasks(tasks), max_steps=max_steps)
        self.address = ServerAddress.parse(server)
        if verifier is not None and check is not None:
            raise UserInputError("MCPEnv takes a verifier or a check, not both")
        self.verifier = None if verifier is None else build_verifier(verifier)
        self.check = None if check is None else load_check(check)
        self.task_verifiers: dict[str, Verifier] = {}
        if self.verifier is None and self.check is None:  # each task names its own
            self.task_verifiers = {t.id: build_verifier(t.verifier) for t in self.tasks.values() if t.verifier}
            unscored = [t for t in self.tasks if t not in self.task_verifiers]
            if unscored:
                raise UserInputError(f"MCPEnv: nothing scores task(s) {', '.join(unscored[:5])}: give "
                                     "verifier= or check=, or a verifier in each task")
        self.hide_tools = tuple(hide_tools)
        self.system_prompt = DEFAULT_SYSTEM_PROMPT if system_prompt is None else system_prompt
        self.call_timeout = call_timeout
        self.connection: MCPConnection | None = None
        self.steps: list[Step] = []  # this episode so far, as the verifier sees it
        self._seen = 0

    # ---- tools ---------------------------------------------------------------------------------

    @property
    def tools(self) -> list[ToolSpec]:
        if self.toolbox is not None:
            return self.toolbox.specs
        return self._listed_specs()  # before the first reset (gymnasium builds its spaces then)

    def _listed_specs(self) -> list[ToolSpec]:
        """The server's tools, listed once per server (and spec) on a connection of their own.
        It runs on a thread with its own loop, since `tools` is read from sync code and from
        inside running loops alike."""
        key = ("agentgym.mcp.tools", self.address, self.hide_tools)
        if key not in self.shared:
            box: dict[str, Any] = {}

            def list_them() -> None:
                try:
                    box["specs"] = asyncio.run(self._list_specs())
                except BaseException as e:  # handed to the caller below
                    box["error"] = e

            worker = threading.Thread(target=list_them, name="agentgym-mcp-tools", daemon=True)
            worker.start()
            worker.join()
            if "error" in box:
                raise box["error"]
            self.shared[key] = box["specs"]
        return list(self.shared[key])

    async def _list_specs(self) -> list[ToolSpec]:
        connection = MCPConnection(self.address, self.call_timeout)
        try:
            await connection.open()
            return toolbox_from(await connection.list_tools(), self.hide_tools).specs
        finally:
            await connection.close()

    def tool_context(self) -> dict[str, Any]:
        return {"_mcp": self.connection}

    # ---- episodes ------------------------------------------------------------------------------

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        assert isinstance(task, MCPTask)
        await self._disconnect()
        self.connection = MCPConnection(self.address, self.call_timeout)
        self.connection.stop_with(self)
        await self.connection.open()
        self.toolbox = toolbox_from(await self.connection.list_tools(), self.hide_tools)
        for call in task.data.setup:
            try:
                result = await self.connection.call_tool(call.name, call.arguments)
                failed = render_result(result) if result.is_error else None
            except ToolCallError as e:
                failed = str(e)
            if failed is not None:
                raise UserInputError(f"task {task.id!r}: setup call {call.name} failed: {failed}")
        self.steps, self._seen = [], 0
        opening = [Message(role="system", content=self.system_prompt)] if self.system_prompt else []
        return [*opening, Message(role="user", content=task.prompt)]

    async def _step(self, action: Action) -> tuple[list[Message], Reward, bool]:
        shown = self.messages[self._seen:]
        out, reward, ended = await super()._step(action)
        self.steps.append(Step(index=len(self.steps), observation=[m.model_copy(deep=True) for m in shown],
                               action=action.model_copy(deep=True),
                               tool_results=[m.model_copy(deep=True) for m in out if m.role == "tool"],
                               reward=reward.value, reward_components=dict(reward.components)))
        self._seen = len(self.messages)
        return out, reward, ended

    async def read_state(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        """Call a server tool for a verifier (not a step, not shown to the agent): its structured
        result, else its text parsed as JSON, else the text."""
        if self.connection is None or not self.connection.alive:
            raise VerifierError(f"no live connection to the MCP server to read the state with {tool}")
        try:
            result = await self.connection.call_tool(tool, dict(arguments or {}))
        except ToolCallError as e:
            raise VerifierError(f"reading the state with {tool} failed: {e}") from None
        if result.is_error:
            raise VerifierError(f"reading the state with {tool} failed: {render_result(result)}")
        return result_data(result)

    def episode(self) -> Episode:
        """The episode so far as a record (what registry verifiers are given)."""
        assert self.task is not None
        return Episode(env_id=self.env_id or "mcp", task_id=self.task.id, policy="agent",
                       steps=[s.model_copy(deep=True) for s in self.steps])

    async def score(self) -> Reward:
        assert self.task is not None
        try:
            if self.check is not None:
                return await run_check(self.check, self)
            verifier = self.verifier or self.task_verifiers[self.task.id]
            return await score_episode(verifier, self.episode(), self.task, env=self)
        except AgentgymError:
            raise
        except Exception as e:  # the verifier's own failure: never the agent's 0
            raise VerifierError(f"scoring {self.task.id!r} failed: {type(e).__name__}: {e}") from e

    async def _disconnect(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            await connection.close()

    async def close(self) -> None:
        await self._disconnect()
