"""A random policy: valid tool calls with arguments drawn from the conversation, now and then a text.

A baseline for any env and a smoke test for the tool plumbing. Every draw depends only on
(policy seed, episode seed, task id, sample, turn), so runs are reproducible and a forked env
sees the same choices.
"""

from __future__ import annotations

import hashlib
import json
import random

from agentgym.core.types import Action, Observation, Task, ToolCall, ToolSpec
from agentgym.policies._arguments import ArgumentSampler, Vocabulary
from agentgym.policies._episode import EpisodeSlot, turn_index

_CLOSINGS = (
    "Thank you, that is all.",
    "I have done what I can.",
    "Done.",
    "Could you tell me more?",
)


class RandomPolicy:
    """Picks a random tool and schema-valid arguments; with probability `p_stop` sends text instead."""

    def __init__(self, seed: int = 0, p_stop: float = 0.1):
        if not 0.0 <= p_stop <= 1.0:
            raise ValueError(f"p_stop must be between 0 and 1, not {p_stop}")
        self.seed = seed
        self.p_stop = p_stop
        self.name = f"random:{seed}"
        self._episode: EpisodeSlot[str] = EpisodeSlot(self.name)

    def begin(self, task: Task, seed: int | None, sample: int) -> None:
        self._episode.set(f"{seed}|{task.id}|{sample}")

    def _rng(self, observation: Observation) -> random.Random:
        key = f"{self.seed}|{self._episode.peek() or ''}|{turn_index(observation)}"
        return random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))

    def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        rng = self._rng(observation)
        names = {t.name for t in tools} | {
            p for t in tools for p in t.parameters.get("properties", {})
        }
        vocab = Vocabulary.from_texts(_texts(observation), exclude=names)
        if not tools or rng.random() < self.p_stop:
            return Action(content=rng.choice(_CLOSINGS))
        spec = rng.choice(tools)
        try:
            arguments = ArgumentSampler(rng, vocab).arguments(spec.parameters)
        except (ValueError, KeyError, TypeError):  # a schema we cannot read: let the env say so
            arguments = {}
        call_id = f"call_{turn_index(observation)}_{rng.randrange(16**6):06x}"
        return Action(tool_calls=[ToolCall(id=call_id, name=spec.name, arguments=arguments)])


def _texts(observation: Observation) -> list[str]:
    texts = []
    for message in observation.messages:
        if message.content:
            texts.append(message.content)
        texts += [json.dumps(c.arguments) for c in message.tool_calls]  # values are read, not keys
    return texts
