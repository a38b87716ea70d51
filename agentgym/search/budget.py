"""What a search may spend (policy calls, tokens, env steps, wall time) and what it did spend.

Every method charges the same meter, so methods compare at equal budget, and every result says
what it spent. A limit of None is no limit. A method asks `allows()` before it starts a unit of
work (an episode, a beam level, an MCTS iteration) and `exhausted` after each charge; work in
flight when the budget runs out is finished or dropped by the method, never counted as free.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pydantic import BaseModel

from agentgym.core.errors import UserInputError
from agentgym.core.types import Action


class Budget(BaseModel):
    """Limits; None means unlimited (at least one must be set, or a search would never end)."""

    policy_calls: int | None = None
    tokens: int | None = None
    env_steps: int | None = None
    wall_s: float | None = None

    def model_post_init(self, _: object) -> None:
        limits = self.model_dump()
        if all(v is None for v in limits.values()):
            raise UserInputError(
                "a search needs a budget: set policy_calls, tokens, env_steps or wall_s"
            )
        bad = [k for k, v in limits.items() if v is not None and v <= 0]
        if bad:
            raise UserInputError(f"budget limits must be positive: {', '.join(bad)}")

    @classmethod
    def parse(cls, text: str) -> Budget:
        """`calls=64,tokens=100000,steps=500,wall=600` (any subset; a bare number means calls)."""
        names = {
            "calls": "policy_calls",
            "policy_calls": "policy_calls",
            "tokens": "tokens",
            "steps": "env_steps",
            "env_steps": "env_steps",
            "wall": "wall_s",
            "wall_s": "wall_s",
        }
        fields: dict[str, float] = {}
        for part in (p.strip() for p in text.split(",") if p.strip()):
            key, eq, value = part.partition("=")
            if not eq:
                key, value = "calls", key
            if key.strip() not in names:
                raise UserInputError(
                    f"unknown budget {key.strip()!r}: use calls, tokens, steps or wall"
                )
            try:
                number = float(value)
            except ValueError:
                raise UserInputError(f"budget {key.strip()}={value!r} is not a number") from None
            name = names[key.strip()]
            fields[name] = number if name == "wall_s" else int(number)
        return cls(**fields)


class Spent(BaseModel):
    policy_calls: int = 0
    tokens: int = 0
    env_steps: int = 0
    forks: int = 0
    resets: int = 0
    replayed_steps: int = 0  # steps re-run to copy a branch without fork (copy="replay")
    wall_s: float = 0.0


@dataclass
class Meter:
    """Charges work against a budget."""

    budget: Budget
    spent: Spent = field(default_factory=Spent)
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def charge_action(self, action: Action) -> None:
        self.spent.policy_calls += 1
        if action.usage is not None:
            self.spent.tokens += action.usage.total_tokens

    def charge_step(self) -> None:
        self.spent.env_steps += 1

    def left(self) -> dict[str, float | None]:
        """What is left of each limit (None: unlimited)."""
        b, s = self.budget, self.spent
        return {
            "policy_calls": None if b.policy_calls is None else b.policy_calls - s.policy_calls,
            "tokens": None if b.tokens is None else b.tokens - s.tokens,
            "env_steps": None if b.env_steps is None else b.env_steps - s.env_steps,
            "wall_s": None if b.wall_s is None else b.wall_s - self.elapsed(),
        }

    def allows(self, policy_calls: int = 1, env_steps: int = 0) -> bool:
        """Whether `policy_calls` more calls and `env_steps` more steps fit (tokens and wall time:
        whether any is left, since a call's cost is known only after it)."""
        left = self.left()
        return (
            (left["policy_calls"] is None or left["policy_calls"] >= policy_calls)
            and (left["env_steps"] is None or left["env_steps"] >= env_steps)
            and (left["tokens"] is None or left["tokens"] > 0)
            and (left["wall_s"] is None or left["wall_s"] > 0)
        )

    @property
    def exhausted(self) -> bool:
        return not self.allows(1, 1)

    def report(self) -> Spent:
        return self.spent.model_copy(update={"wall_s": round(self.elapsed(), 3)})
