"""Reading tool calls out of an assistant message.

Three shapes are understood, in this order:
1. native OpenAI `tool_calls` (already parsed into `Action.tool_calls`);
2. `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` blocks, as Hermes/Qwen models emit;
3. a message that is a JSON object `{"name": ..., "arguments": ...}` (optionally in a ```json fence).

A block that is meant as a call but cannot be read becomes a `ParseProblem`, which the env shows
to the agent; the episode goes on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from agentgym.core.types import Action, ToolCall

_TOOL_CALL_BLOCK = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@dataclass
class ParsedCalls:
    calls: list[ToolCall] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    text: str | None = None  # the message with call blocks removed


def _call_from_obj(obj: Any, index: int) -> ToolCall:
    if not isinstance(obj, dict):
        raise ValueError("a tool call must be a JSON object")
    if "function" in obj and isinstance(obj["function"], dict):
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError('a tool call needs a "name" string')
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        args = json.loads(args) if args.strip() else {}
    if not isinstance(args, dict):
        raise ValueError('"arguments" must be a JSON object')
    return ToolCall(id=f"call_{index}", name=name, arguments=args)


def parse_tool_calls(action: Action) -> ParsedCalls:
    if action.tool_calls:
        return ParsedCalls(calls=list(action.tool_calls), text=action.content)
    text = action.content or ""
    out = ParsedCalls(text=text)
    blocks = _TOOL_CALL_BLOCK.findall(text)
    if blocks:
        for i, block in enumerate(blocks):
            try:
                out.calls.append(_call_from_obj(json.loads(block), i))
            except (ValueError, json.JSONDecodeError) as e:
                out.problems.append(f"could not read <tool_call> block {i + 1}: {e}")
        out.text = _TOOL_CALL_BLOCK.sub("", text).strip() or None
        return out
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    candidate = fenced.group(1) if fenced else stripped
    if candidate.startswith("{") and '"name"' in candidate:
        try:
            out.calls.append(_call_from_obj(json.loads(candidate), 0))
            out.text = None
        except (ValueError, json.JSONDecodeError) as e:
            out.problems.append(f"could not read the tool call: {e}")
    return out
