"""Web environment benchmark: reset of an episode of our apps against a fresh browser launch.

    .venv/bin/python bench/web.py [--app shop] [--n 20]

Prints, measured in the same run:
- reset of an episode (own DB copy, own browser context, start page loaded and observed): with
  think time between episodes, as in a real rollout, so the env has the next episode prepared;
  without that preparation (only a spare context is ready); and back to back;
- the peer: what a reset costs when each episode launches its own browser (launch, context, page,
  the same start page, the same observation), as harnesses that start Chromium per episode do.
Goal: reset under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentgym.environments.web import serve  # noqa: E402
from agentgym.environments.web.app_env import AppEnv  # noqa: E402
from agentgym.environments.web.browser import SharedBrowser, shared_browser  # noqa: E402
from agentgym.environments.web.observe import read_page  # noqa: E402


def summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    return f"median {statistics.median(ms):7.1f} ms   p90 {p90:7.1f} ms   (n={len(ms)})"


async def our_resets(app: str, n: int, think_s: float, prepare_next: bool = True) -> list[float]:
    env = AppEnv(app, prepare_next=prepare_next)
    task_ids = sorted(env.tasks)
    await env.reset(options={"task_id": task_ids[0]})  # launches the shared browser
    times = []
    try:
        for i in range(n):
            await asyncio.sleep(think_s)
            started = time.perf_counter()
            await env.reset(options={"task_id": task_ids[i % len(task_ids)]})
            times.append(time.perf_counter() - started)
    finally:
        await env.close()
    return times


async def fresh_launch_resets(app: str, n: int) -> list[float]:
    """The peer: a new browser for every episode, serving the same app the same way."""
    env = AppEnv(app)
    task = env.tasks[sorted(env.tasks)[0]]
    template = serve.db_template(app, env.app, task.db_seed)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        browser = SharedBrowser(spares=0)
        db = serve.episode_db(template)
        context, router, page = await browser.claim()
        origin = serve.app_origin(app)
        site = serve.AsgiSite(env.app.create_app(str(db)), origin)
        router.use({origin: site}, [origin])
        await page.goto(origin + task.start_url)
        await read_page(page)
        times.append(time.perf_counter() - started)
        await site.close()
        await browser.close()
        db.unlink()
    return times


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", default="shop")
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    warm = await our_resets(args.app, args.n, think_s=1.0)
    unprepared = await our_resets(args.app, args.n, think_s=1.0, prepare_next=False)
    back_to_back = await our_resets(args.app, args.n, think_s=0.0)
    fresh = await fresh_launch_resets(args.app, max(3, args.n // 4))
    await shared_browser().close()
    print(f"web/{args.app} episode reset")
    print(f"  ours, next episode prepared during think time (1 s)   {summary(warm)}")
    print(f"  ours, next episode not prepared (spare context only)  {summary(unprepared)}")
    print(f"  ours, back to back (no time to prepare)               {summary(back_to_back)}")
    print(f"  peer: fresh browser launch per episode                {summary(fresh)}")
    for label, times in (("prepared", warm), ("not prepared", unprepared), ("back to back", back_to_back)):
        ratio = statistics.median(fresh) / statistics.median(times)
        print(f"  fresh launch / ours ({label}): {ratio:,.1f}x")
    print(f"  goal < 100 ms (median, prepared): {'met' if statistics.median(warm) < 0.1 else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main())
