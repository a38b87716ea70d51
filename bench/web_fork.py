"""Where the time of a web fork goes, phase by phase, against its peer in the same run: what a
search without fork does to copy the same branch (a fresh env, reset, and the branch's steps
replayed). Per repetition, in turn: the fork (and its child's first step), then the replay copy
(and the same step), so a change in the machine's load (it is shared) hits both alike.

    .venv/bin/python bench/web_fork.py [--n 12] [--env web/Shop-v0]

The branch: a shop episode 5 steps deep with two tabs and a half-filled form (the search bench's
random branches mostly have two tabs). Printed: medians per phase of a fork, a reset and a step,
and the ratio a search level sees: (replay copy + step) / (fork + step).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import agentgym  # noqa: E402
from agentgym.core.shutdown import release_shared  # noqa: E402
from agentgym.environments.web import app_env, browser, env, fork  # noqa: E402

TIMES: dict[str, list[float]] = defaultdict(list)
STEPS = [  # (tool, arguments); "{qty}" is the id of the product page's quantity field
    ("goto", {"url": "/product/55"}),
    ("fill", {"id": "{qty}", "text": "3"}),
    ("new_tab", {"url": "/cart"}),
    ("switch_tab", {"index": 0}),
    ("scroll", {"direction": "down"}),
]
NEXT = ("click", {"id": "{add}"})  # the step after the copy: "Add to cart" (a form post)


def timed(owner, name: str, label: str) -> None:
    """Wrap owner.name (a coroutine function) so each call's wall time is added up under label."""
    inner = getattr(owner, name)

    async def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return await inner(*args, **kwargs)
        finally:
            TIMES[label].append(time.perf_counter() - started)

    setattr(owner, name, wrapper)


def message(episode, tool: str, arguments: dict) -> dict:
    ids = {
        e["name"] or e["role"]: e["id"]
        for e in episode.extras()["elements"]
        if e["role"] in ("spinbutton", "button")
    }
    filled = {
        k: (ids["Quantity"] if v == "{qty}" else ids["Add to cart"] if v == "{add}" else v)
        for k, v in arguments.items()
    }
    call = {"id": "c", "function": {"name": tool, "arguments": filled}}
    return {"role": "assistant", "content": None, "tool_calls": [call]}


async def run(env_id: str, n: int) -> None:
    spec = agentgym.spec(env_id)
    task = "shop.add_to_cart.0"
    timed(fork, "capture", "fork: read the parent (cookies, each tab's DOM and fields)")
    timed(app_env.AppEnv, "_fork_sites", "fork: copy the DB (beside the read)")
    timed(browser.SharedBrowser, "claim", "fork: claim a context")
    timed(fork, "_restore", "fork: restore a tab (write or load, fields, ids)")
    timed(fork, "open_fork", "fork: the child's context, all tabs")
    env.capture, env.open_fork = fork.capture, fork.open_fork  # (env imported them by name)
    parent = spec.make_async(prepare_next=False)
    await parent.reset(options={"task_id": task})
    for tool, arguments in STEPS:
        await parent.step(message(parent, tool, arguments))
    for round in range(n + 1):  # the first round warms caches and is dropped
        started = time.perf_counter()
        child = await parent.fork()
        TIMES["FORK (env.fork)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        await child.step(message(child, *NEXT))
        TIMES["step after the fork"].append(time.perf_counter() - started)
        await child.close()
        started = time.perf_counter()
        fresh = spec.make_async(prepare_next=False)
        await fresh.reset(options={"task_id": task})
        TIMES["replay: reset"].append(time.perf_counter() - started)
        for tool, arguments in STEPS:
            await fresh.step(message(fresh, tool, arguments))
        TIMES["REPLAY COPY (reset + 5 steps)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        await fresh.step(message(fresh, *NEXT))
        TIMES["step after the replay"].append(time.perf_counter() - started)
        await fresh.close()
        if round == 0:
            TIMES.clear()
    await parent.close()
    print(f"# bench/web_fork.py {env_id}: load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    med = {k: statistics.median(v) for k, v in TIMES.items()}
    for label, values in TIMES.items():
        print(f"  {label:58s} {1000 * med[label]:7.1f} ms  (n={len(values)})")
    fork_level = med["FORK (env.fork)"] + med["step after the fork"]
    replay_level = med["REPLAY COPY (reset + 5 steps)"] + med["step after the replay"]
    print(
        f"  copy: replay / fork {med['REPLAY COPY (reset + 5 steps)'] / med['FORK (env.fork)']:.1f}x;"
        f" copy + step: replay / fork {replay_level / fork_level:.1f}x"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=12)
    parser.add_argument("--env", default="web/Shop-v0")
    args = parser.parse_args()
    try:
        await run(args.env, args.n)
    finally:
        await release_shared()


if __name__ == "__main__":
    asyncio.run(main())
