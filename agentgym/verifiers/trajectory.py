"""Views of a recorded episode that model-based verifiers read: the history before a step, what
followed it, a text rendering, and a key that names the state an episode reached.

A step's `observation` holds the messages added since the previous step (beginning with the
env's copy of the previous action), so the history before step `i` is the concatenation of the
observations of steps 0..i. The last step's consequences are its action and tool results.
"""

from __future__ import annotations

import hashlib
import json

from agentgym.core.types import Action, Episode, Message

#: the longest message text a rendering keeps (head and tail), so one huge tool output cannot
#: crowd everything else out of a judge's context or a PRM's features
MAX_MESSAGE_CHARS = 4_000


def history(episode: Episode, index: int) -> list[Message]:
    """The conversation the agent had seen when it acted at step `index` (`index` may be
    len(steps): then the whole recorded conversation)."""
    if index >= len(episode.steps):
        return conversation(episode)
    out: list[Message] = []
    for step in episode.steps[: index + 1]:
        out.extend(step.observation)
    return out


def action_message(action: Action) -> Message:
    return Message(role="assistant", content=action.content, tool_calls=action.tool_calls)


def after(episode: Episode, index: int) -> list[Message]:
    """What followed step `index`'s action: the next step's new messages, or for the last step
    its action and tool results (the episode's end)."""
    if index + 1 < len(episode.steps):
        return list(episode.steps[index + 1].observation)
    step = episode.steps[index]
    return [action_message(step.action), *step.tool_results]


def conversation(episode: Episode) -> list[Message]:
    """Every recorded message of the episode, in order."""
    if not episode.steps:
        return []
    out = history(episode, len(episode.steps) - 1)
    last = episode.steps[-1]
    return [*out, action_message(last.action), *last.tool_results]


def clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


def render_message(message: Message, limit: int = MAX_MESSAGE_CHARS) -> str:
    lines = []
    if message.content:
        lines.append(f"[{message.role}] {clip(message.content, limit)}")
    for call in message.tool_calls:
        args = clip(json.dumps(call.arguments, ensure_ascii=False, sort_keys=True), limit)
        lines.append(f"[{message.role} calls {call.name}] {args}")
    if not lines:
        lines.append(f"[{message.role}]")
    return "\n".join(lines)


def render(messages: list[Message], limit: int = MAX_MESSAGE_CHARS, skip_system: bool = False) -> str:
    """Plain text of a conversation, one block per message."""
    return "\n".join(render_message(m, limit) for m in messages
                     if not (skip_system and m.role == "system"))


def final_answer(episode: Episode) -> str:
    """The agent's last text to the user (empty if it never wrote one)."""
    for step in reversed(episode.steps):
        if step.action.content and step.action.content.strip():
            return step.action.content
    return ""


def state_key(episode: Episode, index: int) -> str:
    """A name for the state before step `index`: the env, the task and the actions so far.

    Episodes of a deterministic env that took the same actions reach the same state, so this key
    pools them for Monte-Carlo value targets. Call ids are left out (servers make them up).
    """
    actions = [
        {"content": (s.action.content or "").strip(),
         "calls": [[c.name, c.arguments] for c in s.action.tool_calls]}
        for s in episode.steps[:index]
    ]
    blob = json.dumps([episode.env_id, episode.task_id, episode.seed, actions], sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]
