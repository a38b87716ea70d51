"""Step-level beam search: at each step, sample k actions per kept branch, fork once per
candidate, execute it, score it with a step scorer, keep the best `width` unfinished branches.

Branches that end are candidates; the search stops when none is left unfinished, at `max_depth`,
or when the budget runs out, and picks a candidate with `selector` (default: the one the scorer
rates highest, ties to the earlier; `hybrid`: a vote of the candidates' answers weighted by
their scores, which a verifier that cannot tell apart a give-up from a finished job needs). Identical sampled actions at one branch are executed once (the policy call is still
charged). A branch's env is closed as soon as its children exist or it falls out of the beam.
"""

from __future__ import annotations

import json

from agentgym.core.errors import UserInputError
from agentgym.core.types import Action
from agentgym.search.best_of_n import Found, choose, keep
from agentgym.search.scoring import Scorer
from agentgym.search.tree import Branch, SearchContext


def action_key(action: Action) -> str:
    calls = [[c.name, c.arguments] for c in action.tool_calls]
    return json.dumps([(action.content or "").strip(), calls], sort_keys=True, default=str)


async def expand(
    ctx: SearchContext, node: Branch, samples: int, scorer: Scorer, children: list[Branch]
) -> None:
    """Up to `samples` children of `node` appended to `children`: each a distinct action executed
    in a fork (appended before it runs, so the caller closes it even if the step raises)."""
    seen: set[str] = set()
    for _ in range(samples):
        if not ctx.meter.allows(1, 1):
            break
        action = await ctx.act(node)
        key = action_key(action)
        if key in seen:
            continue
        seen.add(key)
        child = await ctx.fork(node)
        children.append(child)
        await ctx.step(child, action)
        await scorer.update(ctx, child)


async def beam_search(
    ctx: SearchContext,
    scorer: Scorer,
    width: int = 2,
    samples: int = 3,
    max_depth: int | None = None,
    selector: str = "verifier",
) -> Found:
    if width < 1 or samples < 1:
        raise UserInputError("beam search needs width >= 1 and samples >= 1")
    found = Found()
    beam = [await ctx.root()]
    depth = 0
    children: list[Branch] = []
    try:
        while beam and (max_depth is None or depth < max_depth):
            if not ctx.meter.allows(1, 1):
                found.stopped = "budget"
                break
            children = []
            for node in beam:
                await expand(ctx, node, samples, scorer, children)
            if not children:  # the budget ran out before any child: the beam stays as it is
                found.stopped = "budget"
                break
            for node in beam:
                await ctx.close(node)
            depth += 1
            for child in children:
                if child.done:
                    await keep(ctx, found, child, selector)
            live = sorted((c for c in children if not c.done), key=lambda c: -c.value)
            for dropped in live[width:]:
                await ctx.close(dropped)
            beam, children = live[:width], []
        if beam and not found.branches:  # nothing ended in budget: the best branch as it stands
            best = max(beam, key=lambda b: b.value)
            await ctx.settle(best)
            await keep(ctx, found, best, selector)
    finally:
        for branch in [*beam, *children]:
            await ctx.close(branch)
    if found.branches:
        choose(found, selector)
    return found
