"""MiniWoB++ tasks, served from the installed `miniwob` package, with the page's own reward.

The page's core.js keeps the episode's result in globals (WOB_DONE_GLOBAL, WOB_RAW_REWARD_GLOBAL,
WOB_REWARD_REASON); the episode is seeded with `Math.seedrandom(seed)` before `core.startEpisodeReal()`,
as the miniwob package itself does. Listing the tasks reads file names only: no browser, no playwright.

A new episode of the same task starts on the same page, as MiniWoB++ pages are made to (its own
harness does the same): form fields go back to their defaults, our element ids and storage are
wiped, and the task generates its next instance. That is done only while the page around the task
area is as it was first loaded (else the page is reloaded), and never for the pages in
`RELOAD_EACH_EPISODE`. A fork replays the episode's actions on a new page with the same seed, and
is refused when that does not reproduce the parent's page (a page driven by time, not only actions).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

from agentgym.core.errors import BrowserError
from agentgym.core.registry import EnvSpec
from agentgym.core.types import Reward
from agentgym.environments.web import reuse, serve
from agentgym.environments.web.browser import shared_browser
from agentgym.environments.web.env import BrowserEnv
from agentgym.environments.web.observe import ID_ATTR
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
#: pages reloaded for each episode: a new episode in place differed from a fresh page's in
#: `python bench/web.py --check-reuse` (in at least one of two runs): timers may fire into the
#: next episode (button-delay, terminal), the colour picker keeps its own state (use-colorwheel*),
#: or the page moves with the clock (chase-circle, stock-market)
RELOAD_EACH_EPISODE = CLOCK_DRIVEN | {
    "button-delay", "chase-circle", "terminal", "use-colorwheel", "use-colorwheel-2",
}

# Runs in the page before the next episode: the page outside the task area must be as first seen;
# then fields go back to their defaults and our ids, storage, focus and selection are cleared.
_FRAME_JS = r"""
() => {
  const OWN = new Set(['wrap', 'reward-display', 'click-canvas', 'sync-task-cover']);
  return Array.from(document.body.children, (el) => OWN.has(el.id) ? '#' + el.id : el.outerHTML).join('\n');
}
"""
_NEXT_EPISODE_JS = r"""
([ID, seed, limitMs]) => {
  // the form reset algorithm, for every field: values back to their defaults, and the fields no
  // longer "dirty" (a field the agent typed in would not take a default the task sets later)
  const form = document.createElement('form'), fields = document.querySelectorAll('input, textarea, select');
  form.id = '__agentgym_reset'; form.hidden = true; document.body.appendChild(form);
  const owners = Array.from(fields, (el) => el.getAttribute('form'));
  fields.forEach((el) => el.setAttribute('form', form.id));
  form.reset();
  fields.forEach((el, i) => owners[i] === null ? el.removeAttribute('form') : el.setAttribute('form', owners[i]));
  form.remove();
  if (location.href.includes('#')) history.replaceState(null, '', location.pathname + location.search);
  for (const el of document.querySelectorAll('[' + ID + ']')) el.removeAttribute(ID);
  window.__agentgymNextId = 1;
  try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}
  if (document.activeElement) document.activeElement.blur();
  Math.seedrandom(seed);
  core.EPISODE_MAX_TIME = limitMs;
  core.startEpisodeReal();
}
"""


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
        self._frame: str | None = None  # the page around the task area, as first loaded

    async def _serve(self, task: WebTask, seed: int | None) -> tuple[dict[str, Any], str]:
        root = html_root()
        assert root is not None
        return {ORIGIN: serve.StaticSite(root)}, ORIGIN + task.start_url

    async def _after_open(self, task: WebTask, seed: int | None) -> None:
        assert self.session is not None
        page = self.session.page
        await page.wait_for_function("typeof core !== 'undefined' && core.cover_div !== null")
        self._frame = await page.evaluate(_FRAME_JS)
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

    async def _reuse(self, task: WebTask, seed: int | None) -> bool:
        return await self._next_episode_in_place(seed) or await super()._reuse(task, seed)

    async def _next_episode_in_place(self, seed: int | None) -> bool:
        session = self.session
        if (not self.reuse_pages or self.task_name in RELOAD_EACH_EPISODE or session is None
                or self._frame is None or not shared_browser().alive):
            return False
        try:
            page = session.page
            if len(session.pages) != 1 or not url_is(page.url, self.tasks[f"miniwob.{self.task_name}"].start_url,
                                                     origin=ORIGIN):
                return False
            if await page.evaluate(_FRAME_JS) != self._frame:
                return False
            await session.context.clear_cookies()
            await page.evaluate(_NEXT_EPISODE_JS, [ID_ATTR, str(seed or 0), int(self.time_limit_s * 1000)])
            await page.wait_for_function("WOB_TASK_READY === true", timeout=10_000)
            await reuse.forget_history(session, page)  # links to "#..." add entries in the page
            self.utterance = await page.evaluate("core.getUtterance()")
        except Exception:
            return False  # the caller reloads the page
        session.answer = session.last_error = None
        return True

    async def _fork_state(self, child: BrowserEnv) -> None:  # type: ignore[override]
        """Replays this episode's actions on a new page with the same seed (a page's script state
        cannot be copied), and checks that the child's page and reward state are this one's."""
        assert isinstance(child, MiniWobEnv) and self.view is not None and self.task is not None
        if self.task_name in CLOCK_DRIVEN:
            raise NotImplementedError(f"MiniWoB++ {self.task_name} cannot be forked: its page changes with the clock")
        task = self.task
        assert isinstance(task, WebTask)
        child.session = None
        try:
            await child._open(task, self._seed)
            await child._look()
            for calls in self._turns:
                for call in calls:
                    await child.toolbox.call(call, **child.tool_context())
                await child._look()
            same = child.view.text == self.view.text and child.view.url == self.view.url
            same = same and await child._state() == await self._state()
        except BaseException:
            await child._dispose(child._detach())
            raise
        if not same:
            await child._dispose(child._detach())
            raise NotImplementedError(f"MiniWoB++ {self.task_name} cannot be forked here: replaying the episode's "
                                      "actions did not reproduce its page (it depends on time, not only on actions)")
        child.session.answer, child.session.last_error = self.session.answer, self.session.last_error
        child.view = self.view

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
