"""Web envs: a browser episode driven by tool calls (`BrowserEnv`), and our apps on it (`AppEnv`).

Each episode gets its own browser context on the shared Chromium (or the last episode's, wiped:
see reuse.py) and, for our apps, its own copy of the seeded app DB served in-process (serve.py).
`fork()` gives a child its own context and copies of everything (fork.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

from agentgym.core.errors import BrowserError, InfraError, UserInputError
from agentgym.core.types import Message, Reward, Task
from agentgym.environments.base import CallResult, ToolEnv, Turn
from agentgym.environments.web import reuse
from agentgym.environments.web.actions import BROWSER_TOOLS, BrowserSession
from agentgym.environments.web.browser import shared_browser
from agentgym.environments.web.fork import capture, open_fork
from agentgym.environments.web.observe import PageView, read_page
from agentgym.environments.web.tasks import WebTask
from agentgym.tools import Toolbox

SYSTEM_PROMPT = (
    "You operate a web browser to do what the user asks. Each observation shows the page as text; "
    'interactive elements appear as [id role "name" ...]. Act with the tools, using those ids. '
    "When the task is done (or you have the information asked for), call answer(text)."
)
NAVIGATION_TIMEOUT_MS = (
    30_000  # opening the start page (the agent's own actions have their own limit)
)
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
    #: the served pages may run scripts (a reused tab then leaves the old page before the wipe)
    scripted_pages = True
    #: observation options a reset may change for its episode (reset(options={"axtree": True}))
    observation_options = ("screenshot", "axtree")

    def __init__(
        self,
        tasks: list[Task],
        max_steps: int = 30,
        screenshot: bool = False,
        axtree: bool = False,
        max_chars: int = 12_000,
        action_timeout_ms: int = 10_000,
        reuse_pages: bool = True,
    ):
        super().__init__(tasks, max_steps=max_steps, toolbox=Toolbox(BROWSER_TOOLS, validate="lax"))
        self.screenshot, self.axtree = screenshot, axtree
        self._defaults = {"screenshot": screenshot, "axtree": axtree}
        self.max_chars = max_chars
        self.action_timeout_ms = action_timeout_ms
        self.reuse_pages = reuse_pages  # a reset may wipe and reuse the last episode's tab
        self.session: BrowserSession | None = None
        self.view: PageView | None = None
        self._png: str | None = None  # base64
        self._axtree: str | None = None
        self._page_messages: list[int] = []
        self._sites: dict[str, Any] = {}
        self._seed: int | None = None
        self._turns: list[
            list[Any]
        ] = []  # the calls run in each step (a MiniWoB++ fork replays them)
        self._bg = Background()

    async def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        """Also takes observation options for this episode: {"screenshot": bool, "axtree": bool}."""
        chosen = dict(self._defaults)
        for name in self.observation_options:
            if name in (options or {}):
                if not isinstance(options[name], bool):
                    raise UserInputError(
                        f"reset option {name!r} must be true or false, not {options[name]!r}"
                    )
                chosen[name] = options[name]
        self.screenshot, self.axtree = chosen["screenshot"], chosen["axtree"]
        return await super().reset(seed, options)

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

    async def _open_session(
        self, sites: dict[str, Any], task: WebTask, start_url: str
    ) -> BrowserSession:
        """A fresh browser context showing `start_url`, its requests answered by `sites`."""
        origins = sorted({*sites, *task.allowed_origins})
        context, router, (page,) = await shared_browser().claim()
        router.use(sites, origins)
        session = BrowserSession(context, origins, timeout_ms=self.action_timeout_ms, router=router)
        session.adopt(page)
        try:
            await self._navigate_afresh(session, page, start_url)
        except Exception as e:
            await context.close()
            raise BrowserError(f"could not open {start_url}: {e}") from e
        return session

    @staticmethod
    async def _navigate_afresh(session: BrowserSession, page: Any, url: str) -> None:
        """Open `url` in `page` as the only entry of its history (no page before it to go back to)."""
        await page.goto(url, wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS)
        await reuse.forget_history(session, page)

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

    async def _reuse(self, task: WebTask, seed: int | None) -> bool:
        """Open `task` in the last episode's tab, wiped (see reuse.py); False if it cannot be reused."""
        session, origins = self.session, sorted({*self._sites, *task.allowed_origins})
        if (
            not self.reuse_pages
            or session is None
            or session.router is None
            or not shared_browser().alive
            or any(p.is_closed() for p in session.pages)
            or session.allowed_origins != origins
        ):
            return False
        old = self._detach()  # the tab is taken back; the last episode's sites (and DB) are retired
        self.session, old["session"] = session, None
        try:
            page = await reuse.wipe(session, origins, leave_page=self.scripted_pages)
            self._sites, start_url = await self._serve(task, seed)
            if sorted({*self._sites, *task.allowed_origins}) != origins:
                raise BrowserError("the next episode's sites differ")
            session.router.use(self._sites, origins)
            session.answer = session.last_error = None
            await page.goto(start_url, wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS)
            # the history is reset while the page is read (_start waits for both)
            self._bg.forgetting = asyncio.ensure_future(reuse.forget_history(session, page))
            await self._after_open(task, seed)
        except Exception:
            self._bg.cancel_forgetting()
            self._retire()  # the tab, and whatever of the next episode was made: start afresh
            return False
        finally:
            self._retire_resources(old)
        return True

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        assert isinstance(task, WebTask)
        self.view = None
        self._seed, self._turns = seed, []
        if not await self._reuse(task, seed):
            self._retire()
            await self._open(task, seed)
        self._raise_site_failure()
        try:
            if self.view is None:  # (a prepared episode has already read its start page)
                await self._look()
            if self._bg.forgetting is not None:
                await self._bg.forgetting
        finally:
            self._bg.cancel_forgetting()
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
        self._turns.append([r.call for r in turn.results])
        if (
            turn.problems or not turn.calls
        ):  # calls that did not parse are reported, even beside good ones
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
            update={"content": f"{last_message.content or ''}\n\n{self._render()}"}
        )

    async def step_reward(self, turn: Turn) -> Reward:
        reward, over = await self._progress()
        turn.ended |= over
        return reward

    def _raise_site_failure(self) -> None:
        """A crash of our own app during the step is infrastructure, not something the agent did."""
        for site in self._sites.values():
            error = getattr(site, "take_error", lambda: None)()
            if error is not None:
                raise BrowserError(
                    f"the served app failed: {type(error).__name__}: {error}"
                ) from error

    async def _look(self) -> None:
        assert self.session is not None
        try:
            session = self.session
            self.view = await read_page(
                session.page, self.max_chars, leaves=self.mark_leaves, root=self.view_root
            )
            page = session.page  # (after the read, which waits out a navigation in flight)
            self._png, self._axtree = await asyncio.gather(
                reuse.screenshot_png(session, page) if self.screenshot else _nothing(),
                reuse.axtree_text(session, page, self.max_chars) if self.axtree else _nothing(),
            )
        except InfraError:
            raise
        except Exception as e:
            raise BrowserError(f"could not read the page: {e}") from e

    def _render(self) -> str:
        assert self.view is not None and self.session is not None
        tabs = " | ".join(
            f"[{i}]{'*' if i == self.session.active else ''} {p.url}"
            for i, p in enumerate(self.session.pages)
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
                self.messages[index] = m.model_copy(
                    update={"content": f"{head}\n{_OLD_PAGE}".strip()}
                )
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
            out["screenshot_png"] = self._png
        if self._axtree is not None:
            out["axtree"] = self._axtree
        return out

    def _detach(self) -> dict[str, Any]:
        """Take the finished episode's resources off the env (they are disposed of elsewhere)."""
        old = {"session": self.session, "sites": self._sites}
        self.session, self._sites = None, {}
        return old

    async def _dispose(self, old: dict[str, Any]) -> None:
        session = old["session"]
        if session is not None and not await self._give_back(session, list(old["sites"])):
            try:
                await session.context.close()
            except Exception:
                pass  # the browser may already be gone
        for site in old["sites"].values():
            await site.close()

    async def _give_back(self, session: BrowserSession, sites: list[str]) -> bool:
        """Hand the context, wiped, to the shared browser for another episode (pages without
        scripts only: see reuse.scrub); False if it is to be closed instead."""
        if self.scripted_pages or session.router is None or not shared_browser().has_room:
            return False
        try:
            await reuse.scrub(session, [*session.allowed_origins, *sites])
        except Exception:
            return False
        return shared_browser().give_back(session.context, session.router, session.pages)

    def _retire(self) -> None:
        """Close the previous episode in the background, so a reset need not wait for it."""
        self._retire_resources(self._detach())

    def _retire_resources(self, old: dict[str, Any]) -> None:
        if not any(old.values()):
            return
        task = asyncio.get_running_loop().create_task(self._dispose(old))
        self._bg.disposals.add(task)
        task.add_done_callback(self._bg.disposals.discard)

    async def _fork_state(self, child: BrowserEnv) -> None:  # type: ignore[override]
        """The child's own sites (`_fork_sites`) and a new context showing what this env shows."""
        if self.session is None:
            raise RuntimeError("this episode has no browser session to fork")
        # the child's copy of the sites is made while the parent's page is read
        sites, state = await asyncio.gather(
            self._fork_sites(child),
            capture(self.session, with_html=not self.scripted_pages),
            return_exceptions=True,
        )
        if not isinstance(sites, BaseException):
            child._sites = sites
        try:
            for outcome in (sites, state):
                if isinstance(outcome, BaseException):
                    raise outcome
            child.session = await open_fork(
                state, child._sites, self.action_timeout_ms, self.scripted_pages
            )
        except BaseException:
            await child._dispose(child._detach())
            raise

    async def _fork_sites(self, child: BrowserEnv) -> dict[str, Any]:
        """Sites serving the child its own copy of the apps' state."""
        raise NotImplementedError(f"{type(self).__name__} does not support fork() yet")

    async def close(self) -> None:
        self._retire()
        if self._bg.disposals:
            await asyncio.gather(*self._bg.disposals)


async def _nothing() -> None:
    return None


class Background:
    """An env's background work (disposals, a prepared episode). A fork's deep copy of its parent
    gets a new, empty one: the parent's pending work stays the parent's."""

    def __init__(self) -> None:
        self.disposals: set[asyncio.Task] = set()
        self.next: asyncio.Task | None = None
        self.next_started: list[bool] = []  # non-empty once the preparation has started its work
        self.last_active = 0.0  # time.monotonic() when the last reset or step ended
        self.busy = False  # a reset or step is running
        self.forgetting: asyncio.Future | None = None  # a reused tab's history being reset

    def cancel_forgetting(self) -> None:
        forgetting, self.forgetting = self.forgetting, None
        if forgetting is not None and not forgetting.done():
            forgetting.cancel()

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        self.busy = True
        try:
            yield
        finally:
            self.busy, self.last_active = False, time.monotonic()

    def __deepcopy__(self, memo: dict) -> Background:
        return Background()
