"""What a search returns: the chosen Episode (the usual schema) and a summary of the search."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agentgym.core.types import Episode
from agentgym.search.budget import Budget, Spent

Method = Literal["best-of-n", "beam", "mcts"]


class Candidate(BaseModel):
    """A finished (or, when the budget ran out, settled) episode the search could pick."""

    sample: int = 0
    steps: int
    score: float | None = None  # the selector's or scorer's value (never the hidden verdict)
    answer: str | None = None  # the vote key, for best-of-n
    votes: int | None = None


class SearchSummary(BaseModel):
    method: Method
    env_id: str
    task_id: str
    seed: int | None
    policy: str
    #: how the episode was picked (and, for beam and mcts, what scored the steps)
    selector: str
    #: True when selection or scoring read hidden task data: an oracle experiment
    oracle_experiment: bool = False
    params: dict[str, Any] = Field(default_factory=dict)
    budget: Budget
    spent: Spent
    #: why it stopped: "done" (the method finished) or "budget"
    stopped: Literal["done", "budget"]
    candidates: list[Candidate] = Field(default_factory=list)
    chosen: int | None = None  # index into candidates
    envs_opened: int = 0
    envs_left_open: int = 0  # after the search closed everything: 0 unless a close failed


class SearchResult(BaseModel):
    """One JSONL record of `agentgym search`."""

    episode: Episode
    search: SearchSummary
