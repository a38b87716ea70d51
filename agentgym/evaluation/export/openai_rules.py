"""The rules of OpenAI's chat fine-tuning files, checked line by line.

Written from OpenAI's documentation of the supervised fine-tuning input (one JSON object a line:
`messages`, optional `tools` and `parallel_tool_calls`) and of chat messages with tool calls.
The exporter checks each example it writes, and the tests check whole files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

EXAMPLE_KEYS = {"messages", "tools", "parallel_tool_calls", "functions"}
MESSAGE_KEYS = {
    "system": {"role", "content", "name"},
    "developer": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "name", "weight", "tool_calls", "refusal", "function_call"},
    "tool": {"role", "content", "tool_call_id"},
}
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: OpenAI refuses a training file with fewer examples
MIN_EXAMPLES = 10


def example_problems(example: Any) -> list[str]:
    """Every rule one line breaks (empty when it is a valid training example)."""
    if not isinstance(example, dict):
        return ["a line must be a JSON object"]
    problems = [f"unknown key {k!r}" for k in sorted(set(example) - EXAMPLE_KEYS)]
    tool_names, tool_problems = _tools(example.get("tools"))
    problems += tool_problems
    if "parallel_tool_calls" in example and not isinstance(example["parallel_tool_calls"], bool):
        problems.append("parallel_tool_calls must be true or false")
    messages = example.get("messages")
    if not isinstance(messages, list) or not messages:
        return problems + ["messages must be a non-empty list"]
    seen_ids: set[str] = set()
    open_calls: set[str] = set()  # calls of the last assistant message not yet answered
    trained = 0
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict) or m.get("role") not in MESSAGE_KEYS:
            problems.append(f"{where}: role must be one of {', '.join(MESSAGE_KEYS)}")
            continue
        role = m["role"]
        problems += [
            f"{where}: key {k!r} is not allowed in a {role} message"
            for k in sorted(set(m) - MESSAGE_KEYS[role])
        ]
        if role != "tool" and open_calls:
            problems.append(f"{where}: tool call(s) {sorted(open_calls)} were never answered")
            open_calls = set()
        if role == "assistant":
            calls = m.get("tool_calls") or []
            problems += _assistant(m, where, calls, tool_names, seen_ids)
            open_calls = {
                c["id"] for c in calls if isinstance(c, dict) and isinstance(c.get("id"), str)
            }
            trained += m.get("weight", 1) == 1
        elif role == "tool":
            if not isinstance(m.get("content"), str):
                problems.append(f"{where}: a tool message needs string content")
            call_id = m.get("tool_call_id")
            if call_id not in open_calls:
                problems.append(
                    f"{where}: tool_call_id {call_id!r} answers no open call of the "
                    "assistant message before it"
                )
            open_calls.discard(call_id)
        elif not isinstance(m.get("content"), str):
            problems.append(f"{where}: a {role} message needs string content")
    if not trained:
        problems.append("no assistant message to train on (one with weight 1)")
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "assistant":
        problems.append("the last message must be the assistant's")
    return problems


def _tools(tools: Any) -> tuple[set[str] | None, list[str]]:
    if tools is None:
        return None, []
    if not isinstance(tools, list):
        return None, ["tools must be a list"]
    names: set[str] = set()
    problems = []
    for j, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(fn, dict):
            problems.append(f'tools[{j}] must be {{"type": "function", "function": {{...}}}}')
            continue
        name = fn.get("name")
        if not isinstance(name, str) or not FUNCTION_NAME.match(name):
            problems.append(f"tools[{j}]: name must be 1-64 letters, digits, _ or -")
        elif name in names:
            problems.append(f"tools[{j}]: duplicate tool name {name!r}")
        else:
            names.add(name)
        if "parameters" in fn and not isinstance(fn["parameters"], dict):
            problems.append(f"tools[{j}]: parameters must be a JSON schema object")
    return names, problems


def _assistant(
    m: dict, where: str, calls: Any, tool_names: set[str] | None, seen_ids: set[str]
) -> list[str]:
    problems = []
    content = m.get("content")
    if not isinstance(calls, list):
        return [f"{where}: tool_calls must be a list"]
    if content is not None and not isinstance(content, str):
        problems.append(f"{where}: content must be a string or null")
    if not content and not calls:
        problems.append(f"{where}: an assistant message needs content or tool_calls")
    if "weight" in m and m["weight"] not in (0, 1):
        problems.append(f"{where}: weight must be 0 or 1")
    for j, call in enumerate(calls):
        at = f"{where}.tool_calls[{j}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(call, dict) or call.get("type") != "function" or not isinstance(fn, dict):
            problems.append(f'{at}: must be {{"id", "type": "function", "function"}}')
            continue
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            problems.append(f"{at}: needs a non-empty string id")
        elif call_id in seen_ids:
            problems.append(f"{at}: id {call_id!r} is used twice")
        else:
            seen_ids.add(call_id)
        name = fn.get("name")
        if not isinstance(name, str) or (tool_names is not None and name not in tool_names):
            problems.append(f"{at}: {name!r} is not one of the example's tools")
        arguments = fn.get("arguments")
        if not isinstance(arguments, str):
            problems.append(f"{at}: arguments must be a JSON string")
            continue
        try:
            parsed = json.loads(arguments)
        except json.JSONDecodeError:
            problems.append(f"{at}: arguments are not valid JSON")
            continue
        if not isinstance(parsed, dict):
            problems.append(f"{at}: arguments must encode a JSON object")
    return problems


def file_problems(path: str | Path) -> list[str]:
    """Problems of a whole file, each prefixed with its line number; and the minimum count."""
    problems = []
    count = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                problems.append(f"line {lineno}: empty line")
                continue
            count += 1
            try:
                example = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"line {lineno}: not JSON ({e.msg})")
                continue
            problems += [f"line {lineno}: {p}" for p in example_problems(example)]
    if count < MIN_EXAMPLES:
        problems.append(f"{count} example(s): OpenAI needs at least {MIN_EXAMPLES}")
    return problems
