"""One shared headless Chromium per event loop; each episode gets its own browser context.

A context is fully isolated (cookies, storage, cache), so episodes never see each other. The
browser process is launched once, and a few spare contexts are kept ready, each with a page whose
renderer is already running (that costs ~200 ms), so an episode's reset is mostly one navigation.
Contexts of finished episodes of pages without scripts come back wiped (`give_back`, see
reuse.scrub) and are claimed again: a search that forks and closes branches by the hundred then
rarely starts a renderer, and a fork finds tabs already on its page's origin.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import signal
from typing import Any

from agentgym.core.errors import BrowserError
from agentgym.core.shutdown import on_release
from agentgym.environments.web.serve import WARM_ORIGIN, Router, origin_of

CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in containers; the OS sandbox is the container
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """The Chromium binary: $AGENTGYM_CHROMIUM, else Debian's /usr/bin/chromium, else on PATH."""
    for candidate in (os.environ.get("AGENTGYM_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _driver_pid(manager: Any) -> int | None:
    """The pid of Playwright's driver process (it owns Chromium), or None if it cannot be found."""
    try:
        return int(manager._client._transport._proc.pid)
    except Exception:
        return None


def _kill(pid: int | None) -> None:
    """End a driver whose loop is gone; Chromium exits with it (its control pipe closes)."""
    if pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, os.WNOHANG)
        except (OSError, ChildProcessError):
            pass  # already gone


class SharedBrowser:
    """A lazily launched Chromium that relaunches itself if it died between episodes."""

    def __init__(self, spares: int = 2, keep: int = 8) -> None:
        self._playwright: Any = None
        self._browser: Any = None
        self._lock = asyncio.Lock()
        self.launches = 0
        self.spares = spares  # fresh contexts made ahead of need
        self.keep = keep  # contexts given back that are kept for reuse, at most
        self._ready: list[tuple[Any, Router, list[Any]]] = []  # (context, router, its tabs)
        self._kept: set[Any] = set()  # the contexts in _ready that were given back
        self._closing: set[asyncio.Task] = set()
        self.warm_origin: str | None = None  # where new spares open their empty page
        self._refills: set[asyncio.Task] = set()
        self.driver_pid: int | None = None

    @property
    def alive(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    async def browser(self) -> Any:
        async with self._lock:
            if not self.alive:
                await self._launch()
            return self._browser

    async def _launch(self) -> None:
        try:
            from playwright.async_api import async_playwright
        except ImportError as e:
            raise BrowserError(
                "playwright is not installed: run scripts/setup_web.sh (pip install 'agentgym[web]')"
            ) from e
        path = chromium_path()
        if path is None:
            raise BrowserError(
                "Chromium not found: run scripts/setup_web.sh (apt-get install chromium)"
            )
        try:
            if self._playwright is None:
                manager = async_playwright()
                self._playwright = await manager.start()
                self.driver_pid = _driver_pid(manager)
            self._browser = await self._playwright.chromium.launch(
                executable_path=path, args=CHROMIUM_ARGS, headless=True
            )
        except Exception as e:
            raise BrowserError(f"could not launch Chromium at {path}: {e}") from e
        self.launches += 1

    async def new_context(self, **options: Any) -> Any:
        """A fresh, isolated browser context (its own cookies, storage and routes)."""
        browser = await self.browser()
        try:
            return await browser.new_context(**options)
        except Exception as e:
            raise BrowserError(f"could not open a browser context: {e}") from e

    async def _make_spare(self) -> tuple[Any, Router, list[Any]]:
        context = await self.new_context(viewport={"width": 1024, "height": 768})
        router = Router()
        try:
            await context.route("**/*", router.handle)
            page = await context.new_page()
            await page.goto((self.warm_origin or WARM_ORIGIN) + "/")  # (an empty page: see Router)
        except Exception as e:
            await context.close()
            raise BrowserError(f"could not prepare a browser context: {e}") from e
        return context, router, [page]

    async def _refill(self) -> None:
        try:
            while len(self._ready) < self.spares and self.alive:
                self._ready.append(await self._make_spare())
        except Exception:
            pass  # the next claim makes its own context and reports the failure properly

    async def claim(self, near: str | None = None, tabs: int = 1) -> tuple[Any, Router, list[Any]]:
        """A context for one episode, never used or wiped: (context, its router, up to `tabs` of
        its tabs, at least one). `near`: the origin a fork's tabs should be on, if a kept context's
        are (the fork writes its pages in without loading them); new spares are warmed there."""
        tabs = max(1, tabs)
        if near is not None:
            self.warm_origin = near
        # the best last: most tabs on `near`, then one given back (its renderer has drawn pages
        # like the next ones: ~5x faster to write into than a fresh one), then the latest
        self._ready.sort(
            key=lambda s: (sum(origin_of(p.url) == near for p in s[2][:tabs]), s[0] in self._kept)
        )
        while self._ready:
            context, router, pages = self._ready.pop()
            self._kept.discard(context)
            if self.alive and not any(p.is_closed() for p in pages):
                break
            await _close_quietly(context)  # a stale spare: its page or browser died
        else:
            context, router, pages = await self._make_spare()
        for extra in pages[tabs:]:  # (closed in the background: the episode never sees them)
            self._background(extra.close())
        if self.spares and not self._refills:
            task = asyncio.get_running_loop().create_task(self._refill())
            self._refills.add(task)
            task.add_done_callback(self._refills.discard)
        return context, router, pages[:tabs]

    @property
    def has_room(self) -> bool:
        """Whether a context given back now would be kept."""
        return self.alive and len(self._ready) < self.spares + self.keep

    def give_back(self, context: Any, router: Router, pages: list[Any]) -> bool:
        """Keep a finished episode's context for another (the caller has wiped it: reuse.scrub);
        False if it is not wanted (the caller closes it)."""
        if not self.has_room or not pages:
            return False
        if any(p.is_closed() for p in pages):
            return False
        router.release()  # (already, by reuse.scrub)
        self._ready.append((context, router, pages))
        self._kept.add(context)
        return True

    def spare_contexts(self) -> list[Any]:
        """The contexts kept ready (fresh or given back)."""
        return [context for context, _, _ in self._ready]

    def _background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # (a closed page: fine)

    async def close(self) -> None:
        for task in list(self._refills):
            task.cancel()
        spares, self._ready = self._ready, []
        self._kept.clear()
        for context, _, _ in spares:
            await _close_quietly(context)
        async with self._lock:
            if self._browser is not None:
                try:
                    await self._browser.close()
                except Exception:
                    pass  # already gone
                self._browser = None
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None
                self.driver_pid = None


async def _close_quietly(context: Any) -> None:
    try:
        await context.close()
    except Exception:
        pass  # the browser may already be gone


# Playwright objects belong to the loop that made them, so there is one browser per loop.
_shared: dict[asyncio.AbstractEventLoop, SharedBrowser] = {}


def shared_browser() -> SharedBrowser:
    """The browser shared by every env on the running event loop."""
    loop = asyncio.get_running_loop()
    for other in [lp for lp in _shared if lp.is_closed()]:
        _kill(_shared.pop(other).driver_pid)  # its loop cannot close it any more
    if loop not in _shared:
        _shared[loop] = SharedBrowser()
        on_release(shutdown)
    return _shared[loop]


async def shutdown() -> None:
    """Close the running loop's browser (call before the loop ends, e.g. at the end of a CLI run)."""
    shared = _shared.pop(asyncio.get_running_loop(), None)
    if shared is not None:
        await shared.close()


@atexit.register
def _kill_leftovers() -> None:
    """No Chromium outlives the process, even when nobody called shutdown()."""
    for shared in _shared.values():
        _kill(shared.driver_pid)
    _shared.clear()
