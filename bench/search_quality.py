"""Search quality on tooluse/Retail-v0 with a seeded stochastic policy (each step right with
probability p): pass@1, best-of-N per selector, step-level beam search and MCTS at equal budget
(policy calls per task), and coverage / selector curves over N.

    .venv/bin/python bench/search_quality.py [--p 0.8] [--tasks 20] [--budget 32] [--seeds 3]
        [--pool 16] [--policy openai:MODEL]   # an LLM policy where one is reachable

The tasks are split in two halves (seeded): a PRM (deployable, learned) is trained on the
policy's episodes of one half; every figure is measured on the other half. Selectors read no
hidden data; rows marked (oracle) use the env's privileged verdicts and are upper bounds.
Plots: docs/img/search_coverage.png, docs/img/search_budget.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import agentgym  # noqa: E402
from agentgym.policies import load_policy  # noqa: E402
from agentgym.policies.step_noisy import StepNoisyOracle  # noqa: E402
from agentgym.rollout.runner import Job, run_many  # noqa: E402
from agentgym.search import Budget, Candidate, Meter, SearchContext, run_search  # noqa: E402
from agentgym.search.best_of_n import best_of_n, pick  # noqa: E402
from agentgym.search.tree import blind  # noqa: E402
from agentgym.search.vote import conversation_answer  # noqa: E402
from agentgym.verifiers.base import score_episode  # noqa: E402
from agentgym.verifiers.prm import PRMVerifier, train_prm  # noqa: E402
from agentgym.verifiers.registry import load_verifier  # noqa: E402

ENV = "tooluse/Retail-v0"
IMG = Path(__file__).resolve().parent.parent / "docs" / "img"


def make():
    return agentgym.make_async(ENV)


def policy_for(args, seed: int):
    if args.policy:
        return load_policy(args.policy)
    return StepNoisyOracle(args.p, seed=seed)


async def train_verifier(args, train_ids: list[str], scratch: Path) -> PRMVerifier:
    jobs = [Job(t, s, 0) for t in train_ids for s in range(args.train_samples)]
    episodes = await run_many(make, policy_for(args, 1000), jobs, concurrency=1)
    prm, report = train_prm(episodes, scratch / "prm", holdout=0.0, seed=0)
    rate = statistics.fmean(e.success for e in episodes)
    print(
        f"PRM: trained on {len(episodes)} episodes of {len(train_ids)} other tasks "
        f"(success {rate:.2f}) in {report.seconds:.1f}s",
        flush=True,
    )
    return PRMVerifier(prm)


async def pool(args, task_id: str, seed: int, prm: PRMVerifier) -> list[dict]:
    """`--pool` independent episodes of one task, each with what every selector reads (answer,
    rules and PRM scores) and, for measuring only, its outcome."""
    ctx = SearchContext(make, policy_for(args, seed), task_id, Meter(Budget(policy_calls=10**6)))
    found = await best_of_n(ctx, args.pool, "first")
    rules = load_verifier("tooluse_rules")
    rows = []
    for branch in found.branches:
        episode = ctx.episode(branch)
        seen = blind(episode)
        rows.append(
            {
                "answer": conversation_answer(seen),
                "calls": len(episode.steps),
                "rules": (await score_episode(rules, seen, ctx.task)).value,
                "prm": (await score_episode(prm, seen, ctx.task)).value,
                "success": episode.success,
            }
        )
    return rows


SELECTORS = {  # name -> (selector, score field)
    "majority vote": ("majority", None),
    "tooluse_rules": ("verifier", "rules"),
    "PRM": ("verifier", "prm"),
    "hybrid (PRM-weighted vote)": ("hybrid", "prm"),
}


def curves(pools: list[list[dict]], n_max: int, perms: int) -> dict[str, list[float]]:
    """Per N: coverage (any of N passes), each selector's pick success, pass@1, mean calls."""
    out: dict[str, list[float]] = {k: [] for k in ["coverage", "calls", *SELECTORS]}
    rng = random.Random(0)
    orders = [[rng.sample(range(len(p)), len(p)) for p in pools] for _ in range(perms)]
    for n in range(1, n_max + 1):
        acc: dict[str, list[float]] = {k: [] for k in out}
        for order in orders:
            for rows, idx in zip(pools, order, strict=True):
                subset = [rows[i] for i in idx[:n]]
                acc["coverage"].append(float(any(r["success"] for r in subset)))
                acc["calls"].append(sum(r["calls"] for r in subset))
                for name, (selector, field) in SELECTORS.items():
                    cands = [
                        Candidate(
                            steps=r["calls"], answer=r["answer"], score=r[field] if field else None
                        )
                        for r in subset
                    ]
                    acc[name].append(float(subset[pick(selector, cands)]["success"]))
        for k in out:
            out[k].append(statistics.fmean(acc[k]))
    return out


def configs(prm: PRMVerifier) -> dict[str, dict]:
    """What runs at equal budget. Beam shapes fit the budget: a level costs width x samples
    calls, and a beam that runs out of calls before its branches end has only an unfinished one."""
    rules = "tooluse_rules"
    oracle = dict(allow_privileged=True)
    return {
        "pass@1 (one episode)": dict(method="best-of-n", n=1, selector="first"),
        "best-of-N, majority vote": dict(method="best-of-n", n=100, selector="majority"),
        "best-of-N, tooluse_rules": dict(
            method="best-of-n", n=100, selector="verifier", verifier=rules
        ),
        "best-of-N, PRM": dict(method="best-of-n", n=100, selector="verifier", verifier=prm),
        "best-of-N, hybrid (PRM-weighted vote)": dict(
            method="best-of-n", n=100, selector="hybrid", verifier=prm
        ),
        "beam 1x4, tooluse_rules steps": dict(method="beam", width=1, samples=4, verifier=rules),
        "beam 2x2, tooluse_rules steps, hybrid pick": dict(
            method="beam", width=2, samples=2, verifier=rules, selector="hybrid"
        ),
        "beam 2x4, tooluse_rules steps (too wide for the budget)": dict(
            method="beam", width=2, samples=4, verifier=rules
        ),
        "beam 1x4, PRM steps": dict(method="beam", width=1, samples=4, verifier=prm),
        "beam 2x2, PRM steps, hybrid pick": dict(
            method="beam", width=2, samples=2, verifier=prm, selector="hybrid"
        ),
        "MCTS 3/state, PRM rollouts": dict(method="mcts", samples=3, verifier=prm),
        "MCTS 3/state, PRM rollouts, hybrid pick": dict(
            method="mcts", samples=3, verifier=prm, selector="hybrid"
        ),
        "MCTS 3/state, tooluse_rules values, hybrid pick": dict(
            method="mcts", samples=3, verifier=rules, value="scorer", selector="hybrid"
        ),
        "best-of-N, execution (oracle)": dict(
            method="best-of-n", n=100, selector="verifier", verifier="execution", **oracle
        ),
        "beam 1x4, env step rewards (oracle)": dict(
            method="beam", width=1, samples=4, verifier="env", **oracle
        ),
        "MCTS 3/state, env rewards (oracle)": dict(
            method="mcts", samples=3, verifier="env", **oracle
        ),
    }


async def equal_budget(args, eval_ids: list[str], prm: PRMVerifier) -> dict[str, dict]:
    table = {}
    for name, config in configs(prm).items():
        wins, calls, steps, forks, wall = [], [], [], [], []
        for seed in range(args.seeds):
            for task_id in eval_ids:
                t0 = time.perf_counter()
                result = await run_search(
                    make,
                    policy_for(args, seed),
                    task_id,
                    seed=0,
                    budget=Budget(policy_calls=args.budget),
                    **config,
                )
                wall.append(time.perf_counter() - t0)
                wins.append(float(result.episode.success))
                spent = result.search.spent
                calls.append(spent.policy_calls)
                steps.append(spent.env_steps)
                forks.append(spent.forks)
                assert result.search.envs_left_open == 0
        table[name] = {
            "success": statistics.fmean(wins),
            "calls": statistics.fmean(calls),
            "steps": statistics.fmean(steps),
            "forks": statistics.fmean(forks),
            "wall_ms": 1000 * statistics.fmean(wall),
            "runs": len(wins),
        }
        row = table[name]
        print(
            f"| {name} | {row['success']:.3f} | {row['calls']:.1f} | {row['steps']:.1f} | "
            f"{row['forks']:.1f} | {row['wall_ms']:.0f} |",
            flush=True,
        )
    return table


def plot(curve: dict[str, list[float]], table: dict[str, dict], args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    IMG.mkdir(parents=True, exist_ok=True)
    ns = list(range(1, len(curve["coverage"]) + 1))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(ns, curve["coverage"], "k-", lw=2, label="coverage (any of N passes; oracle)")
    for name in SELECTORS:
        ax.plot(ns, curve[name], marker="o", ms=3, label=f"best-of-N: {name}")
    ax.axhline(curve["coverage"][0], color="grey", ls=":", label="pass@1")
    ax.set_xlabel("N episodes")
    ax.set_ylabel("success rate")
    ax.set_title(f"{ENV}, step-noisy oracle p={args.p}: coverage and selectors")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(IMG / "search_coverage.png", dpi=130)
    fig, ax = plt.subplots(figsize=(8.0, 4.8))
    names = list(table)
    colors = ["#999" if "pass@1" in n else "#c55" if "oracle" in n else "#48c" for n in names]
    ax.barh(names[::-1], [table[n]["success"] for n in names][::-1], color=colors[::-1])
    ax.set_xlabel(f"success rate at <= {args.budget} policy calls per task")
    ax.set_xlim(0, 1)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title("equal budget (blue: deployable, red: oracle upper bounds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(IMG / "search_budget.png", dpi=130)


SWE_CONFIGS = {
    "pass@1 (one episode)": dict(method="best-of-n", n=1, selector="first"),
    "best-of-N, majority vote on patches": dict(method="best-of-n", n=100, selector="majority"),
    "beam 1x3, env step rewards (oracle)": dict(
        method="beam", width=1, samples=3, verifier="env", allow_privileged=True
    ),
    "best-of-N, execution (oracle)": dict(
        method="best-of-n", n=100, selector="verifier", verifier="execution", allow_privileged=True
    ),
}


async def swe_slice(args) -> None:
    """A small SWE table: swe/Mutants-v1 on bwrap, the first `--swe` tasks of each project."""
    spec = agentgym.spec("swe/Mutants-v1")
    probe = spec.make_async(backend="bwrap")
    projects: dict[str, list[str]] = {}
    for task_id in sorted(probe.tasks):
        projects.setdefault(task_id.split("-")[0], []).append(task_id)
    await probe.close()
    ids = [t for ts in projects.values() for t in ts[: args.swe]]
    budget = args.swe_budget
    print(
        f"\n| swe/Mutants-v1, {len(ids)} tasks x {args.seeds} seeds, <= {budget} calls | success | "
        "calls | env steps | forks |\n|---|---|---|---|---|"
    )
    for name, config in SWE_CONFIGS.items():
        wins, calls, steps, forks = [], [], [], []
        for seed in range(args.seeds):
            for task_id in ids:
                result = await run_search(
                    lambda: spec.make_async(backend="bwrap"),
                    policy_for(args, seed),
                    task_id,
                    budget=Budget(policy_calls=budget),
                    **config,
                )
                wins.append(float(result.episode.success))
                calls.append(result.search.spent.policy_calls)
                steps.append(result.search.spent.env_steps)
                forks.append(result.search.spent.forks)
        print(
            f"| {name} | {statistics.fmean(wins):.3f} | {statistics.fmean(calls):.1f} | "
            f"{statistics.fmean(steps):.1f} | {statistics.fmean(forks):.1f} |",
            flush=True,
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--p", type=float, default=0.8, help="chance each step is right")
    parser.add_argument(
        "--tasks", type=int, default=20, help="eval tasks (the other half trains the PRM)"
    )
    parser.add_argument("--budget", type=int, default=32, help="policy calls per task")
    parser.add_argument("--seeds", type=int, default=3, help="policy seeds per task")
    parser.add_argument("--pool", type=int, default=16, help="episodes per task for the N curves")
    parser.add_argument("--perms", type=int, default=20, help="orders of the pool averaged per N")
    parser.add_argument("--train-samples", type=int, default=6)
    parser.add_argument("--policy", help="a policy spec instead of the step-noisy oracle")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument(
        "--swe",
        type=int,
        default=0,
        help="also a SWE table on this many tasks per project (bwrap; slow)",
    )
    parser.add_argument("--swe-only", action="store_true")
    parser.add_argument("--swe-budget", type=int, default=8)
    args = parser.parse_args()
    if args.swe_only:
        print(f"# load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; p={args.p}")
        await swe_slice(args)
        return
    ids = sorted(agentgym.make_async(ENV).tasks)
    random.Random(7).shuffle(ids)
    half = len(ids) // 2
    train_ids, eval_ids = ids[:half], sorted(ids[half:])[: args.tasks]
    print(
        f"# bench/search_quality.py: load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
        f"{len(eval_ids)} eval tasks, p={args.p}, budget {args.budget} calls, {args.seeds} seeds"
    )
    with tempfile.TemporaryDirectory() as scratch:
        prm = await train_verifier(args, train_ids, Path(scratch))
        pools = [await pool(args, t, s, prm) for s in range(args.seeds) for t in eval_ids]
        curve = curves(pools, args.pool, args.perms)
        print("\n| N | mean calls | coverage (oracle) | " + " | ".join(SELECTORS) + " |")
        print("|---" * (3 + len(SELECTORS)) + "|")
        for i in range(args.pool):
            if i + 1 in (1, 2, 4, 8, 12, 16) or i + 1 == args.pool:
                cells = " | ".join(f"{curve[k][i]:.3f}" for k in SELECTORS)
                print(
                    f"| {i + 1} | {curve['calls'][i]:.1f} | {curve['coverage'][i]:.3f} | {cells} |"
                )
        print(
            f"\n| method (<= {args.budget} policy calls per task) | success | calls | env steps | "
            "forks | wall ms/task |\n|---|---|---|---|---|---|"
        )
        table = await equal_budget(args, eval_ids, prm)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"curves": curve, "equal_budget": table, "args": vars(args)}, indent=1, default=str
            )
        )
    if args.swe:
        await swe_slice(args)
    if not args.no_plots:
        plot(curve, table, args)
        print(f"\nplots: {IMG / 'search_coverage.png'}, {IMG / 'search_budget.png'}")


if __name__ == "__main__":
    asyncio.run(main())
