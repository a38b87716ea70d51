"""A set of tools an env offers, and running the calls an agent makes against it."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Iterator
from types import MappingProxyType
from typing import Any

from agentgym.core.types import RAW_ARGUMENTS_KEY, Message, ToolCall, ToolSpec
from agentgym.tools.binding import bound_tools
from agentgym.tools.function import Tool, ToolCallError, Validation


def _render(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, default=str, sort_keys=True)


class Toolbox:
    """Named tools; `validate`, when given, sets every tool's validation mode."""

    def __init__(
        self, tools: Iterable[Tool | Callable[..., Any]], validate: Validation | None = None
    ):
        made = [t if isinstance(t, Tool) else Tool.from_function(t) for t in tools]
        if validate is not None:
            made = [t.with_validation(validate) for t in made]
        by_name: dict[str, Tool] = {}
        for t in made:
            if t.name in by_name:
                raise TypeError(f"two tools are named {t.name!r}")
            by_name[t.name] = t
        self.tools = MappingProxyType(by_name)  # read-only, so the cached specs stay true
        self._specs: list[ToolSpec] | None = None

    @classmethod
    def bind(
        cls,
        obj: Any,
        methods: Iterable[str] | None = None,
        docs: Iterable[dict[str, Any]] | None = None,
        validate: Validation = "strict",
    ) -> Toolbox:
        """Tools from an object's methods: all public ones, or those named in `methods`.

        Without `docs` each method's signature and docstring describe it. With `docs` (OpenAI-style
        function schemas, as benchmarks ship them) each doc becomes a tool calling the method of
        its name; a doc with no such method, or that does not fit it, is a TypeError here.
        """
        return cls(bound_tools(obj, methods, docs, validate))

    @property
    def specs(self) -> list[ToolSpec]:
        """What the agent is told, built once (envs ask on every step). Treat as read-only."""
        if self._specs is None:
            self._specs = [t.spec for t in self.tools.values()]
        return list(self._specs)

    def __deepcopy__(self, memo: dict[int, Any]) -> Toolbox:
        return self  # nothing in it changes, so a forked env shares it

    def __copy__(self) -> Toolbox:
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {"tools": dict(self.tools)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.tools, self._specs = MappingProxyType(state["tools"]), None

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools.values())

    def __len__(self) -> int:
        return len(self.tools)

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

        `bound` holds env-side values (a db connection, a sandbox) that the agent never sees;
        each tool gets those it takes as keyword-only parameters.
        """
        try:
            tool = self.get(call.name)
            if RAW_ARGUMENTS_KEY in call.arguments:
                raw = str(call.arguments[RAW_ARGUMENTS_KEY])[:200]
                raise ToolCallError(f"the arguments of {call.name} are not a JSON object: {raw}")
            content, ok = _render(await tool.run(call.arguments, **bound)), True
        except ToolCallError as e:
            content, ok = f"Error: {e}", False
        return Message(role="tool", content=content, tool_call_id=call.id, name=call.name), ok
