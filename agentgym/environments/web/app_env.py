"""`AppEnv`: one of our apps (shop, forum, tracker) in the browser, with its own DB copy per episode.

Three ways a reset opens an episode, fastest first: take the one prepared during the agent's think
time (a fresh DB copy already showing the start page in a fresh context); reuse the last episode's
tab, wiped (reuse.py), over a fresh DB copy; or a fresh context.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from pathlib import Path
from typing import Any

from agentgym.core.errors import VerifierError
from agentgym.core.paths import tasks_dir
from agentgym.core.types import Action, Message, Reward, Task
from agentgym.environments.web import serve
from agentgym.environments.web.browser import shared_browser
from agentgym.environments.web.env import BrowserEnv
from agentgym.environments.web.fork import copy_db
from agentgym.environments.web.observe import read_page
from agentgym.environments.web.tasks import WebTask, load_tasks
from agentgym.environments.web.verify import (
    SubgoalTracker,
    answer_matches,
    collateral_changes,
    open_readonly,
    run_check,
)
from agentgym.verifiers.state_diff import explain

#: the next episode is prepared once the env has been idle this long (the agent is thinking): back
#: to back resets reuse the tab instead, and a preparation they threw away would only take CPU
PREPARE_AFTER_S = 0.25


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

    fork_shared = (*BrowserEnv.fork_shared, "app")
    scripted_pages = False  # our apps render on the server; their pages have no scripts

    @property
    def origin(self) -> str:
        return serve.app_origin(self.app_name)

    def _site(self, db: Path) -> dict[str, Any]:
        return {self.origin: serve.AsgiSite(self.app.create_app(str(db)), self.origin)}

    async def _fork_sites(self, child: BrowserEnv) -> dict[str, Any]:
        assert isinstance(child, AppEnv) and self.db_path is not None
        child.db_path = await self.run_blocking(copy_db, self.db_path)
        return self._site(child.db_path)

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        assert isinstance(task, WebTask)
        self.tracker = SubgoalTracker(task.subgoals)
        return await super()._start(task, seed)

    async def _serve(self, task: WebTask, seed: int | None) -> tuple[dict[str, Any], str]:
        template = serve.db_template(self.app_name, self.app, task.db_seed)
        self.db_path = serve.episode_db(template)
        return self._site(self.db_path), self.origin + task.start_url

    # While an agent works on one episode, the next is made ready: a fresh DB copy served to a
    # fresh context already showing the start page. Most tasks of an app share the DB seed and
    # start page, so the next reset usually just takes it; otherwise it is thrown away.

    @staticmethod
    def _key(task: WebTask) -> tuple:
        return (task.db_seed, task.start_url, tuple(task.allowed_origins))

    async def _prepare(self, task: WebTask, started: list[bool]) -> dict[str, Any]:
        while self._bg.busy or (idle := time.monotonic() - self._bg.last_active) < PREPARE_AFTER_S:
            await asyncio.sleep(PREPARE_AFTER_S if self._bg.busy else PREPARE_AFTER_S - idle)
        started.append(True)
        template = serve.db_template(self.app_name, self.app, task.db_seed)
        db = serve.episode_db(template)
        sites = self._site(db)
        try:
            session = await self._open_session(sites, task, self.origin + task.start_url)
        except BaseException:
            db.unlink(missing_ok=True)
            raise
        prepared = {"key": self._key(task), "session": session, "sites": sites, "db": db, "view": None}
        try:  # our pages are server-rendered without scripts: nothing changes until used
            prepared["view"] = await read_page(session.page, self.max_chars, root=self.view_root)
        except BaseException:
            await self._dispose(prepared)  # context, site and DB copy
            raise
        return prepared

    def _ready(self, task: WebTask) -> bool:
        """Whether a prepared episode for `task` is ready to take."""
        pending = self._bg.next
        if pending is None or not pending.done() or pending.cancelled() or pending.exception() is not None:
            return False
        return pending.result()["key"] == self._key(task)

    async def _reuse(self, task: WebTask, seed: int | None) -> bool:
        return not self._ready(task) and await super()._reuse(task, seed)

    def _drop_pending(self) -> None:
        """Give up the episode being prepared: cancelled while it waits, else disposed of once made."""
        pending, self._bg.next = self._bg.next, None
        if pending is None:
            return
        if not self._bg.next_started:
            pending.cancel()
            return

        async def dispose() -> None:
            with contextlib.suppress(Exception):
                self._retire_resources(await pending)

        task = asyncio.get_running_loop().create_task(dispose())
        self._bg.disposals.add(task)
        task.add_done_callback(self._bg.disposals.discard)

    async def _take_prepared(self, task: WebTask) -> dict[str, Any] | None:
        if not self._ready(task):
            self._drop_pending()
            return None
        pending, self._bg.next = self._bg.next, None
        prepared = pending.result()
        alive = shared_browser().alive and not prepared["session"].pages[0].is_closed()
        if alive and prepared["key"] == self._key(task):
            return prepared
        self._retire_resources(prepared)
        return None

    async def _open(self, task: WebTask, seed: int | None) -> None:
        prepared = await self._take_prepared(task)
        if prepared is not None:
            self.session, self._sites, self.db_path = prepared["session"], prepared["sites"], prepared["db"]
            self.view = None if (self.screenshot or self.axtree) else prepared["view"]
        else:
            await super()._open(task, seed)

    async def _reset(self, task: Task, seed: int | None) -> list[Message]:
        started = time.perf_counter()
        with self._bg.working():
            messages = await super()._reset(task, seed)
        self.reset_seconds = time.perf_counter() - started
        self._drop_pending()  # not needed: the tab was reused (a ready one was taken by _open)
        if self.prepare_next:
            self._bg.next_started = []
            self._bg.next = asyncio.get_running_loop().create_task(self._prepare(task, self._bg.next_started))
        return messages


    async def _step(self, action: Action) -> tuple[list[Message], Reward, bool]:
        with self._bg.working():
            return await super()._step(action)

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
        self._drop_pending()
        await super().close()
