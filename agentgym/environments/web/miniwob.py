"""MiniWoB++ tasks, served from the installed `miniwob` package, with the page's own reward.

The page's core.js keeps the episode's result in globals (WOB_DONE_GLOBAL, WOB_RAW_REWARD_GLOBAL,
WOB_REWARD_REASON); the episode is seeded with `Math.seedrandom(seed)` before `core.startEpisodeReal()`,
as the miniwob package itself does. Listing the tasks reads file names only: no browser, no playwright.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

from agentgym.core.errors import BrowserError
from agentgym.core.registry import EnvSpec
from agentgym.core.types import Reward
from agentgym.environments.web import serve
from agentgym.environments.web.env import BrowserEnv
from agentgym.environments.web.tasks import WebTask
from agentgym.environments.web.urls import url_is

ORIGIN = f"http://miniwob.{serve.APP_DOMAIN}"
# MiniWoB++'s default 10 s limit suits scripted agents, not LLMs; the raw reward ignores time anyway.
DEFAULT_TIME_LIMIT_S = 3600


@lru_cache(maxsize=1)
def html_root() -> Path | None:
    """The installed package's `html/` directory, found without importing the package."""
    try:
        spec = importlib.util.find_spec("miniwob")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "html"
    return root if (root / "miniwob").is_dir() else None


def task_names() -> list[str]:
    root = html_root()
    return sorted(p.stem for p in (root / "miniwob").glob("*.html")) if root else []


#: pages whose instance depends on the clock, not only on the seed (prices move while it runs)
CLOCK_DRIVEN = frozenset({"stock-market"})


def miniwob_specs() -> list[EnvSpec]:
    return [
        EnvSpec(
            id=f"web/miniwob.{name}-v0", entry_point="agentgym.environments.web.miniwob:MiniWobEnv",
            kwargs={"task": name}, description=f"MiniWoB++ {name}", count_tasks=lambda: 1,
            nondeterministic=name in CLOCK_DRIVEN,
        )
        for name in task_names()
    ]


class MiniWobEnv(BrowserEnv):
    """One MiniWoB++ task; the reset seed picks the task instance (same seed, same instance)."""

    mark_leaves = True
    view_root = "#wrap"  # the task itself, without MiniWoB++'s timer and score display

    def __init__(self, task: str, time_limit_s: float = DEFAULT_TIME_LIMIT_S, max_steps: int = 20, **kwargs: Any):
        if task not in task_names():
            raise ValueError(f"no MiniWoB++ task {task!r} in the installed miniwob package")
        self.task_name = task
        self.time_limit_s = time_limit_s
        web_task = WebTask(
            id=f"miniwob.{task}", app="miniwob", start_url=f"/miniwob/{task}.html", allowed_origins=[ORIGIN],
            prompt="Solve the MiniWoB++ task on the page; its instruction is shown at the top.",
        )
        super().__init__([web_task], max_steps=max_steps, **kwargs)
        self.utterance = ""

    async def _serve(self, task: WebTask, seed: int | None) -> tuple[dict[str, Any], str]:
        root = html_root()
        assert root is not None
        return {ORIGIN: serve.StaticSite(root)}, ORIGIN + task.start_url

    async def _after_open(self, task: WebTask, seed: int | None) -> None:
        assert self.session is not None
        page = self.session.page
        await page.wait_for_function("typeof core !== 'undefined' && core.cover_div !== null")
        await page.evaluate(
            """([seed, limitMs]) => {
                Math.seedrandom(seed);
                core.EPISODE_MAX_TIME = limitMs;
                core.startEpisodeReal();
            }""",
            [str(seed or 0), int(self.time_limit_s * 1000)],
        )
        await page.wait_for_function("WOB_TASK_READY === true", timeout=10_000)
        self.utterance = await page.evaluate("core.getUtterance()")

    def _intro(self, task: WebTask) -> str:
        return f"MiniWoB++ task: {self.utterance}"

    async def _state(self) -> dict[str, Any]:
        assert self.session is not None
        page = self.session.page
        if not url_is(page.url, self.tasks[f"miniwob.{self.task_name}"].start_url, origin=ORIGIN):
            # the agent navigated away (go_back, goto, a form submit): the instance is lost, and
            # another task's page (even at a URL that ends like this one's) has its own reward
            return {"done": True, "raw": -1.0, "reason": f"the agent left the task page for {page.url}"}
        try:
            state = await page.evaluate(
                "typeof WOB_DONE_GLOBAL === 'undefined' ? null :"
                " ({done: WOB_DONE_GLOBAL, raw: WOB_RAW_REWARD_GLOBAL, reason: WOB_REWARD_REASON})"
            )
        except Exception as e:
            raise BrowserError(f"could not read the MiniWoB++ reward: {e}") from e
        if state is None:
            raise BrowserError("the MiniWoB++ page has no reward globals (did it fail to load?)")
        return state

    async def _progress(self) -> tuple[Reward, bool]:
        state = await self._state()
        return Reward(value=0.0, source="web"), bool(state["done"])

    async def score(self) -> Reward:
        state = await self._state()
        raw = float(state["raw"] or 0.0)
        value = max(0.0, raw) if state["done"] else 0.0
        reason = state["reason"] or ("the task was not finished" if not state["done"] else "")
        return Reward(value=value, components={"raw_reward": raw if state["done"] else 0.0},
                      explanation=f"MiniWoB++ reward {raw:g}: {reason}", source="web")
