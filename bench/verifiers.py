"""Best-of-N with deployable verifiers on tool-use episodes: does a hybrid pick a passing
candidate more often than either of its parts?

    agentgym eval tooluse/Retail-v0 --policy agentgym.policies.noisy:NoisyOracle -k 6 --out runs/noisy
    agentgym eval tooluse/Retail-v0 --policy random:1 -k 2 --max-steps 10 --out runs/random
    python bench/verifiers.py runs/noisy runs/random [--splits 3] [--judge openai:MODEL]

For each split (seeded), half of the tasks train a PRM (their episodes only) and the other half
are ranked: per task, every verifier picks its top-scored candidate, and the table gives how
often that pick passes the execution verifier (ties share the pick), beside a random pick and the
best possible pick. The execution verifier itself is shown as the privileged upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
from pathlib import Path

from agentgym.verifiers.compose import hybrid
from agentgym.verifiers.metrics import auroc
from agentgym.verifiers.prm import PRMVerifier, train_prm
from agentgym.verifiers.ranking import baselines, pick_success
from agentgym.verifiers.registry import load_verifier
from agentgym.verifiers.scoring import load_episodes, score_all, scored_episodes, tasks_for


async def one_split(episodes, tasks, seed: int, judge: str | None, out: Path) -> dict[str, tuple[float, float]]:
    task_ids = sorted({e.task_id for e in episodes})
    random.Random(seed).shuffle(task_ids)
    train_ids = set(task_ids[: len(task_ids) // 2])
    train = [e for e in episodes if e.task_id in train_ids]
    test = [e for e in episodes if e.task_id not in train_ids]
    prm, report = train_prm(train, out / f"prm-{seed}", holdout=0.0, seed=seed)
    prm_v, rules = PRMVerifier(prm), load_verifier("tooluse_rules")
    verifiers = {"prm": prm_v, "tooluse_rules": rules, "hybrid(prm, tooluse_rules)": hybrid([prm_v, rules])}
    if judge:
        judge_v = load_verifier(f"judge:{judge}")
        verifiers.update({"judge": judge_v, "hybrid(prm, judge)": hybrid([prm_v, judge_v])})
    verifiers["execution (privileged)"] = load_verifier("execution")
    labels = [e.success for e in test]
    rows = {}
    for name, verifier in verifiers.items():
        scores = [r.value for r in await score_all(verifier, test, tasks)]
        rows[name] = (pick_success(scores, test), auroc(scores, labels) or float("nan"))
    base = baselines(test)
    rows["random pick"] = (base.random_pick, 0.5)
    rows["best possible pick"] = (base.best_possible, float("nan"))
    print(f"split {seed}: PRM trained on {len(train)} episodes ({report.train_states} states) in "
          f"{report.seconds:.0f}s; ranked {base.tasks} tasks x {base.candidates:.1f} candidates", flush=True)
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("episodes", nargs="+")
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--judge", help="a policy spec for an LLM judge (needs an endpoint)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    episodes = scored_episodes(load_episodes(args.episodes))
    tasks = await tasks_for(episodes)
    with tempfile.TemporaryDirectory() as scratch:
        results = [await one_split(episodes, tasks, seed, args.judge, Path(scratch)) for seed in range(args.splits)]
    print(f"\n{len(episodes)} episodes; mean over {args.splits} splits (task halves)\n")
    print("| verifier | top pick passes | AUROC vs execution |")
    print("|---|---|---|")
    table = {}
    for name in results[0]:
        pick = statistics.fmean(r[name][0] for r in results)
        area = statistics.fmean(r[name][1] for r in results)
        table[name] = {"pick_success": pick, "auroc": area,
                       "per_split": [r[name][0] for r in results]}
        splits = ", ".join(f"{r[name][0]:.3f}" for r in results)
        print(f"| {name} | {pick:.3f} ({splits}) | {'n/a' if area != area else f'{area:.3f}'} |")
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
