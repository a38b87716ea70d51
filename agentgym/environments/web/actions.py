"""The agent's browser tools, and the per-episode session they act on.

Every agent mistake (an unknown id, a click that times out, a URL outside the task's sites)
raises `ToolCallError`, which the agent sees as the tool's result. Only a dead browser raises
`BrowserError`, which ends the episode as an infrastructure failure.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

from agentgym.core.errors import BrowserError
from agentgym.environments.web.observe import ID_ATTR
from agentgym.environments.web.serve import origin_of
from agentgym.tools import Tool, ToolCallError, tool

_CRASH_MARKERS = (
    "has been closed",
    "browser has disconnected",
    "target crashed",
    "connection closed",
)


@dataclass
class BrowserSession:
    """One episode's browser state: its context, tabs, allowed sites, and the answer if given."""

    context: Any
    allowed_origins: list[str]
    timeout_ms: int = 10_000
    pages: list[Any] = field(default_factory=list)
    active: int = 0
    answer: str | None = None
    last_error: str | None = None
    router: Any = (
        None  # answers the context's requests; a reused context gets the next episode's sites
    )
    cdp: dict[Any, Any] = field(default_factory=dict)  # DevTools sessions by page (see reuse.py)
    _navigations: dict[Any, set] = field(default_factory=dict)
    _listeners: list[tuple[Any, str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listen(
            self.context, "page", self.adopt
        )  # pages opened by target=_blank or window.open

    def _listen(self, target: Any, event: str, handler: Any) -> None:
        target.on(event, handler)
        self._listeners.append((target, event, handler))

    def release(self) -> None:
        """Stop listening to the context and its pages (the context is kept for another episode)."""
        for target, event, handler in self._listeners:
            target.remove_listener(event, handler)
        self._listeners.clear()

    def adopt(self, page: Any) -> None:
        if page in self._navigations:
            return
        page.set_default_timeout(self.timeout_ms)
        # main-frame navigations in flight, so an observation never reads the page being left
        pending: set[Any] = set()
        self._listen(
            page,
            "request",
            lambda r: (
                pending.add(r) if r.is_navigation_request() and r.frame == page.main_frame else None
            ),
        )
        self._listen(page, "requestfinished", lambda r: pending.discard(r))
        self._listen(page, "requestfailed", lambda r: pending.discard(r))
        self._navigations[page] = pending
        if page not in self.pages:
            self.pages.append(page)
            self.active = len(self.pages) - 1

    @property
    def page(self) -> Any:
        self.pages = [p for p in self.pages if not p.is_closed()]
        if not self.pages:
            raise BrowserError("the episode has no open page left (the browser context died)")
        self.active = min(self.active, len(self.pages) - 1)
        return self.pages[self.active]

    async def new_page(self) -> Any:
        page = await self.context.new_page()
        self.adopt(page)
        return page

    def allowed(self, url: str) -> bool:
        return origin_of(url) in {origin_of(o) for o in self.allowed_origins}

    def resolve(self, url: str) -> str:
        """An absolute URL for `url` (relative ones are taken from the current page)."""
        base = self.page.url if self.pages else ""
        if not self.allowed(base):  # about:blank or an error page
            base = self.allowed_origins[0] + "/"
        return urljoin(base, url.strip())

    async def settle(self) -> None:
        """Let a navigation started by the last action finish loading."""
        page = self.page
        pending = self._navigations.get(page, set())
        try:  # one round trip, after the page's zero-delay timers: a navigation they start is seen
            await page.evaluate("() => new Promise((done) => setTimeout(done, 0))")
        except Exception as e:  # the document is being left: the wait below sees the navigation
            _raise_if_crashed(e)
        for _ in range(self.timeout_ms // 10):
            if not pending:
                break
            await asyncio.sleep(0.01)
        try:
            await page.wait_for_load_state("load", timeout=self.timeout_ms)
        except Exception as e:
            _raise_if_crashed(e)

    async def tabs(self) -> list[str]:
        titles = []
        for page in self.pages:
            try:
                titles.append(await page.title())
            except Exception:
                titles.append(page.url)
        return titles


def _raise_if_crashed(e: Exception) -> None:
    if any(m in str(e).lower() for m in _CRASH_MARKERS):
        raise BrowserError(f"the browser went away: {str(e).splitlines()[0]}") from e


def _agent_error(e: Exception, what: str, timeout_ms: int) -> ToolCallError:
    _raise_if_crashed(e)
    if type(e).__name__ == "TimeoutError":
        return ToolCallError(
            f"{what} timed out after {timeout_ms / 1000:g}s (hidden, disabled or covered?)"
        )
    first = str(e).splitlines()[0] if str(e) else type(e).__name__
    return ToolCallError(f"{what} failed: {first}")


async def _element(session: BrowserSession, element_id: int) -> Any:
    locator = session.page.locator(f'[{ID_ATTR}="{int(element_id)}"]')
    try:
        count = await locator.count()
    except Exception as e:
        raise _agent_error(e, f"finding element {element_id}", session.timeout_ms) from None
    if count == 0:
        raise ToolCallError(
            f"there is no element with id {element_id} on this page; use an id from the latest page"
        )
    return locator.first


async def _act(session: BrowserSession, what: str, coro: Any) -> None:
    try:
        await coro
    except ToolCallError:
        raise
    except Exception as e:
        raise _agent_error(e, what, session.timeout_ms) from None
    await session.settle()


@tool
async def click(id: int, *, session: BrowserSession) -> str:
    """Click an element on the page.

    Args:
        id: The element's id: the number at the start of its [brackets] on the page.
    """
    element = await _element(session, id)
    await _act(session, f"click on [{id}]", element.click(timeout=session.timeout_ms))
    return f"clicked [{id}]"


@tool
async def fill(id: int, text: str, *, session: BrowserSession) -> str:
    """Replace the text in an input field or text area.

    Args:
        id: The field's id.
        text: The text to type into it.
    """
    element = await _element(session, id)
    await _act(session, f"fill [{id}]", element.fill(text, timeout=session.timeout_ms))
    return f"filled [{id}]"


@tool
async def select_option(id: int, value: str, *, session: BrowserSession) -> str:
    """Choose an option of a drop-down list by its visible text.

    Args:
        id: The drop-down's id.
        value: The option's text as shown (its value attribute also works).
    """
    element = await _element(session, id)
    try:
        await element.select_option(label=value, timeout=session.timeout_ms)
    except Exception as e:
        _raise_if_crashed(e)  # a dead browser is not a missing label
        await _act(
            session,
            f"select {value!r} in [{id}]",
            element.select_option(value=value, timeout=session.timeout_ms),
        )
    await session.settle()
    return f"selected {value!r} in [{id}]"


@tool
async def press(key: str, *, session: BrowserSession) -> str:
    """Press a key or a chord on the focused element, such as "Enter", "Tab" or "Control+A".

    Args:
        key: The key, in Playwright's names (Enter, Escape, ArrowDown, Control+A ...).
    """
    await _act(session, f"press {key!r}", session.page.keyboard.press(key))
    return f"pressed {key}"


@tool
async def scroll(direction: Literal["up", "down"], *, session: BrowserSession) -> str:
    """Scroll the page by most of a screen.

    Args:
        direction: "up" or "down".
    """
    dy = -600 if direction == "up" else 600
    await _act(session, "scroll", session.page.mouse.wheel(0, dy))
    return f"scrolled {direction}"


@tool
async def goto(url: str, *, session: BrowserSession) -> str:
    """Open a URL in the current tab (only the task's own sites are reachable).

    Args:
        url: An absolute URL or a path on the current site, such as "/cart".
    """
    target = session.resolve(url)
    if not session.allowed(target):
        raise ToolCallError(
            f"{target} is outside the sites of this task ({', '.join(session.allowed_origins)})"
        )
    await _act(session, f"goto {target}", session.page.goto(target, timeout=session.timeout_ms))
    return f"opened {target}"


@tool
async def go_back(*, session: BrowserSession) -> str:
    """Go back to the previous page in this tab."""
    await _act(session, "go back", session.page.go_back(timeout=session.timeout_ms))
    return "went back"


@tool
async def new_tab(url: str = "", *, session: BrowserSession) -> str:
    """Open a new tab and switch to it, optionally opening a URL in it.

    Args:
        url: What to open in the new tab (empty for a blank tab).
    """
    target = session.resolve(url) if url else ""
    if target and not session.allowed(target):
        raise ToolCallError(
            f"{target} is outside the sites of this task ({', '.join(session.allowed_origins)})"
        )
    page = await session.new_page()
    if target:
        await _act(session, f"open {target}", page.goto(target, timeout=session.timeout_ms))
    return f"opened tab {session.active}"


@tool
async def switch_tab(index: int, *, session: BrowserSession) -> str:
    """Switch to another open tab.

    Args:
        index: The tab's number, as listed under "Tabs".
    """
    _ = session.page  # drops closed tabs first
    if not 0 <= index < len(session.pages):
        raise ToolCallError(f"there is no tab {index}; open tabs are 0..{len(session.pages) - 1}")
    session.active = index
    await session.page.bring_to_front()
    return f"switched to tab {index}"


@tool
def answer(text: str, *, session: BrowserSession) -> str:
    """Finish the task, replying to the user (give the requested information, or "done").

    Args:
        text: Your reply, e.g. the value that was asked for.
    """
    session.answer = text
    return "answer recorded; the episode is over"


BROWSER_TOOLS: list[Tool] = [
    click,
    fill,
    select_option,
    press,
    scroll,
    goto,
    go_back,
    new_tab,
    switch_tab,
    answer,
]
