"""A reset reuses the last episode's tab; an episode that tries to leave something behind for the
next one (DB rows, cookies, storage, tabs, history, typed text, a changed page) must fail: the next
episode looks exactly like one opened in a fresh browser context."""

from __future__ import annotations

import base64
import sqlite3

import pytest

from agentgym.core.errors import UserInputError
from agentgym.environments.web.app_env import AppEnv
from agentgym.environments.web.miniwob import MiniWobEnv
from tests.environments.web.helpers import call, element

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

TASK = "shop.add_to_cart.0"
PRODUCT = 55
_LEFTOVERS_JS = """() => [document.cookie, localStorage.length, sessionStorage.length, history.length,
                          window.leftBehind === undefined]"""
_LEAVE_JS = """() => { document.cookie = 'c=1; path=/'; localStorage.setItem('k', 'v');
                       sessionStorage.setItem('s', '1'); window.leftBehind = true; }"""


async def test_a_reused_tab_carries_nothing_of_the_last_app_episode(browser):
    env, fresh = (
        AppEnv("shop", prepare_next=False),
        AppEnv("shop", prepare_next=False, reuse_pages=False),
    )
    try:
        await env.reset(options={"task_id": TASK})
        tab, context = env.session.page, env.session.context
        await env.step(call("goto", url=f"/product/{PRODUCT}"))
        await env.step(call("click", id=element(env, "button", "Add to cart")))
        await env.step(call("new_tab", url="/orders"))
        await env.step(call("switch_tab", index=0))
        await env.step(call("goto", url=f"/product/{PRODUCT}"))
        await env.step(call("fill", id=element(env, "searchbox"), text="typed before"))
        for page in env.session.pages:
            await page.evaluate(_LEAVE_JS)
        old_db = env.db_path

        obs, _ = await env.reset(options={"task_id": TASK})
        assert env.session.page is tab and env.session.context is context  # the tab was reused...
        assert env.db_path != old_db and not old_db.exists()
        with sqlite3.connect(env.db_path) as conn:  # ...over a fresh DB copy
            assert (
                conn.execute("select 1 from cart_items where product_id=?", (PRODUCT,)).fetchone()
                is None
            )
        assert len(env.session.pages) == 1 and env.extras()["tabs"] == [env.origin + "/"]
        assert await tab.evaluate(_LEFTOVERS_JS) == ["", 0, 0, 1, True]
        assert await context.cookies() == []
        back = await env.step(call("go_back"))  # no history to go back to
        assert back.observation.extras["url"] == env.origin + "/"
        fresh_obs, _ = await fresh.reset(options={"task_id": TASK})
        assert obs.messages[-1].content == fresh_obs.messages[-1].content
        assert "typed before" not in obs.messages[-1].content
    finally:
        await env.close()
        await fresh.close()


async def test_a_reused_miniwob_page_starts_the_next_episode_as_a_fresh_page_would(browser):
    env, fresh = MiniWobEnv("click-checkboxes"), MiniWobEnv("click-checkboxes", reuse_pages=False)
    try:
        await env.reset(seed=1)
        page = env.session.page
        for box in [e["id"] for e in env.extras()["elements"] if e["role"] == "checkbox"]:
            await env.step(call("click", id=box))  # leave every box ticked
        await env.step(call("goto", url="#planted"))  # a same-page entry in the tab's history
        await page.evaluate(_LEAVE_JS)
        for seed in (2, 1):  # the same instance as before, too: nothing ticked, nothing stored
            obs, _ = await env.reset(seed=seed)
            assert (
                env.session.page is page and await page.evaluate("() => window.leftBehind") is True
            )  # in place
            assert await page.evaluate(_LEFTOVERS_JS) == ["", 0, 0, 1, False]
            fresh_obs, _ = await fresh.reset(seed=seed)
            assert obs.messages[-1].content == fresh_obs.messages[-1].content
            assert " checked" not in obs.messages[-1].content.replace("unchecked", "")
            assert not (await env._state())["done"] and "#" not in env.extras()["url"]
    finally:
        await env.close()
        await fresh.close()


async def test_text_typed_in_a_field_does_not_outlive_its_miniwob_episode(browser):
    """The task writes the next text into the area itself: a field the agent typed in must take it."""
    env, fresh = MiniWobEnv("scroll-text"), MiniWobEnv("scroll-text", reuse_pages=False)
    try:
        await env.reset(seed=1)
        page = env.session.page
        for field in [e["id"] for e in env.extras()["elements"] if e["role"] == "textbox"]:
            await env.step(call("fill", id=field, text="typed by the last episode"))
        obs, _ = await env.reset(seed=2)
        assert env.session.page is page
        assert obs.messages[-1].content == (await fresh.reset(seed=2))[0].messages[-1].content
        assert "typed by the last episode" not in obs.messages[-1].content
    finally:
        await env.close()
        await fresh.close()


async def test_a_miniwob_page_changed_outside_the_task_is_reloaded(browser):
    env, fresh = MiniWobEnv("click-button"), MiniWobEnv("click-button", reuse_pages=False)
    try:
        await env.reset(seed=1)
        await env.session.page.evaluate(
            "() => { window.leftBehind = true; document.body.insertAdjacentHTML('beforeend', '<button>Planted</button>'); }"
        )
        obs, _ = await env.reset(seed=3)
        assert await env.session.page.evaluate(
            "() => window.leftBehind === undefined"
        )  # a new document
        assert "Planted" not in obs.messages[-1].content
        assert obs.messages[-1].content == (await fresh.reset(seed=3))[0].messages[-1].content
        await env.step(call("goto", url="/miniwob/click-link.html"))  # another task's page
        obs, _ = await env.reset(seed=3)
        assert obs.messages[-1].content == (await fresh.reset(seed=3))[0].messages[-1].content
    finally:
        await env.close()
        await fresh.close()


async def test_axtree_and_screenshot_are_observed_on_demand(browser):
    env = MiniWobEnv("click-button")
    try:
        obs, _ = await env.reset(seed=2, options={"axtree": True, "screenshot": True})
        wanted = env.utterance.split('"')[1]
        assert f'button "{wanted}"' in obs.extras["axtree"]
        assert base64.b64decode(obs.extras["screenshot_png"]).startswith(b"\x89PNG")
        step = await env.step(call("scroll", direction="down"))
        assert "axtree" in step.observation.extras and "screenshot_png" in step.observation.extras
        obs, _ = await env.reset(seed=2)  # the options hold for one episode
        assert "axtree" not in obs.extras and "screenshot_png" not in obs.extras
        with pytest.raises(UserInputError, match="axtree"):
            await env.reset(seed=2, options={"axtree": "yes"})
    finally:
        await env.close()
    app = AppEnv("shop", axtree=True, prepare_next=False)
    try:
        obs, _ = await app.reset(options={"task_id": TASK})
        assert (
            'searchbox "Search products"' in obs.extras["axtree"]
            and "screenshot_png" not in obs.extras
        )
    finally:
        await app.close()


async def test_a_context_given_back_for_another_episode_carries_nothing(browser):
    env = AppEnv("shop", prepare_next=False)
    await env.reset(options={"task_id": TASK})
    await env.step(call("goto", url=f"/product/{PRODUCT}"))
    await env.step(call("new_tab", url="/orders"))
    await env.step(call("goto", url="/cart"))
    context = env.session.context
    for page in env.session.pages:
        await page.evaluate(_LEAVE_JS)
    await env.close()  # our apps' pages have no scripts: the context is wiped and kept
    assert context in browser.spare_contexts()

    claimed, router, tabs = await browser.claim(near=env.origin, tabs=2)  # as a fork would
    try:
        assert claimed is context and len(tabs) == 2
        assert await claimed.cookies() == []
        for tab in tabs:  # (`leftBehind` stands for a page script's global: the window is kept
            # with the tab, which is why only contexts of pages without scripts are given back)
            assert (await tab.evaluate(_LEFTOVERS_JS))[:4] == ["", 0, 0, 1]
        # and the kept router serves nothing of the last episode until the next one sets its sites
        await tabs[0].goto(f"{env.origin}/cart")
        assert "Cart" not in await tabs[0].content()
    finally:
        await claimed.close()


async def test_a_context_whose_pages_run_scripts_is_closed_not_kept(browser):
    env = MiniWobEnv("click-test")
    await env.reset(seed=0)
    context = env.session.context
    await env.close()
    assert context not in browser.spare_contexts()
    assert context not in (await browser.browser()).contexts
