"""A noisy oracle: the reference solution with one scripted mistake, to collect episodes of mixed
quality for training and measuring verifiers (as `agentgym.policies.noisy:NoisyOracle`).

With probability `p_noise` per episode one mistake is made, chosen at random: skip the question
that asks the user to confirm, stop early, change a digit of a tool argument, misstate an amount
to the user, drop a tool call, or repeat a call. Some mistakes fail the task and some do not, as
with a real agent. It is an oracle (it reads the reference), so it receives the hidden task.
Every draw depends only on (seed, task id, sample), so runs are reproducible.
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

from agentgym.core.types import Action, Observation, Task, ToolSpec
from agentgym.policies._episode import EpisodeSlot, turn_index
from agentgym.policies.oracle import CLOSING_MESSAGE, OraclePolicy

MISTAKES = ("skip_confirmation", "stop_early", "wrong_argument", "wrong_fact", "drop_call", "repeat_call")
AMOUNT = re.compile(r"\$(\d+)\.(\d\d)")
DIGIT = re.compile(r"\d")


class NoisyOracle(OraclePolicy):
    """Acts out the reference with at most one mistake per episode."""

    def __init__(self, p_noise: float = 0.7, seed: int = 0):
        super().__init__()
        if not 0.0 <= p_noise <= 1.0:
            raise ValueError(f"p_noise must be between 0 and 1, not {p_noise}")
        self.p_noise, self.seed = p_noise, seed
        self.name = f"noisy-oracle:{seed}"
        self._actions: EpisodeSlot[tuple[str, list[Action]]] = EpisodeSlot(self.name)

    def begin(self, task: Task, seed: int | None, sample: int, env: Any = None) -> None:
        key = f"{self.seed}|{task.id}|{sample}"
        rng = random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
        actions = [a.model_copy(deep=True) for a in task.reference or []]
        mistake = rng.choice(MISTAKES) if rng.random() < self.p_noise else "none"
        self._actions.set((mistake, _make(mistake, actions, rng)))

    @property
    def mistake(self) -> str:
        """The mistake of the current episode ("none" when it plays the reference as it is)."""
        return self._actions.get()[0]

    def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        actions = self._actions.get()[1]
        turn = turn_index(observation)
        if turn < len(actions):
            return actions[turn].model_copy(deep=True)
        return Action(content=CLOSING_MESSAGE)


def _calls(actions: list[Action]) -> list[int]:
    return [i for i, a in enumerate(actions) if a.tool_calls]


def _make(mistake: str, actions: list[Action], rng: random.Random) -> list[Action]:
    calls = _calls(actions)
    if mistake == "skip_confirmation":
        asks = [i for i, a in enumerate(actions) if not a.tool_calls and "?" in (a.content or "")]
        if asks:
            del actions[rng.choice(asks)]
    elif mistake == "stop_early" and len(actions) > 1:
        del actions[rng.randrange(1, len(actions)):]
    elif mistake == "wrong_argument" and calls:
        call = rng.choice(actions[rng.choice(calls)].tool_calls)
        strings = [k for k, v in call.arguments.items() if isinstance(v, str) and DIGIT.search(v)]
        if strings:
            key = rng.choice(strings)
            call.arguments[key] = bump_digit(call.arguments[key], rng)
    elif mistake == "wrong_fact":
        texts = [a for a in actions if not a.tool_calls and a.content and AMOUNT.search(a.content)]
        if texts:
            action = rng.choice(texts)
            action.content = misstate_amount(action.content, rng)
    elif mistake == "drop_call" and calls:
        del actions[rng.choice(calls)]
    elif mistake == "repeat_call" and calls:
        i = rng.choice(calls)
        actions.insert(i, actions[i].model_copy(deep=True))
    return actions


def bump_digit(value: str, rng: random.Random) -> str:
    """`value` with one of its digits changed."""
    digits = [m.start() for m in DIGIT.finditer(value)]
    i = rng.choice(digits)
    return value[:i] + str((int(value[i]) + rng.randint(1, 9)) % 10) + value[i + 1:]


def misstate_amount(text: str, rng: random.Random) -> str:
    """`text` with its first dollar amount raised by $1 to $9."""
    return AMOUNT.sub(lambda m: f"${int(m.group(1)) + rng.randint(1, 9)}.{m.group(2)}", text, count=1)
