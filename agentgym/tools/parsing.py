"""Reading tool calls out of an assistant message.

Three shapes are understood, in this order:
1. native OpenAI `tool_calls` (already parsed into `Action.tool_calls`); when there are any, the
   text is left as it is;
2. "tags": `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` blocks, as Hermes/Qwen
   models emit;
3. "json": a message that is one JSON object `{"name": ..., "arguments": ...}` and nothing else
   (optionally in a ```json fence); an object with other keys, such as `{"name": "Ann",
   "age": 3}`, is an answer, not a call.

The text forms are an env's choice (`text_calls`): an env whose agents use native calls only can
refuse text that merely looks like a call. Every call is reported, in order; limiting calls per
turn is the env's business.

A block that is meant as a call but cannot be read becomes a problem, which the env shows to the
agent; the episode goes on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from agentgym.core.types import Action, ToolCall

_TOOL_CALL_BLOCK = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
TEXT_FORMATS = ("tags", "json")
_CALL_KEYS = frozenset({"name", "arguments", "parameters", "id", "type", "function"})


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


def _text_formats(text_calls: bool | Collection[str]) -> frozenset[str]:
    if text_calls is True:
        return frozenset(TEXT_FORMATS)
    if text_calls is False:
        return frozenset()
    try:
        formats = frozenset(text_calls) if not isinstance(text_calls, str) else None
    except TypeError:
        formats = None
    if formats is None or not formats <= set(TEXT_FORMATS):
        raise ValueError(
            f"text_calls is True, False or a subset of {TEXT_FORMATS}, not {text_calls!r}"
        )
    return formats


def parse_tool_calls(action: Action, text_calls: bool | Collection[str] = True) -> ParsedCalls:
    """The calls in an assistant message, in order, and what is left of its text.

    `text_calls`: True reads calls written in the text too (both forms), False only native
    calls (text stays text), or a subset of TEXT_FORMATS ("tags", "json").
    """
    formats = _text_formats(text_calls)
    if action.tool_calls:
        return ParsedCalls(calls=list(action.tool_calls), text=action.content)
    text = action.content or ""
    out = ParsedCalls(text=action.content if not formats else text)
    blocks = _TOOL_CALL_BLOCK.findall(text) if "tags" in formats else []
    if blocks:
        for i, block in enumerate(blocks):
            try:
                out.calls.append(_call_from_obj(json.loads(block), i))
            except (ValueError, json.JSONDecodeError) as e:
                out.problems.append(f"could not read <tool_call> block {i + 1}: {e}")
        out.text = _TOOL_CALL_BLOCK.sub("", text).strip() or None
        return out
    if "json" not in formats:
        return out
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    candidate = fenced.group(1) if fenced else stripped
    if candidate.startswith("{") and '"name"' in candidate:
        try:
            obj = json.loads(candidate)
        except json.JSONDecodeError as e:
            out.problems.append(f"could not read the tool call: {e}")
            return out
        if not isinstance(obj, dict) or not obj.keys() <= _CALL_KEYS:
            return out  # JSON with other keys is an answer that happens to have a "name"
        try:
            out.calls.append(_call_from_obj(obj, 0))
            out.text = None
        except (ValueError, json.JSONDecodeError) as e:
            out.problems.append(f"could not read the tool call: {e}")
    return out
