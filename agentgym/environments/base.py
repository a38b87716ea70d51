"""The tool-env base: one turn loop for every family (tool use, SWE, web, plugins, `agentgym new`).

A turn, the same in every env built on it:
1. the assistant message is read for tool calls: native ones, and `<tool_call>` blocks or a JSON
   call in the text unless `text_tool_calls` is off; calls read from text get ids `call_<step>_<i>`
   (native ids are kept when present and unique), and the text shown in the history has the call
   blocks removed;
2. each call is validated and run against `toolbox` with `tool_context()` bound to the tools'
   keyword-only parameters; its result (or the agent's mistake, as "Error: ...") is a tool message
   right after the assistant's, in order, as chat APIs require. Calls past `max_calls_per_turn`, or
   after a call that ended the episode, get a "Not run: ..." tool message;
3. calls that could not be read are reported in one "[environment] Error: ..." message;
4. a turn with text and no call goes to the `user`, whose answer is the next message (`done` ends
   the episode); with no user, `no_call_reply` nudges the agent instead, and when that is None
   the text is the agent's final answer: the episode ends.
`max_steps_per_turn` cuts an episode whose agent takes that many steps without handing the turn
back to the user. Families keep their tools, state (`tool_context`), step rewards (`step_reward`),
what ends an episode (`ends_episode`) and scoring (`score`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from agentgym.core.env import Env
from agentgym.core.types import Action, Message, Reward, Task, ToolCall, ToolSpec
from agentgym.tools import Toolbox, parse_tool_calls
from agentgym.users import User, UserTurn, respond

PARSE_HINT = ('Write a tool call as <tool_call>{"name": "<tool>", "arguments": {...}}</tool_call>, '
              "or use native tool calls.")


@dataclass
class CallResult:
    call: ToolCall
    message: Message
    ok: bool


@dataclass
class Turn:
    """What happened in one step: the agent's text, its calls and their results, the user's reply."""

    text: str | None
    calls: list[ToolCall] = field(default_factory=list)
    results: list[CallResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    user_reply: UserTurn | None = None
    ended: bool = False  # a call ended the episode (submit, answer, transfer...)

    def succeeded(self, *names: str) -> bool:
        """Whether a call to any of `names` ran without error this turn."""
        return any(r.ok and r.call.name in names for r in self.results)


class ToolEnv(Env):
    """An env whose agent acts through tools and talks to a user. Subclasses set `toolbox` and
    implement `_start(task, seed)` (fresh state, opening messages) and `score()`."""

    #: read calls written in text: True (Hermes/Qwen `<tool_call>` blocks and a JSON call), False
    #: (native calls only: text that looks like a call stays text), or a subset of ("tags", "json")
    text_tool_calls: ClassVar[bool | tuple[str, ...]] = True
    #: at most this many calls run per turn (1 = one call per turn); None: no limit
    max_calls_per_turn: ClassVar[int | None] = None
    #: what the agent is told when it writes text and there is no user (None: the text ends the episode)
    no_call_reply: ClassVar[str | None] = "Please continue by calling one of the tools."
    parse_hint: ClassVar[str] = PARSE_HINT
    fork_shared = ("toolbox",)

    def __init__(self, tasks: list[Task], max_steps: int = 30, max_steps_per_turn: int | None = None,
                 toolbox: Toolbox | None = None):
        super().__init__(tasks, max_steps=max_steps)
        if max_steps_per_turn is not None and max_steps_per_turn < 1:
            raise ValueError("max_steps_per_turn must be at least 1")
        self.max_steps_per_turn = max_steps_per_turn
        if toolbox is not None:
            self.toolbox = toolbox
        self.user: User | None = None
        self.steps_this_turn = 0

    # ---- what families write -------------------------------------------------------------------

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        """Fresh state for `task` (set `self.user` to talk to one); return the opening messages."""
        raise NotImplementedError

    def tool_context(self) -> dict[str, Any]:
        """Values for the tools' keyword-only parameters (a db, a sandbox, a browser session)."""
        return {}

    def ends_episode(self, result: CallResult) -> bool:
        """Whether this call ends the episode (later calls in the turn are not run)."""
        return False

    async def step_reward(self, turn: Turn) -> Reward:
        """The reward for this step (default 0; the base makes the last one carry the outcome)."""
        return Reward(value=0.0, source=type(self).__name__)

    async def after_turn(self, turn: Turn, messages: list[Message]) -> None:
        """Look at the world after the calls ran (and change `messages`, e.g. to show a page)."""

    # ---- the turn loop ---------------------------------------------------------------------------

    @property
    def tools(self) -> list[ToolSpec]:
        return self.toolbox.specs

    async def _reset(self, task: Task, seed: int | None) -> list[Message]:
        self.user = None
        self.steps_this_turn = 0
        return await self._start(task, seed)

    async def _step(self, action: Action) -> tuple[list[Message], Reward, bool]:
        parsed = parse_tool_calls(action, text_calls=self.text_tool_calls)
        calls = self._numbered(parsed.calls, native=bool(action.tool_calls))
        text = parsed.text if (calls or parsed.problems) else action.content
        out = [Message(role="assistant", content=text, tool_calls=calls)]
        turn = Turn(text=text, calls=calls, problems=list(parsed.problems))
        for i, call in enumerate(calls):
            skip = ("the episode already ended" if turn.ended else
                    f"only {self.max_calls_per_turn} tool call(s) per turn"
                    if self.max_calls_per_turn is not None and i >= self.max_calls_per_turn else "")
            if skip:
                out.append(Message(role="tool", tool_call_id=call.id, name=call.name,
                                   content=f"Not run: {skip}."))
                continue
            message, ok = await self.toolbox.call(call, **self.tool_context())
            result = CallResult(call, message, ok)
            turn.results.append(result)
            turn.ended |= self.ends_episode(result)
            out.append(message)
        if parsed.problems:
            out.append(Message(role="user", content=(
                f"[environment] Error: {'; '.join(parsed.problems)}. {self.parse_hint}")))
        if not calls and not parsed.problems:
            if self.user is not None:
                turn.user_reply = await respond(self.user, text or "", [*self.messages, *out])
                out.append(Message(role="user", content=turn.user_reply.text))
            elif self.no_call_reply:
                out.append(Message(role="user", content=f"[environment] {self.no_call_reply}"))
            else:
                turn.ended = True
        await self.after_turn(turn, out)
        reward = await self.step_reward(turn)
        self._count_turn_steps(turn)
        return out, reward, turn.ended or bool(turn.user_reply and turn.user_reply.done)

    def _numbered(self, calls: list[ToolCall], native: bool) -> list[ToolCall]:
        """Ids the agent can match results by: native ids kept when present and unique in the
        conversation, every other call numbered by step and position."""
        seen = {c.id for m in self.messages for c in m.tool_calls}
        ids = [c.id for c in calls]
        if native and all(ids) and len(set(ids)) == len(ids) and not seen & set(ids):
            return calls
        return [c.model_copy(update={"id": f"call_{self.steps_taken}_{i}"}) for i, c in enumerate(calls)]

    def _count_turn_steps(self, turn: Turn) -> None:
        if turn.user_reply is not None:
            self.steps_this_turn = 0
            return
        self.steps_this_turn += 1
        if self.max_steps_per_turn is not None and self.steps_this_turn >= self.max_steps_per_turn:
            self.cut_short("max_steps_per_turn")
