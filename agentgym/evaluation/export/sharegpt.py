"""The `sharegpt` export: `conversations` of {from, value} as LLaMA-Factory reads them.

LLaMA-Factory's rules (its data README and its ShareGPT converter): an optional first `system`
message, then `human` or `observation` at even positions (0, 2, ...) and `gpt` or
`function_call` at odd ones, ending on the model's side; `function_call` holds the call as JSON
(`{"name", "arguments"}`, or a list of them for parallel calls) and `tools` a JSON string of the
function schemas. In its dataset_info.json:

    "mine": {"file_name": "export-sharegpt.jsonl", "formatting": "sharegpt",
             "columns": {"messages": "conversations", "tools": "tools"}}

Mapping: consecutive tool results become one `observation` (joined as LLaMA-Factory joins
parallel results); a run of user and tool messages becomes one `human` turn. ShareGPT has no slot
for text written beside tool calls: that text is dropped and counted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentgym.core.types import Episode, Message
from agentgym.evaluation.export.conversation import any_raw_arguments, conversation

PROMPT_SIDE = ("human", "observation")
MODEL_SIDE = ("gpt", "function_call")
#: how LLaMA-Factory joins the results of parallel calls into one observation
RESULTS_SEPARATOR = "\n</tool_response>\n<tool_response>\n"


def _prompt_turn(run: list[Message]) -> dict[str, str]:
    if all(m.role == "tool" for m in run):
        return {
            "from": "observation",
            "value": RESULTS_SEPARATOR.join(m.content or "" for m in run),
        }
    return {"from": "human", "value": "\n".join(m.content or "" for m in run)}


def sharegpt_example(episode: Episode, tools: list[dict[str, Any]]) -> tuple[dict | None, str, int]:
    """The example (or None and why not), and how many texts beside tool calls were dropped."""
    messages = conversation(episode).through_last_turn()
    if any_raw_arguments(messages):
        return None, "with tool-call arguments that are not JSON", 0
    turns: list[dict[str, str]] = []
    if messages and messages[0].role == "system":
        turns.append({"from": "system", "value": messages[0].content or ""})
        messages = messages[1:]
    dropped = 0
    run: list[Message] = []
    for m in messages:
        if m.role != "assistant":
            run.append(m)
            continue
        if run:
            turns.append(_prompt_turn(run))
            run = []
        if m.tool_calls:
            calls = [{"name": c.name, "arguments": c.arguments} for c in m.tool_calls]
            value = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
            turns.append({"from": "function_call", "value": value})
            dropped += bool(m.content and m.content.strip())
        else:
            turns.append({"from": "gpt", "value": m.content or ""})
    example = {
        "conversations": turns,
        "tools": json.dumps([t.get("function", t) for t in tools], ensure_ascii=False),
    }
    if example_problems(example):
        return None, "whose turns ShareGPT's order cannot hold", 0
    return example, "", dropped


def example_problems(example: Any) -> list[str]:
    """LLaMA-Factory's checks of a ShareGPT example (it skips an example that fails them)."""
    if not isinstance(example, dict) or not isinstance(example.get("conversations"), list):
        return ["an example needs a `conversations` list"]
    turns = example["conversations"]
    if turns and isinstance(turns[0], dict) and turns[0].get("from") == "system":
        turns = turns[1:]
    problems = []
    for i, turn in enumerate(turns):
        expected = PROMPT_SIDE if i % 2 == 0 else MODEL_SIDE
        if not isinstance(turn, dict) or turn.get("from") not in expected:
            problems.append(f"turn {i}: from must be one of {expected}")
            continue
        if not isinstance(turn.get("value"), str):
            problems.append(f"turn {i}: value must be a string")
        elif turn["from"] == "function_call":
            problems += _call_problems(turn["value"], i)
    if not turns or len(turns) % 2:
        problems.append("the turns must end on the model's side (an even count)")
    tools = example.get("tools")
    if tools is not None:
        try:
            if not isinstance(json.loads(tools), list):
                problems.append("tools must be a JSON list")
        except (TypeError, json.JSONDecodeError):
            problems.append("tools must be a JSON string")
    return problems


def _call_problems(value: str, i: int) -> list[str]:
    try:
        calls = json.loads(value)
    except json.JSONDecodeError:
        return [f"turn {i}: a function_call value must be JSON"]
    calls = calls if isinstance(calls, list) else [calls]
    if not all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and "arguments" in c for c in calls
    ):
        return [f"turn {i}: each call needs a name and arguments"]
    return []


def write_sharegpt(
    episodes: list[Episode], tools: list[dict[str, Any]], path: Path, summary
) -> int:
    written = dropped = 0
    with open(path, "w", encoding="utf-8") as f:
        for episode in episodes:
            example, why, lost = sharegpt_example(episode, tools)
            if example is None:
                summary.skipped[why] += 1
                continue
            dropped += lost
            f.write(json.dumps(example, ensure_ascii=False) + "\n")
            written += 1
    if dropped:
        summary.notes.append(
            f"{dropped} assistant text(s) written beside tool calls were dropped "
            "(ShareGPT has no slot for them)"
        )
    return written
