"""A set of tools an env offers, and running the calls an agent makes against it."""

from __future__ import annotations

import difflib
import inspect
import json
from collections.abc import Iterable
from typing import Any

from agentgym.core.types import RAW_ARGUMENTS_KEY, Message, ToolCall, ToolSpec
from agentgym.tools.function import Tool, ToolCallError


def _render(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, default=str, sort_keys=True)


class Toolbox:
    def __init__(self, tools: Iterable[Tool]):
        self.tools = {t.name: t for t in tools}

    @property
    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self.tools.values()]

    def get(self, name: str) -> Tool:
        try:
            return self.tools[name]
        except KeyError:
            close = difflib.get_close_matches(name, self.tools, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ToolCallError(
                f"unknown tool {name!r}.{hint} Available: {', '.join(self.tools)}"
            ) from None

    async def call(self, call: ToolCall, **bound: Any) -> tuple[Message, bool]:
        """Run one call; returns (tool message, ok). Agent mistakes become the message text.

        `bound` holds env-side arguments (a db connection, a sandbox) that the agent never sees
        and that the tool function takes as keyword-only parameters.
        """
        try:
            tool = self.get(call.name)
            if RAW_ARGUMENTS_KEY in call.arguments:
                raw = str(call.arguments[RAW_ARGUMENTS_KEY])[:200]
                raise ToolCallError(f"the arguments of {call.name} are not a JSON object: {raw}")
            args = tool.validate(call.arguments)
            result = tool.fn(**args, **bound)
            if inspect.isawaitable(result):
                result = await result
            content, ok = _render(result), True
        except ToolCallError as e:
            content, ok = f"Error: {e}", False
        return Message(role="tool", content=content, tool_call_id=call.id, name=call.name), ok
