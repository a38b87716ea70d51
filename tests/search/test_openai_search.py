"""Search with a real HTTP policy (the OpenAI protocol, served by our fake server): every policy
call is a request, tokens come from the server's usage, and a token budget stops the search."""

from __future__ import annotations

import random

import agentgym
from agentgym.environments.tooluse.tasks import load_tasks
from agentgym.policies import load_policy
from agentgym.policies.step_noisy import mistake
from agentgym.search import Budget, run_search

TASK = "retail-s0-00"


def sampling_model(p_correct: float, seed: int):
    """A responder that answers like a sampling model: the task's next reference action with
    probability `p_correct`, else a plausible mistake (the test's stand-in for temperature)."""
    reference = {t.id: t for t in load_tasks()}[TASK].reference
    rng = random.Random(seed)

    def respond(request):
        turn = sum(1 for m in request["messages"] if m["role"] == "assistant")
        action = reference[turn].model_copy(deep=True) if turn < len(reference) else None
        if action is None:
            return "Is there anything else I can help with?"
        names = [t["function"]["name"] for t in request.get("tools", [])]
        return action if rng.random() < p_correct else mistake(action, rng, names)

    return respond


async def test_beam_with_an_http_policy_charges_requests_and_server_tokens(openai_env):
    openai_env.responder = sampling_model(0.7, seed=0)
    result = await run_search(
        lambda: agentgym.make_async("tooluse/Retail-v0"),
        load_policy("openai:fake-model"),
        TASK,
        method="beam",
        verifier="tooluse_rules",
        width=2,
        samples=3,
        budget=Budget(tokens=60_000),
    )
    spent = result.search.spent
    served = openai_env.completions
    assert spent.policy_calls == len(openai_env.requests) == len(served)
    assert spent.tokens == sum(c["usage"]["total_tokens"] for c in served)
    assert result.episode.usage.total_tokens == sum(
        s.action.usage.total_tokens for s in result.episode.steps
    )
    assert result.search.envs_left_open == 0


async def test_a_token_budget_stops_an_http_policy_search(openai_env):
    openai_env.responder = sampling_model(0.7, seed=1)
    result = await run_search(
        lambda: agentgym.make_async("tooluse/Retail-v0"),
        load_policy("openai:fake-model"),
        TASK,
        method="best-of-n",
        n=50,
        selector="majority",
        budget=Budget(tokens=20_000),
    )
    spent = result.search.spent
    assert result.search.stopped == "budget" and spent.tokens >= 20_000
    assert spent.tokens - openai_env.completions[-1]["usage"]["total_tokens"] < 20_000
