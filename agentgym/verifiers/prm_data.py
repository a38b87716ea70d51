"""Training data for a process reward model: states of recorded episodes with Monte-Carlo values.

A state is where an episode stood before one of its steps (or after its last): the env, the task
and the actions so far (`trajectory.state_key`). Episodes of a deterministic env that took the
same actions share the state, so its target is the success rate of every episode through it:
V(s) = P(success | s), estimated by counting. The text a model reads is the conversation up to
that state, without the system message (the same in every episode of an env).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from agentgym.core.types import Episode
from agentgym.verifiers import trajectory as tr

#: a state text keeps this many characters, the most recent ones (what happened last matters most)
MAX_STATE_CHARS = 12_000


@dataclass
class State:
    key: str
    text: str
    successes: int = 0
    visits: int = 0
    group: str = ""  # the task: held-out splits are by task, so no state leaks across them

    @property
    def target(self) -> float:
        return self.successes / self.visits


def state_text(episode: Episode, index: int) -> str:
    """What a PRM reads for the state before step `index` (len(steps): after the last step)."""
    text = tr.render(tr.history(episode, index), limit=2_000, skip_system=True)
    return text[-MAX_STATE_CHARS:]


def usable(episode: Episode) -> bool:
    """Episodes whose outcome the execution verifier gave: ok, truncated, or an agent/env error
    (a failure). Infrastructure errors say nothing about the agent and are left out."""
    if episode.status == "infra_error" or not episode.steps:
        return False
    return episode.status == "error" or episode.outcome is not None


def collect_states(episodes: Iterable[Episode]) -> list[State]:
    """Every state the episodes went through, with its Monte-Carlo success count."""
    states: dict[str, State] = {}
    for episode in episodes:
        if not usable(episode):
            continue
        won = int(episode.success)
        for index in range(len(episode.steps) + 1):
            key = tr.state_key(episode, index)
            state = states.get(key)
            if state is None:
                state = states[key] = State(key, state_text(episode, index),
                                            group=f"{episode.env_id}/{episode.task_id}")
            state.successes += won
            state.visits += 1
    return list(states.values())


def split_by_group(items: list, group_of, holdout: float, seed: int) -> tuple[list, list]:
    """(train, held out): a `holdout` share of the groups (tasks), chosen with `seed`."""
    groups = sorted({group_of(x) for x in items})
    if holdout <= 0 or len(groups) < 2:
        return list(items), []
    rng = random.Random(seed)
    rng.shuffle(groups)
    n_out = min(len(groups) - 1, max(1, round(holdout * len(groups))))
    held = set(groups[:n_out])
    return [x for x in items if group_of(x) not in held], [x for x in items if group_of(x) in held]
