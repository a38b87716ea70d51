"""Web envs: a browser episode driven by tool calls (`BrowserEnv`), and our apps on it (`AppEnv`).

Each episode gets its own browser context on the shared Chromium and, for our apps, its own copy
of the seeded app DB served in-process (see serve.py), so reset costs milliseconds.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import time
from pathlib import Path
from typing import Any

from agentgym.core.errors import BrowserError, InfraError, VerifierError
from agentgym.core.paths import tasks_dir
from agentgym.core.types import Message, Reward, Task
from agentgym.environments.base import CallResult, ToolEnv, Turn
from agentgym.environments.web import serve
from agentgym.environments.web.actions import BROWSER_TOOLS, BrowserSession
from agentgym.environments.web.browser import shared_browser
from agentgym.environments.web.observe import PageView, read_page
from agentgym.environments.web.tasks import WebTask, load_tasks
from agentgym.environments.web.verify import (
    SubgoalTracker,
    answer_matches,
    collateral_changes,
    open_readonly,
    run_check,
)
from agentgym.tools import Toolbox
from agentgym.verifiers.state_diff import explain

SYSTEM_PROMPT = (
    "You operate a web browser to do what the user asks. Each observation shows the page as text; "
    "interactive elements appear as [id role \"name\" ...]. Act with the tools, using those ids. "
    "When the task is done (or you have the information asked for), call answer(text)."
)
NAVIGATION_TIMEOUT_MS = 30_000  # opening the start page (the agent's own actions have their own limit)
_OLD_PAGE = "[earlier page omitted; the latest observation shows the current page]"


class BrowserEnv(ToolEnv):
    """A browser episode: tools act on the page, each step shows the page again. Subclasses serve it."""

    no_call_reply = "Error: no tool call found. Act with one of the tools, or call answer(text)."
    parse_hint = "Act with one of the tools, or call answer(text)."

    #: give ids to plain clickable leaves too (MiniWoB++ pages use unmarked divs and SVG shapes)
    mark_leaves = False
    #: CSS selector of the part of the page to show (None: the whole body)
    view_root: str | None = None
    fork_resources = ("session", "_sites")

    def __init__(
        self,
        tasks: list[Task],
        max_steps: int = 30,
        screenshot: bool = False,
        max_chars: int = 12_000,
        action_timeout_ms: int = 10_000,
    ):
        super().__init__(tasks, max_steps=max_steps, toolbox=Toolbox(BROWSER_TOOLS, validate="lax"))
        self.screenshot = screenshot
        self.max_chars = max_chars
        self.action_timeout_ms = action_timeout_ms
        self.session: BrowserSession | None = None
        self.view: PageView | None = None
        self._png: bytes | None = None
        self._page_messages: list[int] = []
        self._sites: dict[str, Any] = {}
        self._disposals: set[asyncio.Task] = set()

    def reference_solver(self, task: Task) -> Any | None:
        """Replays the task's `solution` through the browser tools, finding each element's id on
        the page as the agent would see it (ids are not fixed across pages)."""
        if not isinstance(task, WebTask) or not task.solution:
            return None
        from agentgym.environments.web.solver import ReferenceSolver

        return ReferenceSolver(task)

    # ---- what subclasses provide ---------------------------------------------------------------

    async def _serve(self, task: WebTask, seed: int | None) -> tuple[dict[str, Any], str]:
        """Sites to route for this episode ({origin: site}) and the absolute start URL."""
        raise NotImplementedError

    async def _after_open(self, task: WebTask, seed: int | None) -> None:
        """Hook once the start page has loaded (MiniWoB++ starts its episode here)."""

    def _intro(self, task: WebTask) -> str:
        return task.prompt

    async def _progress(self) -> tuple[Reward, bool]:
        """Step reward after an action, and whether the episode is over regardless of answer()."""
        return Reward(value=0.0, source="web"), False

    # ---- the episode ---------------------------------------------------------------------------

    async def _open_session(self, sites: dict[str, Any], task: WebTask, start_url: str) -> BrowserSession:
        """A fresh browser context showing `start_url`, its requests answered by `sites`."""
        origins = sorted({*sites, *task.allowed_origins})
        context, router, page = await shared_browser().claim()
        router.use(sites, origins)
        session = BrowserSession(context, origins, timeout_ms=self.action_timeout_ms)
        session.adopt(page)
        try:
            # replace (not push) the spare's warm-up page, so it is not in the episode's history
            async with page.expect_navigation(wait_until="commit", timeout=NAVIGATION_TIMEOUT_MS):
                await page.evaluate("url => location.replace(url)", start_url)
        except Exception as e:
            await context.close()
            raise BrowserError(f"could not open {start_url}: {e}") from e
        return session

    async def _open(self, task: WebTask, seed: int | None) -> None:
        """Serve `task` and open its start page (sets `session` and `_sites`)."""
        self._sites, start_url = await self._serve(task, seed)
        self.session = await self._open_session(self._sites, task, start_url)
        try:
            await self._after_open(task, seed)
        except InfraError:
            raise
        except Exception as e:
            raise BrowserError(f"could not start the task on {start_url}: {e}") from e

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        assert isinstance(task, WebTask)
        self._retire()
        self.view = None
        await self._open(task, seed)
        self._raise_site_failure()
        if self.view is None:  # (a prepared episode has already read its start page)
            await self._look()
        self._page_messages = [1]
        return [
            Message(role="system", content=SYSTEM_PROMPT),
            Message(role="user", content=f"{self._intro(task)}\n\n{self._render()}"),
        ]

    def tool_context(self) -> dict[str, Any]:
        return {"session": self.session}

    def ends_episode(self, result: CallResult) -> bool:
        return self.session is not None and self.session.answer is not None

    async def after_turn(self, turn: Turn, messages: list[Message]) -> None:
        assert self.session is not None
        if turn.problems or not turn.calls:  # calls that did not parse are reported, even beside good ones
            self.session.last_error = messages[-1].content.removeprefix("[environment] ")
        elif turn.results:
            last = turn.results[-1]
            self.session.last_error = None if last.ok else last.message.content
        self._raise_site_failure()
        await self._look()
        self._forget_old_pages()
        self._page_messages.append(len(self.messages) + len(messages) - 1)
        last_message = messages[-1]
        messages[-1] = last_message.model_copy(
            update={"content": f"{last_message.content or ''}\n\n{self._render()}"})

    async def step_reward(self, turn: Turn) -> Reward:
        reward, over = await self._progress()
        turn.ended |= over
        return reward

    def _raise_site_failure(self) -> None:
        """A crash of our own app during the step is infrastructure, not something the agent did."""
        for site in self._sites.values():
            error = getattr(site, "take_error", lambda: None)()
            if error is not None:
                raise BrowserError(f"the served app failed: {type(error).__name__}: {error}") from error

    async def _look(self) -> None:
        assert self.session is not None
        try:
            self.view = await read_page(self.session.page, self.max_chars, leaves=self.mark_leaves, root=self.view_root)
            self._png = await self.session.page.screenshot(type="png") if self.screenshot else None
        except InfraError:
            raise
        except Exception as e:
            raise BrowserError(f"could not read the page: {e}") from e

    def _render(self) -> str:
        assert self.view is not None and self.session is not None
        tabs = " | ".join(
            f"[{i}]{'*' if i == self.session.active else ''} {p.url}" for i, p in enumerate(self.session.pages)
        )
        head = [f"URL: {self.view.url}", f"Title: {self.view.title}", f"Tabs: {tabs}"]
        if self.session.last_error:
            head.append(f"Last action error: {self.session.last_error}")
        return "\n".join(head) + "\n---\n" + (self.view.text or "(empty page)")

    def _forget_old_pages(self) -> None:
        """Replace earlier page dumps in the history so the conversation stays bounded."""
        for index in self._page_messages:
            if index < len(self.messages):
                m = self.messages[index]
                head = (m.content or "").split("\nURL: ", 1)[0]
                self.messages[index] = m.model_copy(update={"content": f"{head}\n{_OLD_PAGE}".strip()})
        self._page_messages = []

    def extras(self) -> dict[str, Any]:
        if self.view is None or self.session is None:
            return {}
        out: dict[str, Any] = {
            "url": self.view.url,
            "title": self.view.title,
            "tabs": [p.url for p in self.session.pages],
            "active_tab": self.session.active,
            "last_error": self.session.last_error,
            "elements": [
                {"id": e.id, "role": e.role, "name": e.name, "tag": e.tag, "attrs": e.attrs}
                for e in self.view.elements
            ],
        }
        if self._png is not None:
            out["screenshot_png"] = base64.b64encode(self._png).decode()
        return out

    def _detach(self) -> dict[str, Any]:
        """Take the finished episode's resources off the env (they are disposed of elsewhere)."""
        old = {"session": self.session, "sites": self._sites}
        self.session, self._sites = None, {}
        return old

    async def _dispose(self, old: dict[str, Any]) -> None:
        if old["session"] is not None:
            try:
                await old["session"].context.close()
            except Exception:
                pass  # the browser may already be gone
        for site in old["sites"].values():
            await site.close()

    def _retire(self) -> None:
        """Close the previous episode in the background, so a reset need not wait for it."""
        self._retire_resources(self._detach())

    def _retire_resources(self, old: dict[str, Any]) -> None:
        if old["session"] is None and not old["sites"]:
            return
        task = asyncio.get_running_loop().create_task(self._dispose(old))
        self._disposals.add(task)
        task.add_done_callback(self._disposals.discard)

    async def close(self) -> None:
        self._retire()
        if self._disposals:
            await asyncio.gather(*self._disposals)


class AppEnv(BrowserEnv):
    """One of our apps (shop, forum, tracker): own DB copy per episode, sub-goal step rewards."""

    def __init__(self, app: str, tasks: list[WebTask] | None = None, prepare_next: bool = True, **kwargs: Any):
        self.app_name = app
        self.app = importlib.import_module(f"agentgym.environments.web.apps.{app}")
        if tasks is None:
            tasks = load_tasks(tasks_dir() / "web" / f"{app}.jsonl")
        super().__init__(list(tasks), **kwargs)
        self.db_path: Path | None = None
        self.tracker = SubgoalTracker([])
        self.reset_seconds = 0.0
        self.prepare_next = prepare_next
        self._next: asyncio.Task | None = None

    @property
    def origin(self) -> str:
        return serve.app_origin(self.app_name)

    async def _serve(self, task: WebTask, seed: int | None) -> tuple[dict[str, Any], str]:
        template = serve.db_template(self.app_name, self.app, task.db_seed)
        self.db_path = serve.episode_db(template)
        return {self.origin: serve.AsgiSite(self.app.create_app(str(self.db_path)), self.origin)}, (
            self.origin + task.start_url
        )

    # While an agent works on one episode, the next is made ready: a fresh DB copy served to a
    # fresh context already showing the start page. Most tasks of an app share the DB seed and
    # start page, so the next reset usually just takes it; otherwise it is thrown away.

    @staticmethod
    def _key(task: WebTask) -> tuple:
        return (task.db_seed, task.start_url, tuple(task.allowed_origins))

    async def _prepare(self, task: WebTask) -> dict[str, Any]:
        template = serve.db_template(self.app_name, self.app, task.db_seed)
        db = serve.episode_db(template)
        sites = {self.origin: serve.AsgiSite(self.app.create_app(str(db)), self.origin)}
        try:
            session = await self._open_session(sites, task, self.origin + task.start_url)
        except BaseException:
            db.unlink(missing_ok=True)
            raise
        prepared = {"key": self._key(task), "session": session, "sites": sites, "db": db, "view": None}
        if not self.screenshot:  # our pages are server-rendered without scripts: nothing changes until used
            try:
                prepared["view"] = await read_page(session.page, self.max_chars, root=self.view_root)
            except BaseException:
                await self._dispose(prepared)  # context, site and DB copy
                raise
        return prepared

    async def _take_prepared(self, task: WebTask) -> dict[str, Any] | None:
        pending, self._next = self._next, None
        if pending is None:
            return None
        try:
            prepared = await pending  # if still running, finishing it is no slower than starting over
        except Exception:
            return None
        alive = shared_browser().alive and not prepared["session"].pages[0].is_closed()
        if alive and prepared["key"] == self._key(task):
            return prepared
        self._retire_resources(prepared)
        return None

    async def _open(self, task: WebTask, seed: int | None) -> None:
        self.tracker = SubgoalTracker(task.subgoals)
        prepared = await self._take_prepared(task)
        if prepared is not None:
            self.session, self._sites, self.db_path = prepared["session"], prepared["sites"], prepared["db"]
            self.view = prepared["view"]
        else:
            await super()._open(task, seed)
        if self.prepare_next:
            self._next = asyncio.get_running_loop().create_task(self._prepare(task))

    async def _reset(self, task: Task, seed: int | None) -> list[Message]:
        started = time.perf_counter()
        messages = await super()._reset(task, seed)
        self.reset_seconds = time.perf_counter() - started
        return messages

    async def _progress(self) -> tuple[Reward, bool]:
        assert self.db_path is not None and self.view is not None
        with open_readonly(self.db_path) as conn:
            new = self.tracker.update(getattr(self.app, "check", None), conn, self.view.url)
        explanation = ", ".join(new) if new else "no new sub-goal"
        return Reward(value=sum(new.values()), components=new, explanation=explanation, source="web"), False

    async def score(self) -> Reward:
        task = self.task
        assert isinstance(task, WebTask) and self.db_path is not None
        if not task.final_checks and task.answer is None:  # else doing nothing would pass
            raise VerifierError(f"task {task.id} has neither final checks nor an expected answer")
        url = self.view.url if self.view else ""
        components: dict[str, float] = {}
        failed: list[str] = []
        with open_readonly(self.db_path) as conn:
            for i, spec in enumerate(task.final_checks):
                ok = run_check(getattr(self.app, "check", None), spec, conn, url)
                components[f"check_{i}:{spec.check}"] = float(ok)
                if not ok:
                    failed.append(f"{spec.check}{spec.args}")
        if task.allowed_changes is not None:
            template = serve.db_template(self.app_name, self.app, task.db_seed)
            extra = collateral_changes(template, self.db_path, task.allowed_changes)
            components["no_collateral"] = float(not extra)
            if extra:
                failed.append(f"{len(extra)} rows changed that the task does not touch:\n"
                              + explain(extra, "original", "agent", limit=5))
        if task.answer is not None:
            given = self.session.answer if self.session else None
            ok = answer_matches(given, task.answer, task.answer_match)
            components["answer"] = float(ok)
            if not ok:
                failed.append(f"answer {given!r} does not match the expected one ({task.answer_match})")
        value = 1.0 if not failed else 0.0
        explanation = "all checks passed" if not failed else "failed: " + "; ".join(failed)
        return Reward(value=value, components=components, explanation=explanation, source="web")

    def _detach(self) -> dict[str, Any]:
        old = super()._detach()
        old["db"], self.db_path = self.db_path, None
        return old

    async def _dispose(self, old: dict[str, Any]) -> None:
        await super()._dispose(old)
        if old["db"] is not None:
            old["db"].unlink(missing_ok=True)

    async def close(self) -> None:
        pending, self._next = self._next, None
        if pending is not None:
            try:
                self._retire_resources(await pending)
            except Exception:
                pass  # it never opened, so there is nothing to close
        await super().close()
