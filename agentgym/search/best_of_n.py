"""Best-of-N: N full episodes, then a selector picks one without reading hidden data.

Selectors:
- `majority`: the answer most episodes gave (vote.py; episodes with no answer abstain); ties go
  to the earlier episode.
- `verifier`: the highest verifier score (a deployable verifier; privileged only in an oracle
  experiment); ties go to the earlier episode.
- `hybrid`: majority vote where each episode's vote weighs its verifier score (an answer many
  episodes gave but the verifier doubts loses to one it trusts); ties by count, then order.
- `first`: the first episode (pass@1, the baseline at the same budget).
Each episode is scored and keyed while its env is live (a SWE patch is read from the sandbox),
then its env is closed: at most one episode's env is open at a time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from agentgym.core.errors import UserInputError
from agentgym.search.records import Candidate
from agentgym.search.scoring import Scorer
from agentgym.search.tree import Branch, SearchContext
from agentgym.search.vote import NO_ANSWER, answer_key

SELECTORS = ("majority", "verifier", "hybrid", "first")


@dataclass
class Found:
    """What a method found: every candidate, the chosen one's branch, and why it stopped."""

    branches: list[Branch] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    chosen: int | None = None
    stopped: str = "done"


VOTING = ("majority", "hybrid")


async def keep(ctx: SearchContext, found: Found, branch: Branch, selector: str) -> None:
    """Record an ended (or settled) branch as a candidate of a beam or tree search: its answer
    key is read while its env is live when the selector votes; then its env is closed."""
    if selector in VOTING and branch.answer is None and branch.env is not None:
        branch.answer = await answer_key(ctx, branch)
    await ctx.close(branch)
    found.branches.append(branch)


def choose(found: Found, selector: str) -> None:
    """Fill in the candidates of a beam or tree search and pick one with `selector`."""
    found.candidates = [
        Candidate(sample=i, steps=len(b.steps), score=b.value, answer=b.answer)
        for i, b in enumerate(found.branches)
    ]
    found.chosen = pick(selector, found.candidates)


def check_selector(selector: str, scorer: Scorer | None) -> None:
    if selector not in SELECTORS:
        raise UserInputError(f"unknown selector {selector!r}: use {', '.join(SELECTORS)}")
    if selector in ("verifier", "hybrid") and scorer is None:
        raise UserInputError(f"selector {selector!r} needs a verifier (--verifier SPEC)")


def pick(selector: str, candidates: list[Candidate]) -> int | None:
    """The index of the chosen candidate."""
    if not candidates:
        return None
    if selector == "first":
        return 0
    if selector == "verifier":
        return max(range(len(candidates)), key=lambda i: (candidates[i].score or 0.0, -i))
    weight: dict[str | None, float] = defaultdict(float)
    count: dict[str | None, int] = defaultdict(int)
    for c in candidates:
        count[c.answer] += 1
        weight[c.answer] += (c.score or 0.0) if selector == "hybrid" else 1.0
    first_of: dict[str | None, int] = {}
    for i, c in enumerate(candidates):
        first_of.setdefault(c.answer, i)
        c.votes = count[c.answer]
    if len(first_of) > 1:  # an abstention wins only when every episode abstained
        first_of.pop(NO_ANSWER, None)
    best = max(first_of, key=lambda a: (weight[a], count[a], -first_of[a]))
    return first_of[best]


async def best_of_n(
    ctx: SearchContext, n: int, selector: str = "majority", scorer: Scorer | None = None
) -> Found:
    check_selector(selector, scorer)
    if n < 1:
        raise UserInputError("best-of-n needs n >= 1")
    found = Found()
    for sample in range(n):
        if not ctx.meter.allows(1, 1):
            found.stopped = "budget"
            break
        branch = await ctx.root(sample)
        try:
            while not branch.done and ctx.meter.allows(1, 1):
                await ctx.advance(branch)
            if not branch.done:  # the budget ran out mid-episode: this one is not a candidate
                found.stopped = "budget"
                if found.branches:
                    break
                await ctx.settle(branch)  # nothing finished at all: the best we have, as it stands
            score = (
                await scorer.final(ctx, branch)
                if scorer is not None and selector != "first"
                else None
            )
            key = await answer_key(ctx, branch) if selector in ("majority", "hybrid") else None
        finally:
            await ctx.close(branch)
        found.branches.append(branch)
        found.candidates.append(
            Candidate(sample=sample, steps=len(branch.steps), score=score, answer=key)
        )
        if found.stopped == "budget":
            break
    found.chosen = pick(selector, found.candidates)
    return found
