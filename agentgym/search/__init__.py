"""Test-time search on `Env.fork()`: best-of-N with a selector, step-level beam search, MCTS.

    from agentgym.search import Budget, run_search
    result = await run_search(lambda: agentgym.make_async("tooluse/Retail-v0"), policy,
                              "retail-s0-00", method="beam", verifier="tooluse_rules",
                              budget=Budget(policy_calls=40))
    result.episode        # the chosen episode, in the usual record schema
    result.search.spent   # policy calls, tokens, env steps, forks, wall time

Selection and scoring never read hidden task data unless the run says it is an oracle
experiment (`allow_privileged=True`, `--allow-privileged`). `agentgym search` is the CLI.
"""

from agentgym.search.budget import Budget, Meter, Spent
from agentgym.search.records import Candidate, SearchResult, SearchSummary
from agentgym.search.run import METHODS, run_search
from agentgym.search.tree import Branch, Ledger, SearchContext

__all__ = [
    "Budget",
    "Meter",
    "Spent",
    "Candidate",
    "SearchResult",
    "SearchSummary",
    "METHODS",
    "run_search",
    "Branch",
    "Ledger",
    "SearchContext",
]
