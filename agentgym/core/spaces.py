"""Gymnasium spaces for chat: observations are conversations, actions are assistant messages.

They are real `gymnasium.spaces.Space` subclasses: `contains` validates the shape, `sample` draws
reproducibly from the space's seeded generator (so `check_env`'s determinism checks hold).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

_ROLES = ("system", "user", "assistant", "tool")
_WORDS = ("order", "hello", "please", "status", "cancel", "item", "yes", "no", "thanks", "help")


def _random_text(rng: np.random.Generator, n_words: int = 6) -> str:
    return " ".join(str(w) for w in rng.choice(_WORDS, size=int(rng.integers(1, n_words + 1))))


def _is_message(m: Any) -> bool:
    return (
        isinstance(m, dict)
        and m.get("role") in _ROLES
        and (m.get("content") is None or isinstance(m.get("content"), str))
    )


class ChatObservation(spaces.Space[dict]):
    """`{"messages": [OpenAI chat messages], "extras": {...}}`."""

    def __init__(self, max_messages: int = 10_000, seed: int | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)
        self.max_messages = max_messages

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> dict:
        rng = self.np_random
        n = int(rng.integers(1, 4))
        messages = [
            {"role": "user" if i % 2 == 0 else "assistant", "content": _random_text(rng)}
            for i in range(n)
        ]
        return {"messages": messages, "extras": {}}

    def contains(self, x: Any) -> bool:
        return (
            isinstance(x, dict)
            and isinstance(x.get("messages"), list)
            and len(x["messages"]) <= self.max_messages
            and all(_is_message(m) for m in x["messages"])
            and isinstance(x.get("extras", {}), dict)
        )

    def __repr__(self) -> str:
        return "ChatObservation()"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, ChatObservation) and other.max_messages == self.max_messages


class AssistantAction(spaces.Space[Any]):
    """A string, or an assistant message dict (`content` and/or OpenAI `tool_calls`).

    `sample()` returns text, or now and then a call to one of the env's tools with empty
    arguments, so random exploration exercises the tool-error path as well.
    """

    def __init__(self, tool_names: list[str] | None = None, max_length: int = 100_000, seed: int | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)
        self.tool_names = list(tool_names or [])
        self.max_length = max_length

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> Any:
        rng = self.np_random
        if self.tool_names and rng.random() < 0.5:
            name = str(rng.choice(self.tool_names))
            return {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "call_0", "type": "function",
                                "function": {"name": name, "arguments": "{}"}}],
            }
        return _random_text(rng)

    def contains(self, x: Any) -> bool:
        if isinstance(x, str):
            return len(x) <= self.max_length
        if isinstance(x, dict):
            content = x.get("content")
            calls = x.get("tool_calls") or []
            return (
                x.get("role", "assistant") == "assistant"
                and (content is None or isinstance(content, str))
                and isinstance(calls, list)
                and all(isinstance(c, dict) and ("function" in c or "name" in c) for c in calls)
            )
        return False

    def __repr__(self) -> str:
        return f"AssistantAction(tools={self.tool_names})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, AssistantAction) and other.tool_names == self.tool_names
