"""An MCP server's tools as agentgym tools, and their results as text the agent reads."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from agentgym.core.errors import UserInputError
from agentgym.tools import Tool, Toolbox, ToolCallError, Validation

#: the longest tool result the agent is shown (head and tail kept), so observations stay bounded
MAX_RESULT_CHARS = 50_000


class RemoteTool:
    """Calls one tool of the server the env is connected to (the connection is bound by the env,
    as `_mcp`, so the agent can neither see nor set it)."""

    def __init__(self, name: str):
        self.__name__ = self.name = name

    async def __call__(self, *, _mcp: Any, **arguments: Any) -> str:
        result = await _mcp.call_tool(self.name, arguments)
        text = render_result(result)
        if getattr(result, "is_error", False):
            raise ToolCallError(text or f"{self.name} failed")
        return text


def toolbox_from(listed: Iterable[Any], hide: Iterable[str] = (), validate: Validation = "lax") -> Toolbox:
    """A toolbox of the server's tools except `hide`, each checked against its input schema (a
    schema our validator cannot read is passed through unchecked: the server checks it)."""
    listed = list(listed)
    hidden = set(hide)
    missing = sorted(hidden - {t.name for t in listed})
    if missing:  # a misspelt name would leave the tool it meant in the agent's hands
        raise UserInputError(f"hide_tools names {', '.join(missing)}, which the MCP server does not offer "
                             f"(its tools: {', '.join(t.name for t in listed)})")
    tools = []
    for listed_tool in listed:
        if listed_tool.name in hidden:
            continue
        schema = dict(listed_tool.input_schema or {"type": "object"})
        description = listed_tool.description or listed_tool.title or ""
        fn = RemoteTool(listed_tool.name)
        try:
            tools.append(Tool.from_schema(schema, fn, name=listed_tool.name, description=description,
                                          validate=validate))
        except TypeError as e:
            if "tool name" in str(e):
                raise UserInputError(f"the MCP server offers a tool agentgym cannot name: {e}") from None
            tools.append(Tool(listed_tool.name, description, fn, schema, validation=False))
    return Toolbox(tools)


def render_result(result: Any) -> str:
    """A CallToolResult as text: text blocks as they are, other blocks named, structured content as
    JSON when there is no text; cut to MAX_RESULT_CHARS."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(f"[{kind} {block.mime_type}, {len(block.data) * 3 // 4} bytes]")
        elif kind == "resource_link":
            parts.append(f"[resource {block.uri}]")
        elif kind == "resource":
            inner = block.resource
            parts.append(getattr(inner, "text", None) or f"[resource {inner.uri}]")
        else:
            parts.append(f"[{kind or 'unknown'} content]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, sort_keys=True, default=str))
    return clip("\n".join(parts))


def result_data(result: Any) -> Any:
    """What a result says as data, for verifiers: its structured content, else its text parsed as
    JSON, else the text itself."""
    structured = getattr(result, "structured_content", None)
    if structured is not None:
        return structured
    text = "\n".join(b.text for b in getattr(result, "content", None) or [] if getattr(b, "type", "") == "text")
    try:
        return json.loads(text)
    except ValueError:
        return text


def clip(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"
