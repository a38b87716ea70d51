"""An episode as one conversation, turn by turn, and its policy tokens as one sequence.

A Step holds the messages added since the previous step, and the env's copy of each assistant
message opens the next step's observation (the env may have parsed tool calls out of text, so
that copy is the one the tool results answer). The final action is in no observation: it is
appended from the action itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agentgym.core.types import RAW_ARGUMENTS_KEY, Action, Episode, Message, Step, ToolCall


@dataclass
class Turn:
    """One policy turn: its step, and where its assistant message sits in the conversation
    (`messages[:at]` is exactly what the policy was shown for it)."""

    step: Step
    at: int


@dataclass
class Conversation:
    messages: list[Message]
    turns: list[Turn]

    def through_last_turn(self) -> list[Message]:
        """The conversation up to the final assistant message (trailing tool results dropped:
        nothing is trained on them and some formats must end with the assistant)."""
        return self.messages[: self.turns[-1].at + 1] if self.turns else []


def action_message(action: Action) -> Message:
    return Message(role="assistant", content=action.content, tool_calls=list(action.tool_calls))


def conversation(episode: Episode) -> Conversation:
    messages: list[Message] = []
    turns: list[Turn] = []
    for i, step in enumerate(episode.steps):
        observed = list(step.observation)
        if i > 0:
            previous = episode.steps[i - 1]
            turns.append(Turn(previous, len(messages)))
            if observed and observed[0].role == "assistant":
                messages.append(observed.pop(0))
            else:  # an env that keeps no assistant messages in its history
                messages.append(action_message(previous.action))
        messages.extend(observed)
    if episode.steps:
        last = episode.steps[-1]
        turns.append(Turn(last, len(messages)))
        messages.append(action_message(last.action))
        messages.extend(last.tool_results)
    return Conversation(messages, turns)


def has_raw_arguments(call: ToolCall) -> bool:
    """True when the model's arguments were not a JSON object (kept as {"__raw__": text})."""
    return set(call.arguments) == {RAW_ARGUMENTS_KEY}


def arguments_text(call: ToolCall) -> str:
    """The arguments as the wire carries them: JSON text, or the model's own text if it was not
    JSON."""
    if has_raw_arguments(call):
        return str(call.arguments[RAW_ARGUMENTS_KEY])
    return json.dumps(call.arguments, ensure_ascii=False)


def any_raw_arguments(messages: list[Message]) -> bool:
    return any(has_raw_arguments(c) for m in messages for c in m.tool_calls)


def wire_message(message: Message, arguments_as: str = "text") -> dict[str, Any]:
    """A message in OpenAI chat format. `arguments_as="object"` gives arguments as a dict, as
    Hugging Face chat templates expect; "text" gives the JSON string the OpenAI API uses."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.arguments if arguments_as == "object" else arguments_text(c),
                },
            }
            for c in message.tool_calls
        ]
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id or ""
        if message.name is not None:
            out["name"] = message.name
    return out


def chained_tokens(turns: list[Turn]) -> tuple[list[int], list[int], list[float | None]] | None:
    """The whole episode as one token sequence with a loss mask (1 = a token the policy
    sampled) and the policy's logprob at each of its tokens, when every turn's prompt ids start
    with the previous turn's prompt and completion ids. None when a turn has no token ids, or
    when a chat template re-rendered earlier turns differently (then only the per-turn
    sequences are exact)."""
    ids: list[int] = []
    mask: list[int] = []
    logprobs: list[float | None] = []
    for turn in turns:
        gen = turn.step.action.generation
        if gen is None or gen.prompt_token_ids is None or gen.completion_token_ids is None:
            return None
        prompt, completion = gen.prompt_token_ids, gen.completion_token_ids
        if prompt[: len(ids)] != ids:
            return None
        added = prompt[len(ids) :]
        ids += added + completion
        mask += [0] * len(added) + [1] * len(completion)
        sampled = gen.logprobs if gen.logprobs and len(gen.logprobs) == len(completion) else None
        logprobs += [None] * len(added) + (list(sampled) if sampled else [None] * len(completion))
    return ids, mask, logprobs
