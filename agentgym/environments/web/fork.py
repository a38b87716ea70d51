"""Forking a browser episode: the child gets its own browser context holding a copy of the parent's
cookies, local and session storage, tabs, their URLs and the values in their form fields.

Why a page is re-opened rather than cloned: a renderer's memory cannot be copied, so the child loads
each tab's URL from its own copy of the sites, then gets the parent's field values, scroll position
and element ids written back. For our apps (server-rendered, no scripts) that is the whole page
state. What does not carry over: each tab's back/forward history (a child tab starts with one
entry), and the state of scripts in the page (MiniWoB++ pages replay their actions instead).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from agentgym.core.errors import BrowserError
from agentgym.environments.web import reuse
from agentgym.environments.web.actions import BrowserSession
from agentgym.environments.web.browser import shared_browser
from agentgym.environments.web.observe import ID_ATTR

# Runs in the parent's page: everything a child needs to show the same page, keyed by each
# element's position among all elements (the child's copy of a page has the same elements).
_CAPTURE_JS = r"""
(ID) => {
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
  return {ids, fields, session, count: all.length, nextId: window.__agentgymNextId ?? null,
          scroll: [window.scrollX, window.scrollY]};
}
"""

# Runs in the child's page: writes the captured state back; returns how many items did not fit.
_APPLY_JS = r"""
([ID, state]) => {
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
  if (state.nextId !== null) window.__agentgymNextId = state.nextId;
  window.scrollTo(state.scroll[0], state.scroll[1]);
  return missed + Math.abs(all.length - state.count);
}
"""

_SET_LOCAL_STORAGE_JS = (
    "items => { for (const {name, value} of items) localStorage.setItem(name, value); }"
)


def copy_db(source: Path) -> Path:
    """A private copy of an episode DB, beside it (SQLite's backup API: consistent even mid-write)."""
    handle, name = tempfile.mkstemp(
        prefix=source.stem + "-fork-", suffix=".sqlite", dir=source.parent
    )
    os.close(handle)
    src, dst = sqlite3.connect(source), sqlite3.connect(name)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return Path(name)


async def replace_url(page: Any, url: str, timeout_ms: int, wait_until: str = "load") -> None:
    """Open `url` in `page` without adding a history entry (the page's earlier entry is replaced)."""
    async with page.expect_navigation(wait_until=wait_until, timeout=timeout_ms):
        await page.evaluate("url => location.replace(url)", url)


async def fork_session(
    parent: BrowserSession, sites: dict[str, Any], timeout_ms: int
) -> BrowserSession:
    """A new context on the shared browser showing what `parent` shows, its requests answered by `sites`."""
    try:
        storage = await parent.context.storage_state()
        tabs = [
            (page.url, await page.evaluate(_CAPTURE_JS, ID_ATTR))
            for page in parent.pages
            if not page.is_closed()
        ]
    except Exception as e:
        raise BrowserError(f"could not read the page to fork: {e}") from e
    context, router, page = await shared_browser().claim()
    try:
        router.use(sites, parent.allowed_origins)
        session = BrowserSession(context, list(parent.allowed_origins), timeout_ms=timeout_ms)
        session.adopt(page)
        session.answer, session.last_error = parent.answer, parent.last_error
        if storage["cookies"]:
            await context.add_cookies(storage["cookies"])
        if storage["origins"]:  # local storage is per origin: visit each on a blank page to fill it
            router.blank = True
            for origin in storage["origins"]:
                await replace_url(page, origin["origin"] + "/", timeout_ms)
                await page.evaluate(_SET_LOCAL_STORAGE_JS, origin["localStorage"])
            router.blank = False
        for i, (url, state) in enumerate(tabs):
            tab = page if i == 0 else await session.new_page()
            if url.startswith(("http://", "https://")):
                await replace_url(tab, url, timeout_ms)
            await reuse.forget_history(session, tab)  # (the warm-up and storage pages)
            await tab.evaluate(_APPLY_JS, [ID_ATTR, state])
        session.active = parent.active
    except BaseException as e:
        try:
            await context.close()
        except Exception:
            pass  # the browser may already be gone
        if isinstance(e, Exception) and not isinstance(e, BrowserError):
            raise BrowserError(f"could not open the forked page: {e}") from e
        raise
    return session
