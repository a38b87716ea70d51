"""The `openai-sft` and `trl` exports: one chat example per episode, as JSON lines.

Both end at the final assistant message. Tool-call ids are made unique within an example (a
policy may reuse `call_0` every turn) and the tool messages follow their call. An episode whose
tool-call arguments were not JSON (the model's mistake, kept as text in the record) is skipped:
neither format can hold it.

openai-sft: `{"messages": [...], "tools": [...]}` with arguments as JSON strings, and `weight`
on each assistant message: 0 when that turn's step reward was negative (it made things worse; it
stays as context but is not trained on), else 1. Each example is checked against OpenAI's rules
(`openai_rules.py`) before it is written.

trl: `{"messages": [...], "tools": "<JSON>"}` as TRL's conversational language-modeling type,
with arguments as objects (what Hugging Face chat templates render) and `tools` as a JSON string
(TRL's trainers decode it; Arrow cannot hold schemas of different shapes in one column).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentgym.core.types import Episode
from agentgym.evaluation.export.conversation import any_raw_arguments, conversation, wire_message
from agentgym.evaluation.export.openai_rules import example_problems

RAW_ARGUMENTS = "with tool-call arguments that are not JSON"
BROKEN_RULES = "breaking OpenAI's fine-tuning rules"


def unique_call_ids(messages: list[dict[str, Any]]) -> None:
    """Rename empty or reused tool-call ids (in place), and the tool messages answering them."""
    used: set[str] = set()
    renamed: dict[str, list[str]] = {}
    for i, m in enumerate(messages):
        if m["role"] == "assistant" and m.get("tool_calls"):
            renamed = {}
            for j, call in enumerate(m["tool_calls"]):
                old = new = call["id"]
                n = 0
                while not new or new in used:
                    new, n = f"call_{i}_{j}" + (f"_{n}" if n else ""), n + 1
                used.add(new)
                renamed.setdefault(old, []).append(new)
                call["id"] = new
        elif m["role"] == "tool" and renamed.get(m.get("tool_call_id") or ""):
            m["tool_call_id"] = renamed[m["tool_call_id"]].pop(0)


def openai_example(episode: Episode, tools: list[dict[str, Any]]) -> tuple[dict | None, str]:
    """The example, or None and why not."""
    chat = conversation(episode)
    messages = chat.through_last_turn()
    if any_raw_arguments(messages):
        return None, RAW_ARGUMENTS
    weights = {t.at: 0 if t.step.reward < 0 else 1 for t in chat.turns}
    out = []
    for i, message in enumerate(messages):
        wire = wire_message(message)
        wire.pop("name", None)  # not a field of tool messages in fine-tuning files
        if message.role == "assistant":
            wire["weight"] = weights.get(i, 1)
        elif wire["content"] is None:
            wire["content"] = ""
        out.append(wire)
    unique_call_ids(out)
    example: dict[str, Any] = {"messages": out}
    if tools:
        example["tools"] = tools
    problems = example_problems(example)
    return (None, f"{BROKEN_RULES}: {problems[0]}") if problems else (example, "")


def trl_example(episode: Episode, tools: list[dict[str, Any]]) -> tuple[dict | None, str]:
    messages = conversation(episode).through_last_turn()
    if any_raw_arguments(messages):
        return None, RAW_ARGUMENTS
    out = []
    for message in messages:
        wire = wire_message(message, arguments_as="object")
        if wire["content"] is None:  # templates concatenate content; None would break them
            wire["content"] = ""
        out.append(wire)
    unique_call_ids(out)
    return {
        "messages": out,
        "tools": json.dumps(tools, ensure_ascii=False),
        "env_id": episode.env_id,
        "task_id": episode.task_id,
        "sample": episode.sample,
        "reward": episode.reward,
        "success": episode.success,
    }, ""


def _write_lines(
    episodes: list[Episode], tools: list[dict[str, Any]], path: Path, summary, make
) -> int:
    written = 0
    with open(path, "w", encoding="utf-8") as f:
        for episode in episodes:
            example, why = make(episode, tools)
            if example is None:
                reason, _, detail = why.partition(": ")
                summary.skipped[reason] += 1
                if detail and len(summary.notes) < 5:  # a few examples of why, not one per line
                    summary.notes.append(f"{episode.task_id}#{episode.sample}: {detail}")
                continue
            f.write(json.dumps(example, ensure_ascii=False) + "\n")
            written += 1
    return written


def write_openai_sft(
    episodes: list[Episode], tools: list[dict[str, Any]], path: Path, summary
) -> int:
    written = _write_lines(episodes, tools, path, summary, openai_example)
    if 0 < written < 10:
        summary.notes.append(f"{written} example(s): OpenAI needs at least 10 to start a job")
    return written


def write_trl(episodes: list[Episode], tools: list[dict[str, Any]], path: Path, summary) -> int:
    return _write_lines(episodes, tools, path, summary, trl_example)
