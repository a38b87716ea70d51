"""Test-time search in a dozen lines: best-of-N, beam search and MCTS on one tool-use task.

    python examples/search_recipe.py

The policy is a stochastic stand-in for an LLM (right at each step with probability 0.7); swap in
`load_policy("openai:MODEL")` for a real one. Selection uses deployable verifiers only.
"""

import asyncio

import agentgym
from agentgym.policies.step_noisy import StepNoisyOracle
from agentgym.search import Budget, run_search


async def main() -> None:
    policy = StepNoisyOracle(p_correct=0.7, seed=0)
    runs = {
        "best-of-n": dict(method="best-of-n", n=8, selector="majority"),
        "beam": dict(method="beam", width=2, samples=3, verifier="tooluse_rules"),
        "mcts": dict(method="mcts", samples=3, verifier="tooluse_rules"),
    }
    for name, options in runs.items():
        result = await run_search(
            lambda: agentgym.make_async("tooluse/Retail-v0"),
            policy,
            "retail-s0-05",
            budget=Budget(policy_calls=40),
            **options,
        )
        spent = result.search.spent
        print(
            f"{name:10} reward {result.episode.reward:.0f}  {spent.policy_calls} calls, "
            f"{spent.env_steps} steps, {spent.forks} forks, {len(result.search.candidates)} candidates"
        )


if __name__ == "__main__":
    asyncio.run(main())
