"""Reusing an episode's browser tab for the next episode, without letting anything through; and the
observations read over Chrome DevTools Protocol (the accessibility tree).

Why reuse: a new browser context costs a renderer start (hundreds of ms on a busy machine), while a
new document in the same tab costs one navigation. Before the next episode's page opens, what the
last one could leave behind is removed: its other tabs, session storage, its document (the tab
goes to about:blank, so no handler of the old page runs after the wipe; skipped for our apps,
whose pages have no scripts), cookies, every kind of storage of every origin it could reach, and,
once the new page has loaded, the tab's back/forward history. The new document has its own DOM and script memory; our apps serve it from the new
episode's DB copy.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from agentgym.environments.web.actions import BrowserSession
from agentgym.environments.web.serve import origin_of

_BLANK_TIMEOUT_MS = 5_000


async def cdp(session: BrowserSession, page: Any) -> Any:
    """The DevTools session of `page` (made once per page)."""
    client = session.cdp.get(page)
    if client is None:
        client = session.cdp[page] = await session.context.new_cdp_session(page)
    return client


async def wipe(session: BrowserSession, origins: list[str], leave_page: bool = True) -> Any:
    """Leave only the first tab, with no cookies and nothing stored for `origins`; returns that tab.
    `leave_page`: send it to about:blank first, so no script of the old page can store anything
    after the wipe (pages without scripts need not)."""
    _ = session.page  # drops closed tabs (and raises if none is left)
    first = session.pages[0]
    for other in session.pages[1:]:
        session.cdp.pop(other, None)
        await other.close()
    session.pages, session.active = [first], 0
    client = await cdp(session, first)
    origins = sorted({origin_of(o) for o in origins})
    # session storage is kept per tab and can only be reached from a document of its origin
    clear_session = {"expression": "try { sessionStorage.clear() } catch (e) {}"}
    if leave_page:  # leave the document now, so none of its handlers runs after the wipe
        await client.send("Runtime.evaluate", clear_session)
        await first.goto("about:blank", wait_until="commit", timeout=_BLANK_TIMEOUT_MS)
    await asyncio.gather(
        session.context.clear_cookies(),
        *([] if leave_page else [client.send("Runtime.evaluate", clear_session)]),
        *(
            client.send("Storage.clearDataForOrigin", {"origin": o, "storageTypes": "all"})
            for o in origins
        ),
    )
    return first


async def scrub(session: BrowserSession, origins: list[str]) -> None:
    """Wipe a finished episode's context for another episode's use (browser.give_back), keeping its
    tabs as they are (each tab's page becomes its only history entry): cookies, storage and session
    storage are cleared, and the router serves nothing of the episode any more. Pages without
    scripts only: no handler of the old page may run during or after the wipe, and a tab's window
    object is kept by a fork that writes its page in (fork.py), so it must hold no page globals
    (ours, the element counter, is set by the fork). Reopening each tab instead costs a load per
    tab (~200 ms on a busy machine): a search closes as many branches as it forks."""
    assert session.router is not None
    session.router.release()  # from now on every request gets an empty page
    pages = [p for p in session.pages if not p.is_closed()]
    if pages:
        client = await cdp(session, pages[0])
        await asyncio.gather(
            session.context.clear_cookies(),
            *(forget_history(session, p) for p in pages),
            *(p.evaluate("() => { try { sessionStorage.clear() } catch (e) {} }") for p in pages),
            *(
                client.send("Storage.clearDataForOrigin", {"origin": o, "storageTypes": "all"})
                for o in sorted({origin_of(o) for o in origins})
            ),
        )
    for client in session.cdp.values():
        await client.detach()
    session.cdp.clear()
    session.release()


async def forget_history(session: BrowserSession, page: Any) -> None:
    """The tab's back/forward list becomes just the current page."""
    await (await cdp(session, page)).send("Page.resetNavigationHistory")


async def screenshot_png(session: BrowserSession, page: Any) -> str:
    """The viewport as a PNG, base64-encoded (as DevTools sends it: no decoding and re-encoding)."""
    # optimizeForSpeed: a faster PNG encoding of the same pixels (a bigger file)
    params = {"format": "png", "optimizeForSpeed": True}
    return (await (await cdp(session, page)).send("Page.captureScreenshot", params))["data"]


# ---- the accessibility tree ----------------------------------------------------------------------

_SKIP_ROLES = {"none", "generic", "InlineTextBox", "LineBreak", "presentation"}
_SHOWN_PROPERTIES = (
    "checked",
    "selected",
    "expanded",
    "disabled",
    "focused",
    "required",
    "level",
    "valuetext",
)


async def axtree_text(session: BrowserSession, page: Any, max_chars: int) -> str:
    """The page's accessibility tree (as Chromium computes it), one node a line, indented by depth."""
    nodes = (await (await cdp(session, page)).send("Accessibility.getFullAXTree"))["nodes"]
    if not nodes:
        return ""
    by_id = {n["nodeId"]: n for n in nodes}
    lines: list[str] = []
    stack: list[tuple[dict, int]] = [(nodes[0], 0)]
    size = 0
    while stack and size <= max_chars:
        node, depth = stack.pop()
        role = (node.get("role") or {}).get("value", "")
        name = (node.get("name") or {}).get("value", "")
        shown = (
            not node.get("ignored")
            and role not in _SKIP_ROLES
            and not (role == "StaticText" and not name)
        )
        if shown:
            line = "  " * depth + f"{role} {json.dumps(name)}" if name else "  " * depth + role
            value = (node.get("value") or {}).get("value")
            if value not in (None, ""):
                line += f" value={json.dumps(value)}"
            for prop in node.get("properties", []):
                if prop["name"] in _SHOWN_PROPERTIES and prop["value"].get("value") not in (
                    None,
                    False,
                    "",
                ):
                    line += f" {prop['name']}={json.dumps(prop['value']['value'])}"
            lines.append(line)
            size += len(line) + 1
        children = [by_id[c] for c in node.get("childIds", []) if c in by_id]
        stack.extend((c, depth + shown) for c in reversed(children))
    text = "\n".join(lines)
    if size > max_chars:
        text = text[:max_chars].rsplit("\n", 1)[0] + "\n[... tree truncated ...]"
    return text
