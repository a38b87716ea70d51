"""Web environment speed, side by side with BrowserGym in the same run, on the same Chromium.

    .venv/bin/python bench/web.py [--n 20] [--bg-python /work/wt/bgvenv/bin/python]
    .venv/bin/python bench/web.py --check-reuse [--tasks a,b]   # see check_reuse below

BrowserGym (browsergym-core and browsergym-miniwob 0.14.3) pins playwright 1.44 while we use 1.65,
so it runs in a venv of its own (`--bg-python`; made with `python -m venv /work/wt/bgvenv &&
/work/wt/bgvenv/bin/pip install browsergym-core browsergym-miniwob`), driven by this same file
(`--peer`). Both launch /usr/bin/chromium with our CHROMIUM_ARGS and serve the same MiniWoB++ pages
(the installed `miniwob` package's html, to BrowserGym as file:// URLs). BrowserGym runs in its
fast config: slow_mo=0 and pre_observation_delay=0 (its MiniWoB++ defaults wait 100 ms per
Playwright call and 0.5 s per step). Both sides are timed the same way: wall time around each
`reset(seed)` or `step(click)` call, back to back, medians; task by task, BrowserGym then ours,
so a change in the machine's load (it is shared) hits both alike.

Printed, with the ratios:
- MiniWoB++ reset (a new episode of the same task), per task;
- a click step on a checkbox (click-checkboxes, where a click does not end the episode):
  BrowserGym's step observes the DOM snapshot, the accessibility tree and a screenshot; ours is
  timed with our default observation and with the same content (axtree and screenshot on);
- an episode reset of our shop app, back to back and after think time, against a browser
  launched per episode as BrowserGym does (plain Playwright, our app served the same way);
- fork of a shop and of a MiniWoB++ episode (BrowserGym has no fork: no ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASKS = ["click-button", "click-checkboxes", "enter-text", "choose-list"]
CLICK_TASK = "click-checkboxes"
FIRST_CHECKBOX_JS = "() => document.querySelector('#area input[type=checkbox]')"


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def row(
    label: str, ours: list[float], peer: list[float] | None, peer_name: str = "BrowserGym"
) -> str:
    line = f"  {label:<54} ours {median_ms(ours):7.1f} ms"
    if peer:
        ratio = median_ms(peer) / median_ms(ours)
        line += f"   {peer_name} {median_ms(peer):7.1f} ms   {ratio:5.1f}x"
    return line


# ---- BrowserGym's side (runs in its own venv; imports nothing of ours) ------------------------------


def peer_browsergym(config: dict) -> dict:
    os.environ["MINIWOB_URL"] = f"file://{config['html']}/miniwob/"
    from playwright.sync_api._generated import BrowserType

    launch = BrowserType.launch

    def same_chromium(self, *args, **kwargs):  # its own launch, on our binary with our arguments
        kwargs["executable_path"] = config["chromium"]
        kwargs["args"] = [*(kwargs.get("args") or []), *config["args"]]
        return launch(self, *args, **kwargs)

    BrowserType.launch = same_chromium
    import browsergym.miniwob  # noqa: F401  (registers the browsergym/miniwob.* ids)
    import gymnasium as gym

    out: dict[str, dict[str, list[float]]] = {}
    for task in config["tasks"]:
        env = gym.make(f"browsergym/miniwob.{task}", slow_mo=0, pre_observation_delay=0)
        env.reset(seed=0)  # the global Playwright starts here, untimed
        resets = []
        for i in range(config["n"]):
            started = time.perf_counter()
            env.reset(seed=i + 1)
            resets.append(time.perf_counter() - started)
        out[task] = {"reset": resets}
        if task == CLICK_TASK:
            env.reset(seed=1)
            bid = env.unwrapped.page.evaluate(f"({FIRST_CHECKBOX_JS})().getAttribute('bid')")
            clicks = []
            for _ in range(config["n"]):
                started = time.perf_counter()
                obs, *_ = env.step(f"click('{bid}')")
                clicks.append(time.perf_counter() - started)
            assert (
                obs["screenshot"] is not None
                and obs["axtree_object"]
                and not obs["last_action_error"]
            )
            out[task]["click"] = clicks
        env.close()
    return out


def run_peer(bg_python: str, tasks: list[str], n: int) -> tuple[dict | None, str]:
    from agentgym.environments.web.browser import CHROMIUM_ARGS, chromium_path
    from agentgym.environments.web.miniwob import html_root

    if not Path(bg_python).exists():
        return None, f"no BrowserGym venv at {bg_python}"
    config = {
        "tasks": tasks,
        "n": n,
        "chromium": chromium_path(),
        "args": CHROMIUM_ARGS,
        "html": str(html_root()),
    }
    done = subprocess.run(
        [bg_python, __file__, "--peer", json.dumps(config)], capture_output=True, text=True
    )
    if done.returncode != 0:
        return None, f"BrowserGym failed: {done.stderr.strip().splitlines()[-1:]}"
    return json.loads(done.stdout.strip().splitlines()[-1]), ""


# ---- our side ------------------------------------------------------------------------------------


async def our_miniwob(task: str, n: int, **observe: bool) -> dict[str, list[float]]:
    from agentgym.environments.web.miniwob import MiniWobEnv

    env = MiniWobEnv(task, **observe)
    try:
        await env.reset(seed=0)
        resets = []
        for i in range(n):
            started = time.perf_counter()
            await env.reset(seed=i + 1)
            resets.append(time.perf_counter() - started)
        out = {"reset": resets}
        if task == CLICK_TASK:
            await env.reset(seed=1)
            element = next(e["id"] for e in env.extras()["elements"] if e["role"] == "checkbox")
            action = {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c", "function": {"name": "click", "arguments": {"id": element}}}
                ],
            }
            clicks = []
            for _ in range(n):
                started = time.perf_counter()
                result = await env.step(action)
                clicks.append(time.perf_counter() - started)
                assert result.observation.messages[-1].content.startswith("clicked")
            out["click"] = clicks
        return out
    finally:
        await env.close()


async def our_app_resets(n: int, think_s: float, **options: bool) -> list[float]:
    from agentgym.environments.web.app_env import AppEnv

    env = AppEnv("shop", **options)
    ids = sorted(env.tasks)
    times = []
    try:
        await env.reset(options={"task_id": ids[0]})
        for i in range(n):
            await asyncio.sleep(think_s)
            started = time.perf_counter()
            await env.reset(options={"task_id": ids[i % len(ids)]})
            times.append(time.perf_counter() - started)
    finally:
        await env.close()
    return times


async def launch_per_episode_resets(n: int) -> list[float]:
    """The peer for our app: a browser launched for each episode (as BrowserGym does), our app
    served the same way, the same start page and observation."""
    from agentgym.environments.web import serve
    from agentgym.environments.web.app_env import AppEnv
    from agentgym.environments.web.browser import SharedBrowser
    from agentgym.environments.web.observe import read_page

    env = AppEnv("shop")
    task = env.tasks[sorted(env.tasks)[0]]
    template = serve.db_template("shop", env.app, task.db_seed)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        browser = SharedBrowser(spares=0)
        db = serve.episode_db(template)
        context, router, (page,) = await browser.claim()
        site = serve.AsgiSite(env.app.create_app(str(db)), env.origin)
        router.use({env.origin: site}, [env.origin])
        await page.goto(env.origin + task.start_url)
        await read_page(page)
        times.append(time.perf_counter() - started)
        await site.close()
        await browser.close()
        db.unlink()
    return times


async def our_forks(n: int) -> dict[str, list[float]]:
    from agentgym.environments.web.app_env import AppEnv
    from agentgym.environments.web.miniwob import MiniWobEnv

    out: dict[str, list[float]] = {}
    for name, env in (
        ("shop", AppEnv("shop", prepare_next=False)),
        ("miniwob enter-text", MiniWobEnv("enter-text")),
    ):
        times = []
        try:
            await env.reset(seed=1) if name != "shop" else await env.reset(
                options={"task_id": "shop.add_to_cart.0"}
            )
            await env.step(
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c",
                            "function": {"name": "scroll", "arguments": {"direction": "down"}},
                        }
                    ],
                }
            )
            for _ in range(n):
                started = time.perf_counter()
                child = await env.fork()
                times.append(time.perf_counter() - started)
                await child.close()
        finally:
            await env.close()
        out[name] = times
    return out


async def measure(tasks: list[str], n: int, bg_python: str) -> tuple[dict, dict | None, str]:
    """Task by task, BrowserGym then ours, so a change in the machine's load hits both alike."""
    out: dict = {"miniwob": {}, "miniwob_full_obs": {}}
    peer: dict | None = {}
    why = ""
    for task in tasks:
        if peer is not None:
            measured, why = await asyncio.to_thread(run_peer, bg_python, [task], n)
            peer = None if measured is None else {**peer, **measured}
        out["miniwob"][task] = await our_miniwob(task, n)
        if task == CLICK_TASK:
            out["miniwob_full_obs"] = await our_miniwob(task, n, axtree=True, screenshot=True)
    out["app_back_to_back"] = await our_app_resets(n, think_s=0.0)
    out["app_think"] = await our_app_resets(max(5, n // 2), think_s=1.0)
    out["app_new_context"] = await our_app_resets(
        max(5, n // 2), 0.0, reuse_pages=False, prepare_next=False
    )
    out["app_launch_per_episode"] = await launch_per_episode_resets(max(3, n // 4))
    out["fork"] = await our_forks(max(3, n // 4))
    from agentgym.environments.web.browser import shutdown

    await shutdown()
    return out, peer, why


def report(ours: dict, peer: dict | None, why: str) -> None:
    print(f"web speed (medians; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    if peer is None:
        print(f"  BrowserGym not measured: {why}")
    print("MiniWoB++ reset, a new episode of the same task")
    for task, times in ours["miniwob"].items():
        print(row(task, times["reset"], (peer or {}).get(task, {}).get("reset")))
    print(f"click step ({CLICK_TASK})")
    bg_click = (peer or {}).get(CLICK_TASK, {}).get("click")
    print(
        row("ours: page text (default observation)", ours["miniwob"][CLICK_TASK]["click"], bg_click)
    )
    print(
        row(
            "ours: page text + axtree + screenshot (as BrowserGym)",
            ours["miniwob_full_obs"]["click"],
            bg_click,
        )
    )
    print("shop episode reset (peer: a browser launched per episode, as BrowserGym does)")
    peer_app, name = ours["app_launch_per_episode"], "launch/episode"
    print(
        row(
            "back to back (the last episode's tab reused)", ours["app_back_to_back"], peer_app, name
        )
    )
    print(row("after 1 s think time (next episode prepared)", ours["app_think"], peer_app, name))
    new_context = ours["app_new_context"]
    print(row("back to back, a new context each (reuse_pages=False)", new_context, peer_app, name))
    verdict = "met" if median_ms(ours["app_back_to_back"]) < 100 else "NOT met"
    print(f"  goal: back to back < 100 ms: {verdict}")
    print("fork mid-episode (BrowserGym has no fork)")
    for name, times in ours["fork"].items():
        print(row(name, times, None))


# ---- is an in-place new episode the same as a fresh page's? ------------------------------------------


async def check_reuse(tasks: list[str]) -> None:
    """For every task: a messy episode, then a new one in place, against two fresh pages (to tell a
    page that differs from itself from one that keeps something). Pages that differ belong in
    miniwob.RELOAD_EACH_EPISODE."""
    from agentgym.environments.web.miniwob import MiniWobEnv

    def act(env: MiniWobEnv, k: int) -> dict | None:
        elements = env.extras().get("elements", [])
        if k >= len(elements):
            return None
        e = elements[k]
        name, args = (
            ("fill", {"id": e["id"], "text": "zz"})
            if e["role"] == "textbox"
            else ("click", {"id": e["id"]})
        )
        return {
            "role": "assistant",
            "tool_calls": [{"id": "c", "function": {"name": name, "arguments": args}}],
        }

    async def look(env: MiniWobEnv, reuse_seed: int) -> list:
        obs, _ = await env.reset(seed=reuse_seed)
        seen = [obs.messages[-1].content, await env._state()]
        for k in range(2):  # the same two actions on both: a leak in script state shows here
            action = act(env, k)
            if action is None or env.done:
                break
            step = await env.step(action)
            seen += [step.observation.messages[-1].content, await env._state()]
        return seen

    async def one(task: str) -> str | None:
        reused, fresh, again = (
            MiniWobEnv(task),
            MiniWobEnv(task, reuse_pages=False),
            MiniWobEnv(task, reuse_pages=False),
        )
        try:
            await reused.reset(seed=11)
            for k in range(4):
                action = act(reused, k)
                if action is None or reused.done:
                    break
                await reused.step(action)
            a, b, c = await look(reused, 12), await look(fresh, 12), await look(again, 12)
            if b != c:
                return "differs between two fresh pages (time-driven)"
            if a != b:
                return "differs after an in-place new episode"
            return None
        except Exception as e:
            return f"error: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
        finally:
            for env in (reused, fresh, again):
                await env.close()

    gate = asyncio.Semaphore(2)

    async def gated(task: str) -> tuple[str, str | None]:
        async with gate:
            return task, await one(task)

    results = await asyncio.gather(*(gated(t) for t in tasks))
    bad = {t: why for t, why in results if why}
    for task, why in sorted(bad.items()):
        print(f"  {task}: {why}")
    print(
        f"{len(results) - len(bad)} of {len(results)} pages start a new episode in place as a fresh page does"
    )
    print(
        "RELOAD_EACH_EPISODE candidates:",
        json.dumps(sorted(t for t, w in bad.items() if not w.startswith("error"))),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--bg-python", default="/work/wt/bgvenv/bin/python")
    parser.add_argument("--check-reuse", action="store_true")
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        print(json.dumps(peer_browsergym(json.loads(args.peer))))
        return
    sys.path.insert(0, str(ROOT))
    if args.check_reuse:
        from agentgym.environments.web.miniwob import task_names

        tasks = task_names() if args.tasks == ",".join(TASKS) else args.tasks.split(",")
        asyncio.run(check_reuse(tasks))
        return
    tasks = args.tasks.split(",")
    if CLICK_TASK not in tasks:
        tasks.append(CLICK_TASK)
    report(*asyncio.run(measure(tasks, args.n, args.bg_python)))


if __name__ == "__main__":
    main()
