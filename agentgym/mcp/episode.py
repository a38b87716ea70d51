"""One MCP session's episode of an agentgym env: what `agentgym mcp serve` runs per session.

The client sees what an agent sees and nothing more: the env's tools, the opening messages (the
`get_task` tool, or the `task` prompt), each call's result as the env's own `step` returns it (so
step limits and rewards apply as in any episode), and at the end the verdict (`finish`). Task ids,
task data, the reference, step rewards and the verifier's explanation stay on the server: the
operator gets them in the log and, with `record`, as episode records. Only the verdict's value is
returned by default; its explanation can quote the reference, and a client that read it could replay
the task with the answer in hand (`verdict="full"` is for trusted clients).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from agentgym.core.env import Env
from agentgym.core.errors import InfraError
from agentgym.core.registry import EnvSpec
from agentgym.core.types import (
    Action,
    Episode,
    Message,
    Observation,
    Reward,
    Step,
    ToolCall,
    ToolSpec,
)
from agentgym.rollout.store import EpisodeStore
from agentgym.rollout.versions import current_versions

Verdict = Literal["value", "full", "none"]
NOT_RUN = ("Error:", "Not run:")  # how the tool-env base words a call that failed or was skipped


@dataclass
class ServeOptions:
    task_id: str | None = None  # every session plays this task; else session k plays seed + k
    seed: int = 0
    max_steps: int | None = None
    verdict: Verdict = "value"
    record: str | None = None  # a JSONL file of episode records
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr, flush=True))


@dataclass
class Reply:
    """A tool result for the client: text blocks, whether it is an error, structured data."""

    texts: list[str]
    is_error: bool = False
    data: dict[str, Any] | None = None


def control_specs(finish: str, get_task: str, send_message: str | None) -> list[ToolSpec]:
    message = {"type": "string", "description": "Your message."}
    specs = [
        ToolSpec(name=get_task, description="Read the task: the messages the episode opens with.",
                 parameters={"type": "object", "properties": {}}),
        ToolSpec(name=finish, description="End the episode, with an optional last message, and get "
                 "the verdict. Nothing can be changed afterwards.",
                 parameters={"type": "object", "properties": {"message": message}}),
    ]
    if send_message:
        specs.append(ToolSpec(name=send_message, description="Send a message to the user (no tool "
                              "call); their answer comes back.",
                              parameters={"type": "object", "properties": {"message": message},
                                          "required": ["message"]}))
    return specs


def render_messages(messages: list[Message]) -> str:
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in messages if m.content)


class ServedEpisode:
    """A fresh env for one session, reset on first use and stepped by the client's calls (one at a
    time: concurrent calls of a session wait for each other)."""

    def __init__(self, spec: EnvSpec, options: ServeOptions, number: int, client: str = "client"):
        self.spec, self.options, self.number = spec, options, number
        self.seed = options.seed if options.task_id else options.seed + number
        self.client = client
        self.env: Env | None = None
        self.record: Episode | None = None
        self.names = {"get_task": "get_task", "finish": "finish", "send_message": "send_message"}
        self.lock = asyncio.Lock()
        self.last_used = time.monotonic()
        self.failed = False
        self._observation: Observation | None = None
        self._opening: list[Message] = []
        self._seen = 0
        self._saved = False

    # ---- what the server asks ------------------------------------------------------------------

    async def tool_specs(self) -> list[ToolSpec]:
        async with self.lock:
            if await self._started() is not None:
                return control_specs(self.names["finish"], self.names["get_task"], None)
            assert self.env is not None
            talk = self.names["send_message"] if getattr(self.env, "user", None) is not None else None
            return [*self.env.tools, *control_specs(self.names["finish"], self.names["get_task"], talk)]

    async def task_text(self) -> str:
        async with self.lock:
            failure = await self._started()
            return failure.texts[0] if failure else self._task_reply().texts[0]

    async def call(self, name: str, arguments: dict[str, Any]) -> Reply:
        async with self.lock:
            self.last_used = time.monotonic()
            failure = await self._started()
            if failure is not None:
                return failure
            assert self.env is not None
            if name == self.names["get_task"]:
                return self._task_reply()
            message = arguments.get("message")
            if name in (self.names["finish"], self.names["send_message"]) and not isinstance(message, (str, type(None))):
                return Reply(["Error: message must be a string."], is_error=True)
            if name == self.names["finish"]:
                return await self._finish(message)
            if self.env.done:
                return Reply([f"The episode has ended. Call {self.names['finish']} for the verdict."], True)
            talks = getattr(self.env, "user", None) is not None
            if name == self.names["send_message"] and talks:
                if not message:
                    return Reply(["Error: message is required."], is_error=True)
                return await self._act(Action(content=message))
            call = ToolCall(id=f"call_{self.env.steps_taken}", name=name, arguments=arguments)
            return await self._act(Action(tool_calls=[call]))

    async def close(self) -> None:
        """The session ended: an unfinished episode is scored as it stands ("disconnected")."""
        async with self.lock:
            env, self.env = self.env, None
            if env is None:
                return
            try:
                if not env.done and not self.failed and env.task is not None:
                    env.done, env.end_reason = True, "disconnected"
                    self._ended(await env.score(), "disconnected", truncated=True)
            except Exception as e:
                self._fail(e)
            finally:
                await env.close()

    # ---- the episode ---------------------------------------------------------------------------

    async def _started(self) -> Reply | None:
        """Start the env on first use; a Reply when the episode cannot go on."""
        if self.failed:
            return Reply(["The episode stopped because of a failure on the server's side."], True)
        if self.env is not None:
            return None
        try:
            self.env = env = self.spec.make_async(**self.options.env_kwargs)
            if self.options.max_steps is not None:
                env.max_steps = self.options.max_steps
            task = {"task_id": self.options.task_id} if self.options.task_id else None
            self._observation, info = await env.reset(seed=self.seed, options=task)
        except Exception as e:
            return self._fail(e)
        self._opening = list(self._observation.messages)
        self.record = Episode(env_id=self.spec.id, task_id=info["task_id"], seed=self.seed, sample=self.number,
                              policy=f"mcp:{self.client}", versions=current_versions())
        taken = {t.name for t in env.tools}
        self.names = {role: name if name not in taken else f"agentgym_{name}" for role, name in self.names.items()}
        self.options.log(f"episode {self.number}: {self.spec.id} task {info['task_id']} (seed {self.seed}) "
                         f"for {self.client}")
        return None

    def _task_reply(self) -> Reply:
        assert self.env is not None
        text = render_messages(self._opening)
        extras = self.env.extras()
        if extras:
            text += "\n\n[extras]\n" + json.dumps(extras, sort_keys=True, default=str)
        return Reply([text])

    async def _act(self, action: Action) -> Reply:
        assert self.env is not None and self._observation is not None and self.record is not None
        before, started = len(self._observation.messages), time.time()
        t0 = time.perf_counter()
        try:
            result = await self.env.step(action.model_copy(deep=True))
        except Exception as e:
            return self._fail(e)
        new = result.observation.messages[before:]
        self.record.steps.append(Step(
            index=len(self.record.steps), observation=self._observation.messages[self._seen:], action=action,
            tool_results=[m for m in new if m.role == "tool"], reward=result.reward.value,
            reward_components=result.reward.components, env_latency_s=time.perf_counter() - t0,
            started_at=started))
        self._seen, self._observation = before, result.observation
        texts = [m.content for m in new if m.role != "assistant" and m.content]
        failed = any(m.role == "tool" and (m.content or "").startswith(NOT_RUN) for m in new)
        if result.terminated or result.truncated:
            reason = result.info["end_reason"]
            self._ended(Reward.model_validate(result.info["outcome"]), reason, result.truncated)
            texts.append(f"[The episode has ended ({reason}). Call {self.names['finish']} for the verdict.]")
        return Reply(texts or ["(no output)"], is_error=failed)

    async def _finish(self, message: str | None) -> Reply:
        assert self.env is not None
        if not self.env.done:  # the agent's last word, through the env's own step
            self.env.cut_short("finished")
            reply = await self._act(Action(content=message or "Done."))
            if self.failed:
                return reply
        assert self.record is not None and self.record.outcome is not None
        return self._verdict(self.record.outcome, self.env.end_reason or "")

    def _verdict(self, outcome: Reward, reason: str) -> Reply:
        if self.options.verdict == "none":
            return Reply([f"The episode is over ({reason}). Its verdict goes to the operator of this server."],
                         data={"end_reason": reason})
        data: dict[str, Any] = {"reward": outcome.value, "end_reason": reason}
        text = f"The episode is over ({reason}). Reward: {outcome.value:g}"
        if self.options.verdict == "full":
            data.update(components=outcome.components, explanation=outcome.explanation)
            text += f"\n{outcome.explanation}" if outcome.explanation else ""
        return Reply([text], data=data)

    def _ended(self, outcome: Reward, reason: str, truncated: bool) -> None:
        assert self.record is not None
        self.record.outcome = outcome
        self.record.status = "truncated" if truncated else "ok"
        self._save(f"ended ({reason}): reward {outcome.value:g}"
                   + (f" ({outcome.explanation[:300]})" if outcome.explanation else ""))

    def _fail(self, error: Exception) -> Reply:
        self.failed = True
        kind = "infra_error" if isinstance(error, InfraError) else "error"
        if self.record is not None:
            self.record.status = kind
            self.record.error = f"{type(error).__name__}: {error}"
        self.options.log("".join(traceback.format_exception(error, limit=6)).rstrip())
        self._save(f"stopped: {kind}: {type(error).__name__}: {error}")
        # no details for the client: an error message can quote task data
        return Reply(["The episode stopped because of a failure on the server's side "
                      f"({'infrastructure' if kind == 'infra_error' else 'internal'} error)."], True)

    def _save(self, what: str) -> None:
        self.options.log(f"episode {self.number}: {what}")
        if self.record is None or self._saved:
            return
        self._saved = True
        self.record.duration_s = time.time() - self.record.started_at
        if self.options.record:
            EpisodeStore(self.options.record).append(self.record)
