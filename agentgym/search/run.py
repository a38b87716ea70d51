"""`run_search`: one task, one method, one budget; returns a `SearchResult` record.

Every env the search opened is closed before this returns, also when the search raised; the
record says how many were opened and how many were left open (0 unless a close itself failed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentgym.core.env import Env
from agentgym.core.errors import UserInputError
from agentgym.policies.base import Policy
from agentgym.search.beam import beam_search
from agentgym.search.best_of_n import best_of_n as run_best_of_n
from agentgym.search.best_of_n import check_selector
from agentgym.search.budget import Budget, Meter
from agentgym.search.mcts import mcts
from agentgym.search.records import SearchResult, SearchSummary
from agentgym.search.scoring import load_scorer
from agentgym.search.tree import CopyMode, SearchContext
from agentgym.verifiers.base import Verifier

METHODS = ("best-of-n", "beam", "mcts")
#: each method's parameters and their defaults
PARAMS: dict[str, dict[str, Any]] = {
    "best-of-n": {"n": 8},
    "beam": {"width": 2, "samples": 3, "max_depth": None},
    "mcts": {
        "samples": 3,
        "c": 1.0,
        "value": "rollout",
        "iterations": None,
        "max_rollout_steps": None,
    },
}


def method_params(method: str, given: dict[str, Any]) -> dict[str, Any]:
    if method not in PARAMS:
        raise UserInputError(f"unknown search method {method!r}: use {', '.join(METHODS)}")
    unknown = sorted(k for k, v in given.items() if v is not None and k not in PARAMS[method])
    if unknown:
        raise UserInputError(
            f"{method} takes no {', '.join(unknown)} (it takes {', '.join(PARAMS[method])})"
        )
    return {**PARAMS[method], **{k: v for k, v in given.items() if v is not None}}


async def run_search(
    make_env: Callable[[], Env],
    policy: Policy,
    task_id: str,
    *,
    method: str,
    budget: Budget,
    seed: int | None = 0,
    selector: str | None = None,
    verifier: str | dict[str, Any] | Verifier | None = None,
    allow_privileged: bool = False,
    copy: CopyMode = "fork",
    **params: Any,
) -> SearchResult:
    """Search `task_id` with `method`. Beam and mcts score steps with `verifier` (a verifier spec,
    or "env" for the env's step rewards). Every method picks among its ended episodes with
    `selector`: majority, verifier, hybrid (verifier-weighted vote) or first; the default is
    majority for best-of-n and verifier for beam and mcts. Privileged verifiers need
    `allow_privileged` (an oracle experiment)."""
    params = method_params(method, params)
    purpose = "selection" if method == "best-of-n" else "step scoring"
    if method != "best-of-n" and verifier is None:
        raise UserInputError(
            f"{method} needs a step scorer: --verifier SPEC (or 'env' with --allow-privileged)"
        )
    scorer = load_scorer(verifier, allow_privileged, purpose)
    if selector is None:
        selector = "majority" if method == "best-of-n" else "verifier"
    check_selector(selector, scorer)
    meter = Meter(budget)
    ctx = SearchContext(make_env, policy, task_id, meter, seed=seed, copy=copy)
    try:
        if method == "best-of-n":
            found = await run_best_of_n(ctx, params["n"], selector, scorer)
        elif method == "beam":
            found = await beam_search(
                ctx, scorer, params["width"], params["samples"], params["max_depth"], selector
            )
        else:
            found = await mcts(
                ctx,
                scorer,
                params["iterations"],
                params["samples"],
                params["c"],
                params["value"],
                params["max_rollout_steps"],
                selector,
            )
    finally:
        try:
            await ctx.ledger.close_all()
        finally:
            left = ctx.ledger.open_count
    if found.chosen is None:
        raise UserInputError(
            f"the budget ({budget.model_dump(exclude_none=True)}) allowed no step of "
            f"{task_id}: raise it"
        )
    chosen = found.branches[found.chosen]
    name = selector
    if scorer is not None and selector in ("verifier", "hybrid"):
        name = f"{selector}:{scorer.name}"
    if method != "best-of-n" and scorer is not None:
        name = f"steps:{scorer.name}, pick:{selector}"
    summary = SearchSummary(
        method=method,
        env_id=ctx.env_id,
        task_id=task_id,
        seed=seed,
        policy=ctx.policy_name,
        selector=name,
        oracle_experiment=bool(
            scorer
            and scorer.privileged
            and (method != "best-of-n" or selector in ("verifier", "hybrid"))
        ),
        params={**params, "copy": copy},
        budget=budget,
        spent=meter.report(),
        stopped=found.stopped,
        candidates=found.candidates,
        chosen=found.chosen,
        envs_opened=ctx.ledger.opened,
        envs_left_open=left,
    )
    return SearchResult(episode=ctx.episode(chosen), search=summary)
