"""fork() of web episodes in real Chromium: the child has its own DB, storage, tabs and form values,
and nothing either side does reaches the other."""

from __future__ import annotations

import asyncio
import re
import sqlite3

import pytest

from agentgym.environments.web import fork, serve
from agentgym.environments.web.app_env import AppEnv
from agentgym.environments.web.miniwob import MiniWobEnv
from agentgym.environments.web.observe import ID_ATTR
from tests.environments.web.helpers import call, element, run_reference

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

TASK = "shop.add_to_cart.0"  # sub-goals: open /product/55 (1/3), then put it in the cart (2/3)
PRODUCT = 55
_STORAGE_JS = "() => [document.cookie, localStorage.getItem('k'), sessionStorage.getItem('s')]"


def cart(env: AppEnv) -> list[tuple]:
    with sqlite3.connect(env.db_path) as conn:
        return conn.execute("select product_id, qty from cart_items order by product_id").fetchall()


def field_value(env) -> str:
    return next(
        line for line in env.observation().messages[-1].content.splitlines() if "searchbox" in line
    )


async def contexts_on(browser, origin: str) -> list:
    return [
        c
        for c in (await browser.browser()).contexts
        if any(p.url.startswith(origin) for p in c.pages)
    ]


async def test_the_child_has_its_own_copy_of_everything_and_changes_stay_on_their_side(browser):
    parent = AppEnv("shop", prepare_next=False)
    try:
        await parent.reset(options={"task_id": TASK})
        await parent.step(call("goto", url=f"/product/{PRODUCT}"))
        await parent.step(call("fill", id=element(parent, "searchbox"), text="lamp"))
        await parent.step(call("new_tab", url="/cart"))
        await parent.step(call("switch_tab", index=0))
        page = (
            parent.session.page
        )  # what a page script could store; our apps store nothing themselves
        await page.evaluate(
            "() => { document.cookie = 'c=1; path=/'; localStorage.setItem('k', 'v');"
            " sessionStorage.setItem('s', '1'); }"
        )
        before = parent.observation()

        child = await parent.fork()
        try:
            assert (
                child.session.context is not parent.session.context
                and child.db_path != parent.db_path
            )
            assert child.observation() == before  # same history and page as the parent's
            assert [p.url for p in child.session.pages] == [p.url for p in parent.session.pages]
            assert child.session.active == 0 and child.session.page.url.endswith(
                f"/product/{PRODUCT}"
            )
            assert await child.session.page.evaluate(_STORAGE_JS) == ["c=1", "v", "1"]
            # a tab's history is not carried: the child's tab starts with one entry
            assert await child.session.page.evaluate("() => history.length") == 1
            assert 'value="lamp"' in field_value(child)
            # the child's page really holds the value: searching from it finds lamps
            searched = await child.step(call("click", id=element(child, "button", "Search")))
            assert "search?q=lamp" in searched.observation.extras["url"]

            # the child's changes: DB, storage, URL; none reaches the parent
            await child.step(call("goto", url=f"/product/{PRODUCT}"))
            await child.step(call("click", id=element(child, "button", "Add to cart")))
            await child.session.page.evaluate(
                "() => { document.cookie = 'c=child; path=/';"
                " localStorage.setItem('k', 'child'); sessionStorage.setItem('s', 'child'); }"
            )
            assert (PRODUCT, 1) in cart(child) and (PRODUCT, 1) not in cart(parent)
            assert await parent.session.page.evaluate(_STORAGE_JS) == ["c=1", "v", "1"]
            assert (
                parent.session.page.url.endswith(f"/product/{PRODUCT}")
                and parent.observation() == before
            )
            assert 'value="lamp"' in field_value(parent)

            # and the parent's changes do not reach the child
            await parent.step(call("fill", id=element(parent, "searchbox"), text="parent only"))
            await parent.session.page.evaluate("() => localStorage.setItem('k', 'parent')")
            assert await child.session.page.evaluate(_STORAGE_JS) == ["c=child", "child", "child"]
            assert "parent only" not in field_value(child)
        finally:
            await child.close()
    finally:
        await parent.close()


async def test_step_rewards_of_a_child_sum_to_its_outcome(browser):
    parent = AppEnv("shop", prepare_next=False)
    try:
        await parent.reset(options={"task_id": TASK})
        first = await parent.step(call("goto", url=f"/product/{PRODUCT}"))
        assert first.reward.value == pytest.approx(1 / 3)
        child = await parent.fork()
        try:
            rewards = [first.reward.value]
            rewards.append(
                (await child.step(call("goto", url=f"/product/{PRODUCT}"))).reward.value
            )  # paid already
            rewards.append(
                (
                    await child.step(call("click", id=element(child, "button", "Add to cart")))
                ).reward.value
            )
            last = await child.step(call("answer", text="done"))
            rewards.append(last.reward.value)
            assert rewards[1] == 0.0 and rewards[2] == pytest.approx(2 / 3)
            assert last.info["outcome"]["value"] == 1.0 and sum(rewards) == pytest.approx(1.0)
            # the parent did not add the product: doing nothing more scores 0, and its steps sum to that
            stop = await parent.step(call("answer", text="done"))
            assert stop.info["outcome"][
                "value"
            ] == 0.0 and first.reward.value + stop.reward.value == pytest.approx(0.0)
        finally:
            await child.close()
    finally:
        await parent.close()


async def test_a_finished_episode_forks_into_a_finished_child_with_the_same_outcome(browser):
    parent = AppEnv("shop", prepare_next=False)
    try:
        outcome, _ = await run_reference(parent, parent.tasks[TASK])
        assert outcome["value"] == 1.0
        child = await parent.fork()
        try:
            assert child.done and (await child.score()).value == 1.0 and cart(child) == cart(parent)
            with pytest.raises(RuntimeError, match="ended"):
                await child.step(call("answer", text="again"))
            await child.reset(options={"task_id": TASK})  # a child is an env like any other
            assert (PRODUCT, 1) not in cart(child) and (PRODUCT, 1) in cart(parent)
        finally:
            await child.close()
    finally:
        await parent.close()


async def test_many_forks_are_independent_and_closing_them_leaves_no_context_or_db_copy(browser):
    def copies():
        return {p for p in serve._dir().glob("*.sqlite") if ".template." not in p.name}

    parent = AppEnv("shop", prepare_next=False)
    files, contexts = copies(), set((await browser.browser()).contexts)
    try:
        await parent.reset(options={"task_id": TASK})
        await parent.step(call("goto", url=f"/product/{PRODUCT}"))
        children = [await parent.fork() for _ in range(3)]
        children.append(await children[0].fork())  # a fork of a fork
        for quantity, child in enumerate(
            children, start=1
        ):  # each puts its own quantity in its cart
            await child.step(
                call("fill", id=element(child, "spinbutton", "Quantity"), text=str(quantity))
            )
            await child.step(call("click", id=element(child, "button", "Add to cart")))
        assert [dict(cart(child)).get(PRODUCT) for child in children] == list(
            range(1, len(children) + 1)
        )
        assert PRODUCT not in dict(cart(parent))
        assert len({c.session.context for c in children} | {parent.session.context}) == 5
        await asyncio.gather(*(c.close() for c in children))
    finally:
        await parent.close()
    assert copies() <= files
    # closed episodes' contexts are closed, or wiped and kept (a bounded few) for the next claims
    kept = browser.spare_contexts()
    assert len(kept) <= browser.spares + browser.keep
    assert not [
        c for c in await contexts_on(browser, parent.origin) if c not in contexts and c not in kept
    ]


async def test_a_miniwob_fork_replays_the_episode_and_goes_its_own_way(browser):
    parent = MiniWobEnv("enter-text")
    try:
        await parent.reset(seed=4)
        box = element(parent, "textbox")
        await parent.step(call("fill", id=box, text="wrong"))
        child = await parent.fork()
        try:
            assert child.observation() == parent.observation()
            assert (
                'value="wrong"' in child.view.text
                and child.session.context is not parent.session.context
            )
            wanted = re.search(r'"([^"]+)"', parent.utterance).group(1)
            await child.step(call("fill", id=box, text=wanted))
            done = await child.step(call("click", id=element(child, "button", "Submit")))
            assert done.terminated and done.info["outcome"]["value"] == 1.0
            assert 'value="wrong"' in parent.view.text and not (await parent._state())["done"]
            failed = await parent.step(call("click", id=element(parent, "button", "Submit")))
            assert (
                failed.info["outcome"]["value"] == 0.0
            )  # the parent's own (wrong) text was submitted
        finally:
            await child.close()
    finally:
        await parent.close()


async def test_a_clock_driven_miniwob_page_refuses_to_fork(browser):
    env = MiniWobEnv("stock-market")
    try:
        await env.reset(seed=0)
        with pytest.raises(NotImplementedError, match="clock"):
            await env.fork()
    finally:
        await env.close()


async def test_a_half_filled_form_forks_with_its_values_and_each_side_submits_its_own(browser):
    def customer(env: AppEnv) -> tuple:
        with sqlite3.connect(env.db_path) as conn:
            return conn.execute("select street, city, newsletter from customer").fetchone()

    parent = AppEnv("shop", prepare_next=False)
    try:
        await parent.reset(options={"task_id": TASK})
        await parent.step(call("goto", url="/account"))
        original = customer(parent)
        await parent.step(call("fill", id=element(parent, "textbox", "Street"), text="1 Fork Lane"))
        await parent.step(call("click", id=element(parent, "checkbox")))  # toggles the newsletter
        before = parent.observation()
        child = await parent.fork()
        try:
            assert child.observation() == before and child.session.page.url.endswith("/account")
            assert (
                await child.session.page.evaluate(
                    "() => document.querySelector('[name=street]').value"
                )
                == "1 Fork Lane"
            )
            await child.step(call("fill", id=element(child, "textbox", "City"), text="Childtown"))
            saved = await child.step(call("click", id=element(child, "button", "Save settings")))
            assert "Settings saved" in saved.observation.messages[-1].content
            assert customer(child) == ("1 Fork Lane", "Childtown", 1 - original[2])
            assert customer(parent) == original  # the child's submission is the child's only
            page = parent.session.page
            assert await page.evaluate(
                "() => [document.querySelector('[name=street]').value,"
                " document.querySelector('[name=city]').value]"
            ) == ["1 Fork Lane", original[1]]
            await parent.step(call("click", id=element(parent, "button", "Save settings")))
            assert customer(parent) == ("1 Fork Lane", original[1], 1 - original[2])
            assert customer(child)[1] == "Childtown"  # and the parent's is the parent's
        finally:
            await child.close()
    finally:
        await parent.close()


class CountingSite:
    """A site that records the requests it answers."""

    def __init__(self, site):
        self.site, self.requests = site, []

    async def fulfill(self, route):
        self.requests.append(route.request.method + " " + route.request.url)
        await self.site.fulfill(route)

    async def close(self):
        await self.site.close()


async def test_a_page_without_scripts_is_written_into_a_kept_tab_else_loaded(browser):
    parent, donor = AppEnv("shop", prepare_next=False), AppEnv("shop", prepare_next=False)
    try:
        await parent.reset(options={"task_id": TASK})
        await parent.step(call("goto", url=f"/product/{PRODUCT}"))
        await parent.step(call("fill", id=element(parent, "spinbutton", "Quantity"), text="3"))
        await donor.reset(options={"task_id": TASK})
        kept = donor.session.context
        await donor.close()  # its context is wiped and kept, its tab on the shop's origin
        assert kept in browser.spare_contexts()
        state = await fork.capture(parent.session, with_html=True)
        for tamper, requests in ((False, []), (True, [f"GET {parent.view.url}"])):
            if tamper:  # a DOM that would not parse back the same: the page is loaded instead
                state.tabs[0][1]["count"] += 1
            site = CountingSite(parent._site(fork.copy_db(parent.db_path))[parent.origin])
            session = await fork.open_fork(
                state, {parent.origin: site}, 5_000, scripted_pages=False
            )
            try:
                assert site.requests == requests
                assert (session.context is kept) == (not tamper)
                page = session.page
                assert page.url == parent.session.page.url
                assert await page.evaluate("() => history.length") == 1
                assert await page.title() == await parent.session.page.title()
                quantity = f'[{ID_ATTR}="{element(parent, "spinbutton", "Quantity")}"]'
                assert await page.locator(quantity).input_value() == "3"
            finally:
                await session.context.close()
                await site.close()
    finally:
        await parent.close()


async def test_local_storage_of_an_origin_no_tab_shows_is_carried_too(browser):
    parent = AppEnv("shop", prepare_next=False)
    try:
        await parent.reset(options={"task_id": TASK})
        page = parent.session.page  # what a page script could store, before the tab leaves
        await page.evaluate("() => localStorage.setItem('k', 'kept')")
        await page.goto("about:blank")  # (no tab shows the shop now: storage_state reads it)
        child = await parent.fork()
        try:
            assert child.session.page.url == "about:blank"
            await child.step(call("new_tab", url="/"))
            stored = await child.session.page.evaluate("() => localStorage.getItem('k')")
            assert stored == "kept" and child.session.page.url == parent.origin + "/"
        finally:
            await child.close()
    finally:
        await parent.close()


async def test_concurrent_forks_each_get_their_own_context_with_the_parents_tabs(browser):
    parent = AppEnv("shop", prepare_next=False)
    try:
        await parent.reset(options={"task_id": TASK})
        await parent.step(call("goto", url=f"/product/{PRODUCT}"))
        await parent.step(call("new_tab", url="/cart"))
        await parent.step(call("switch_tab", index=0))
        await parent.step(call("fill", id=element(parent, "spinbutton", "Quantity"), text="4"))
        for _ in range(2):  # the second round takes contexts the first one gave back
            children = await asyncio.gather(*(parent.fork() for _ in range(3)))
            try:
                assert len({c.session.context for c in children} | {parent.session.context}) == 4
                for child in children:
                    assert [p.url for p in child.session.pages] == [
                        p.url for p in parent.session.pages
                    ]
                    assert child.observation() == parent.observation()
                    quantity = element(child, "spinbutton", "Quantity")
                    field = child.session.page.locator(f'[{ID_ATTR}="{quantity}"]')
                    assert await field.input_value() == "4"
            finally:
                await asyncio.gather(*(c.close() for c in children))
    finally:
        await parent.close()
