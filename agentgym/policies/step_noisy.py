"""A stochastic oracle for measuring search: each action is the reference's with probability
`p_correct`, else a mistake (as `agentgym.policies.step_noisy:StepNoisyOracle`).

Unlike `NoisyOracle` (at most one mistake per episode, drawn once), every call draws afresh, so
asking twice at the same state can give different actions: what best-of-N, beam search and MCTS
sample from. Mistakes: in a tool call, a changed digit in an argument (a wrong id or amount) or,
when no argument has a digit, a call to another of the env's tools with the same arguments; in a
message, a misstated dollar amount or, when it states none, filler text (the turn is lost). Draws
depend only on (seed, task, sample, the conversation so far, how many times that state was asked),
so a search is reproducible whatever order it explores in. It reads the reference, so it is an
oracle: it receives the hidden task (never use it to score).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from agentgym.core.types import Action, Observation, Task, ToolSpec
from agentgym.policies._episode import EpisodeSlot, turn_index
from agentgym.policies.noisy import AMOUNT, DIGIT, bump_digit, misstate_amount
from agentgym.policies.oracle import CLOSING_MESSAGE, OraclePolicy

FILLERS = (
    "Let me think about how to proceed.",
    "One moment, please.",
    "I am looking into it.",
    "Thanks for your patience.",
)


class StepNoisyOracle(OraclePolicy):
    """The reference, right at each step with probability `p_correct`."""

    def __init__(self, p_correct: float = 0.8, seed: int = 0):
        super().__init__()
        if not 0.0 <= p_correct <= 1.0:
            raise ValueError(f"p_correct must be between 0 and 1, not {p_correct}")
        self.p_correct, self.seed = p_correct, seed
        self.name = f"step-noisy-oracle:{p_correct:g}:{seed}"
        self._episode: EpisodeSlot[tuple[str, list[Action]]] = EpisodeSlot(self.name)
        self._asked: dict[str, int] = {}  # state digest -> times asked there

    def __copy__(self) -> StepNoisyOracle:
        """A copy for one episode or one search: its own count of draws per state, so what it
        samples never depends on what other copies were asked."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin._asked = {}
        return twin

    def begin(self, task: Task, seed: int | None, sample: int, env: Any = None) -> None:
        self._episode.set((f"{self.seed}|{task.id}|{sample}", list(task.reference or [])))

    def _rng(self, key: str, observation: Observation) -> random.Random:
        state = hashlib.sha256(key.encode())
        for m in observation.messages:
            state.update(m.model_dump_json(exclude={"tool_calls": {"__all__": {"id"}}}).encode())
        digest = state.hexdigest()
        draw = self._asked.get(digest, 0)
        self._asked[digest] = draw + 1
        blob = hashlib.sha256(f"{digest}|{draw}".encode()).digest()
        return random.Random(int.from_bytes(blob[:8], "big"))

    def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        key, reference = self._episode.get()
        rng = self._rng(key, observation)
        turn = turn_index(observation)
        right = (
            reference[turn].model_copy(deep=True)
            if turn < len(reference)
            else Action(content=CLOSING_MESSAGE)
        )
        if rng.random() < self.p_correct:
            return right
        return mistake(right, rng, [t.name for t in tools])


def mistake(action: Action, rng: random.Random, tool_names: list[str] = ()) -> Action:
    """A wrong version of `action`: a changed digit in an argument or an amount, another tool,
    or filler text."""
    strings = [
        (c, k)
        for c in action.tool_calls
        for k, v in c.arguments.items()
        if isinstance(v, str) and DIGIT.search(v)
    ]
    if strings:
        kind = "digit"
    elif action.tool_calls and len(set(tool_names)) > 1:
        kind = "tool"
    elif action.content and AMOUNT.search(action.content):
        kind = "amount"
    else:
        kind = "filler"
    if kind == "tool":
        call = rng.choice(action.tool_calls)
        call.name = rng.choice([n for n in tool_names if n != call.name])
        return action
    if kind == "digit":
        call, arg = rng.choice(strings)
        call.arguments[arg] = bump_digit(call.arguments[arg], rng)
        return action
    if kind == "amount":
        action.content = misstate_amount(action.content or "", rng)
        return action
    return Action(content=rng.choice(FILLERS))
