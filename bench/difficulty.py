"""The difficulty knob, measured: a fixed scripted baseline's success per level (1..5).

    .venv/bin/python bench/difficulty.py [--count 40]

Generates `--count` airline tasks per level (taskgen.generate_level) and runs the keyword
baseline (agentgym/environments/tooluse/airline/baseline.py) on each, with the scripted user.
The oracle (the task's reference) is run on the same tasks as a check: it must score 1 everywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentgym.environments.tooluse.airline.baseline import KeywordAgent  # noqa: E402
from agentgym.environments.tooluse.airline.env import AirlineEnv  # noqa: E402
from agentgym.environments.tooluse.airline.taskgen import generate_level  # noqa: E402
from agentgym.environments.tooluse.levels import LEVELS  # noqa: E402
from agentgym.evaluation.metrics import bootstrap_ci  # noqa: E402
from agentgym.policies.oracle import OraclePolicy  # noqa: E402
from agentgym.rollout.runner import Job, run_many  # noqa: E402


async def success(tasks, policy) -> list[float]:
    episodes = await run_many(lambda: AirlineEnv(tasks), policy, [Job(t.id) for t in tasks], concurrency=4)
    assert all(e.status != "infra_error" for e in episodes)
    return [1.0 if e.success else 0.0 for e in episodes]


async def main(count: int) -> None:
    print("| level | requests | tasks | baseline success | 95% CI | oracle |\n|---|---|---|---|---|---|")
    for level in LEVELS:
        tasks = generate_level(level, count)
        wins = await success(tasks, KeywordAgent())
        oracle = await success(tasks, OraclePolicy())
        low, high = bootstrap_ci(wins)
        requests = sum(len(t.data.kinds) for t in tasks) / len(tasks)
        print(f"| {level} | {requests:.0f} | {len(tasks)} | {sum(wins) / len(wins):.2f} | {low:.2f}-{high:.2f} "
              f"| {sum(oracle) / len(oracle):.2f} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40, help="tasks per level")
    asyncio.run(main(parser.parse_args().count))
