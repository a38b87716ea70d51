"""SWE environment benchmark: episode reset on a cached environment, and step-reward cost.

    .venv/bin/python bench/swe.py [--task ID] [--n 10]

Prints, measured in the same run:
- reset of an episode of an already-built environment (sandbox on the cached layer + base state),
  against building the environment from its sdist into an empty cache;
- a step reward on a tree not seen before (a test run in a fresh sandbox) against the same tree
  re-checked (served from the cache keyed by the workspace diff).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentgym.core.types import Action, ToolCall  # noqa: E402
from agentgym.environments.swe.build import build_environment  # noqa: E402
from agentgym.environments.swe.env import SWEEnv  # noqa: E402
from agentgym.environments.swe.schema import load_tasks  # noqa: E402


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.1f} ms (median of {len(samples)})"


async def run(task_id: str | None, n: int) -> None:
    tasks = load_tasks()
    task = next(t for t in tasks if t.id == task_id) if task_id else tasks[0]
    build_environment(task.data.environment, task.id)  # make sure it is cached
    env = SWEEnv([task])

    resets = []
    for _ in range(n):
        start = time.perf_counter()
        await env.reset(options={"task_id": task.id})
        resets.append(time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as cache:  # a cold build, for scale
        previous = os.environ.get("AGENTGYM_CACHE")
        os.environ["AGENTGYM_CACHE"] = cache
        start = time.perf_counter()
        build_environment(task.data.environment, task.id)
        cold = time.perf_counter() - start
        if previous is None:
            os.environ.pop("AGENTGYM_CACHE")
        else:
            os.environ["AGENTGYM_CACHE"] = previous

    await env.reset(options={"task_id": task.id})
    for action in task.reference[:-1]:
        await env.step(action)
    verifier, sandbox = env.verifier, env.sandbox
    misses, hits = [], []
    for _ in range(n):
        verifier.cache.clear()
        start = time.perf_counter()
        await verifier.f2p_fraction(sandbox)
        misses.append(time.perf_counter() - start)
        start = time.perf_counter()
        await verifier.f2p_fraction(sandbox)
        hits.append(time.perf_counter() - start)
    await env.step(Action(tool_calls=[ToolCall(id="s", name="submit")]))
    await env.close()

    print(f"task {task.id} ({task.data.environment.source_label}, {len(task.data.FAIL_TO_PASS)} FAIL_TO_PASS tests)")
    print(f"reset, cached environment : {_median_ms(resets)}")
    print(f"build, empty cache        : {cold * 1000:8.1f} ms (once)  -> reset is {cold / statistics.median(resets):.0f}x faster")
    print(f"step reward, new tree     : {_median_ms(misses)}")
    print(f"step reward, cached tree  : {_median_ms(hits)}  -> cache is {statistics.median(misses) / statistics.median(hits):.1f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default=None, help="task id (default: the first shipped task)")
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.task, args.n))


if __name__ == "__main__":
    main()
