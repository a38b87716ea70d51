"""Forking a browser episode: the child gets its own browser context holding a copy of the parent's
cookies, local and session storage, tabs, their URLs and the values in their form fields.

Why a page is re-made rather than cloned: a renderer's memory cannot be copied. A page of our apps
(server-rendered, no scripts) is its DOM, so each child tab gets the parent's DOM written in
(`document.write`, no request and no navigation: ~30 ms against ~50-250 ms for a load on a busy
machine) and its URL set with `history.replaceState`. That needs a tab already on the page's
origin: the shared browser keeps the wiped contexts of finished episodes, tabs and all (see
browser.give_back), and a search closes as many branches as it forks. Otherwise (pages with
scripts, a tab on another origin, a DOM that does not parse back the same) the child loads each
tab's URL from its own copy of the sites. Either way the parent's field values, scroll position and
element ids are written back. What does not carry over: each tab's back/forward history (a child
tab starts with one entry), and the state of scripts in the page (MiniWoB++ pages replay their
actions instead; a written tab keeps the window object of the kept tab, which is why pages with
scripts are loaded). A written page shows what the parent's shows even where loading its URL
again would not (a page answering a form post, or rendered before a change to the DB).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentgym.core.errors import BrowserError
from agentgym.environments.web import reuse
from agentgym.environments.web.actions import BrowserSession
from agentgym.environments.web.browser import shared_browser
from agentgym.environments.web.observe import ID_ATTR
from agentgym.environments.web.serve import origin_of

# Runs in the parent's page: everything a child needs to show the same page, keyed by each
# element's position among all elements (the child's copy of a page has the same elements).
_CAPTURE_JS = r"""
([ID, withHtml]) => {
  const all = document.getElementsByTagName('*'), ids = [], fields = [];
  for (let i = 0; i < all.length; i++) {
    const el = all[i], tag = el.tagName;
    if (el.hasAttribute(ID)) ids.push([i, tag, el.getAttribute(ID)]);
    if (tag === 'INPUT' && el.type !== 'file') fields.push([i, tag, el.value, el.checked]);
    else if (tag === 'TEXTAREA') fields.push([i, tag, el.value, false]);
    else if (tag === 'SELECT') fields.push([i, tag, Array.from(el.options, (o) => o.selected), false]);
  }
  let session = {};
  try { for (let k = 0; k < sessionStorage.length; k++) session[sessionStorage.key(k)] = sessionStorage.getItem(sessionStorage.key(k)); }
  catch (e) { session = {}; }  // an opaque origin (about:blank) has no storage
  let local = null;
  try { local = {}; for (let k = 0; k < localStorage.length; k++) local[localStorage.key(k)] = localStorage.getItem(localStorage.key(k)); }
  catch (e) { local = null; }
  const doctype = document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '';
  return {ids, fields, session, local, origin: location.origin, count: all.length, nextId: window.__agentgymNextId ?? null,
          scroll: [window.scrollX, window.scrollY], html: withHtml ? doctype + document.documentElement.outerHTML : null};
}
"""

# Runs in the child's page: writes the captured state back, after writing in the parent's DOM at
# its URL if `url` is given; returns how many items did not fit, and the length of the tab's history.
_APPLY_JS = r"""
([ID, state, url]) => {
  if (url !== null) {
    document.open(); document.write(state.html); document.close();
    history.replaceState(null, '', url);
  }
  const all = document.getElementsByTagName('*');
  let missed = 0;
  const at = (i, tag) => { const el = all[i]; if (el && el.tagName === tag) return el; missed++; return null; };
  for (const [i, tag, id] of state.ids) { const el = at(i, tag); if (el) el.setAttribute(ID, id); }
  for (const [i, tag, value, checked] of state.fields) {
    const el = at(i, tag);
    if (!el) continue;
    if (tag === 'SELECT') Array.from(el.options).forEach((o, k) => { o.selected = !!value[k]; });
    else { el.value = value; if (tag === 'INPUT') el.checked = checked; }
  }
  try { for (const [k, v] of Object.entries(state.session)) sessionStorage.setItem(k, v); } catch (e) {}
  window.__agentgymNextId = state.nextId ?? undefined;
  window.scrollTo(state.scroll[0], state.scroll[1]);
  return [missed + Math.abs(all.length - state.count), history.length];
}
"""

_SET_LOCAL_STORAGE_JS = (
    "items => { for (const {name, value} of items) localStorage.setItem(name, value); }"
)


def copy_db(source: Path) -> Path:
    """A private copy of an episode DB, beside it, consistent even if a write is under way: the
    file copied under a read lock (no write commits meanwhile; ~1 ms for our DBs, against ~20 ms
    for SQLite's backup API, which syncs the copy to disk), or, for a DB in WAL mode (whose file
    alone is not the DB), the backup API."""
    handle, name = tempfile.mkstemp(
        prefix=source.stem + "-fork-", suffix=".sqlite", dir=source.parent
    )
    os.close(handle)
    src = sqlite3.connect(source, isolation_level=None)
    try:
        if src.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the read lock
            shutil.copyfile(source, name)
            src.execute("ROLLBACK")
        else:
            dst = sqlite3.connect(name)
            try:
                src.backup(dst)
            finally:
                dst.close()
    finally:
        src.close()
    return Path(name)


async def replace_url(page: Any, url: str, timeout_ms: int, wait_until: str = "load") -> None:
    """Open `url` in `page` without adding a history entry (the page's earlier entry is replaced)."""
    async with page.expect_navigation(wait_until=wait_until, timeout=timeout_ms):
        await page.evaluate("url => location.replace(url)", url)


@dataclass
class ForkState:
    """What a child needs to show what the parent shows (read from the parent in one go)."""

    cookies: list[dict]
    local_storage: list[dict]  # [{"origin", "localStorage": [{"name", "value"}]}], non-empty ones
    tabs: list[tuple[str, dict]]  # (url, what _CAPTURE_JS read) per open tab
    active: int
    answer: str | None
    last_error: str | None
    allowed_origins: list[str]


async def capture(parent: BrowserSession, with_html: bool = False) -> ForkState:
    """Read the parent's state: its cookies and each tab's page in one concurrent round, and its
    local storage from the tabs when they show every origin the episode may open (else from
    `storage_state()`, which opens a page per other origin: ~200 ms). `with_html`: each tab's DOM
    too (serialized), for a child to write in."""
    pages = [page for page in parent.pages if not page.is_closed()]
    try:
        cookies, *read = await asyncio.gather(
            parent.context.cookies(),
            *(page.evaluate(_CAPTURE_JS, [ID_ATTR, with_html]) for page in pages),
        )
        shown = {state["origin"]: state["local"] for state in read if state["local"] is not None}
        if all(origin_of(o) in shown for o in parent.allowed_origins):
            local = [
                {"origin": o, "localStorage": [{"name": k, "value": v} for k, v in items.items()]}
                for o, items in shown.items()
                if items
            ]
        else:  # an origin the tabs do not show may hold local storage from an earlier page
            local = (await parent.context.storage_state())["origins"]
    except Exception as e:
        raise BrowserError(f"could not read the page to fork: {e}") from e
    tabs = [(page.url, state) for page, state in zip(pages, read, strict=True)]
    return ForkState(
        cookies,
        local,
        tabs,
        parent.active,
        parent.answer,
        parent.last_error,
        list(parent.allowed_origins),
    )


async def open_fork(
    state: ForkState, sites: dict[str, Any], timeout_ms: int, scripted_pages: bool = True
) -> BrowserSession:
    """A new context on the shared browser showing `state`, its requests answered by `sites`.
    `scripted_pages=False` (server-rendered pages without scripts): a tab's DOM may be written in
    (see the module docstring), and a tab that is loaded is not waited for past DOMContentLoaded."""
    first_url = state.tabs[0][0] if state.tabs else ""
    near = None if scripted_pages or not _is_http(first_url) else origin_of(first_url)
    context, router, pages = await shared_browser().claim(near=near, tabs=len(state.tabs))
    try:
        router.use(sites, state.allowed_origins)
        session = BrowserSession(
            context, state.allowed_origins, timeout_ms=timeout_ms, router=router
        )
        for page in pages:
            session.adopt(page)
        session.answer, session.last_error = state.answer, state.last_error
        if state.cookies:
            await context.add_cookies(state.cookies)
        if state.local_storage:  # it is per origin: visit each on a blank page to fill it
            router.blank = True
            for origin in state.local_storage:
                await replace_url(pages[0], origin["origin"] + "/", timeout_ms)
                await pages[0].evaluate(_SET_LOCAL_STORAGE_JS, origin["localStorage"])
            router.blank = False
        more = await asyncio.gather(*(context.new_page() for _ in state.tabs[len(pages) :]))
        for page in more:
            session.adopt(page)
        tabs = pages + list(more)
        await asyncio.gather(
            *(
                _restore(session, tab, url, read, timeout_ms, scripted_pages)
                for tab, (url, read) in zip(tabs, state.tabs, strict=True)
            ),
            # as in the parent, the active tab is in front (a click in a tab behind waits ~2 s
            # for frames that are throttled)
            *([tabs[state.active].bring_to_front()] if len(tabs) > 1 else []),
        )
        session.pages, session.active = tabs, state.active  # (in the parent's order)
    except BaseException as e:
        try:
            await context.close()
        except Exception:
            pass  # the browser may already be gone
        if isinstance(e, Exception) and not isinstance(e, BrowserError):
            raise BrowserError(f"could not open the forked page: {e}") from e
        raise
    return session


def _is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


async def _restore(
    session: BrowserSession, tab: Any, url: str, read: dict, timeout_ms: int, scripted: bool
) -> None:
    """Make `tab` show the parent's page at `url` as its only history entry: its DOM written in
    when it can be, else loaded; then the parent's page state written back."""
    if read["html"] is not None and _is_http(url) and origin_of(tab.url) == origin_of(url):
        missed, history = await tab.evaluate(_APPLY_JS, [ID_ATTR, read, url])
        if not missed:
            if tab.url != url:  # (Playwright learns of the new URL from an event)
                await tab.wait_for_url(lambda seen: seen == url, timeout=timeout_ms)
            if history > 1:  # (a kept tab's history was reset when it was given back)
                await reuse.forget_history(session, tab)
            return
    if _is_http(url):  # a DOM that did not parse back the same is loaded instead
        await tab.goto(
            url, wait_until="load" if scripted else "domcontentloaded", timeout=timeout_ms
        )
    elif tab.url != "about:blank":  # (a blank tab, or an error page: shown blank)
        await tab.goto("about:blank", timeout=timeout_ms)
    await asyncio.gather(
        reuse.forget_history(session, tab),  # (the warm-up, storage and this page's entries)
        tab.evaluate(_APPLY_JS, [ID_ATTR, read, None]),
    )
