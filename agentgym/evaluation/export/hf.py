"""The `hf` export: a Hugging Face `datasets` Dataset saved as Parquet, one row per episode.

A row holds the whole conversation (`messages`, tool-call arguments as JSON text), the tools
(one JSON string: tool schemas differ in shape, which a columnar type cannot hold), the outcome
and step rewards, and `turns`: one entry per policy turn with the request as sent and, when the
server returned them, `prompt_token_ids`, `completion_token_ids`, `logprobs` and a `loss_mask`
over prompt + completion (1 on the tokens the policy sampled). `messages[:turn.message_index]`
is the prompt of that turn. When the turns chain (each prompt starts with the previous prompt
and completion), `token_ids`, `loss_mask` and `token_logprobs` give the episode as one sequence.

    ds = datasets.load_dataset("parquet", data_files="export-hf.parquet", split="train")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentgym.core.types import Episode
from agentgym.evaluation.export.conversation import Turn, chained_tokens, conversation, wire_message


def features() -> Any:
    from datasets import Features, List, Value

    text, f64, i32 = Value("string"), Value("float64"), Value("int32")
    call = {"id": text, "type": text, "function": {"name": text, "arguments": text}}
    message = {
        "role": text,
        "content": text,
        "tool_calls": List(call),
        "tool_call_id": text,
        "name": text,
    }
    turn = {
        "step": i32,
        "message_index": i32,
        "reward": f64,
        "reward_components": text,
        "finish_reason": text,
        "model": text,
        "endpoint": text,
        "params": text,
        "prompt_token_ids": List(i32),
        "completion_token_ids": List(i32),
        "logprobs": List(f64),
        "loss_mask": List(Value("int8")),
        "latency_s": f64,
        "env_latency_s": f64,
        "started_at": f64,
    }
    return Features(
        {
            "env_id": text,
            "task_id": text,
            "sample": i32,
            "seed": Value("int64"),
            "policy": text,
            "status": text,
            "success": Value("bool"),
            "reward": f64,
            "outcome_components": text,
            "outcome_explanation": text,
            "messages": List(message),
            "tools": text,
            "step_rewards": List(f64),
            "turns": List(turn),
            "token_ids": List(i32),
            "loss_mask": List(Value("int8")),
            "token_logprobs": List(f64),
            "n_steps": i32,
            "prompt_tokens": Value("int64"),
            "completion_tokens": Value("int64"),
            "cost": f64,
            "duration_s": f64,
            "started_at": f64,
        }
    )


def turn_row(turn: Turn) -> dict[str, Any]:
    step, gen = turn.step, turn.step.action.generation
    prompt = gen.prompt_token_ids if gen else None
    completion = gen.completion_token_ids if gen else None
    mask = (
        [0] * len(prompt) + [1] * len(completion)
        if prompt is not None and completion is not None
        else None
    )
    return {
        "step": step.index,
        "message_index": turn.at,
        "reward": step.reward,
        "reward_components": json.dumps(step.reward_components),
        "finish_reason": gen.finish_reason if gen else None,
        "model": gen.model if gen else None,
        "endpoint": gen.endpoint if gen else None,
        "params": json.dumps(gen.params) if gen else None,
        "prompt_token_ids": prompt,
        "completion_token_ids": completion,
        "logprobs": gen.logprobs if gen else None,
        "loss_mask": mask,
        "latency_s": step.latency_s,
        "env_latency_s": step.env_latency_s,
        "started_at": step.started_at,
    }


def episode_row(episode: Episode, tools_json: str) -> dict[str, Any]:
    chat = conversation(episode)
    chain = chained_tokens(chat.turns)
    outcome = episode.outcome
    return {
        "env_id": episode.env_id,
        "task_id": episode.task_id,
        "sample": episode.sample,
        "seed": episode.seed,
        "policy": episode.policy,
        "status": episode.status,
        "success": episode.success,
        "reward": episode.reward,
        "outcome_components": json.dumps(outcome.components if outcome else {}),
        "outcome_explanation": outcome.explanation if outcome else "",
        "messages": [_full_message(m) for m in chat.messages],
        "tools": tools_json,
        "step_rewards": [s.reward for s in episode.steps],
        "turns": [turn_row(t) for t in chat.turns],
        "token_ids": chain[0] if chain else None,
        "loss_mask": chain[1] if chain else None,
        "token_logprobs": chain[2] if chain else None,
        "n_steps": len(episode.steps),
        "prompt_tokens": episode.usage.prompt_tokens,
        "completion_tokens": episode.usage.completion_tokens,
        "cost": episode.usage.cost,
        "duration_s": episode.duration_s,
        "started_at": episode.started_at,
    }


def _full_message(message) -> dict[str, Any]:
    """Every message field present in every row (a columnar type needs one shape)."""
    out = wire_message(message)
    return {
        "role": out["role"],
        "content": out["content"],
        "tool_calls": out.get("tool_calls", []),
        "tool_call_id": out.get("tool_call_id"),
        "name": out.get("name"),
    }


def write_hf(episodes: list[Episode], tools: list[dict[str, Any]], path: Path, summary) -> int:
    import datasets

    tools_json = json.dumps(tools, ensure_ascii=False)
    rows = [episode_row(e, tools_json) for e in episodes]
    if not any(r["token_ids"] for r in rows) and any(
        r["turns"][0]["prompt_token_ids"] for r in rows
    ):
        summary.notes.append("turns do not chain token-exactly: use the per-turn token ids")
    quiet = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # one summary line is printed instead
    try:
        datasets.Dataset.from_list(rows, features=features()).to_parquet(str(path))
    finally:
        if not quiet:
            datasets.enable_progress_bars()
    return len(rows)
