"""The browser env on our apps: conformance, agent errors as observations, rewards, isolation."""

from __future__ import annotations

import asyncio
import base64
import sqlite3

import pytest
import pytest_asyncio

from agentgym.core.errors import BrowserError, VerifierError
from agentgym.environments.web import serve
from agentgym.environments.web.app_env import AppEnv
from agentgym.environments.web.tasks import WebTask
from tests.environments.web.helpers import call, element, run_reference, transcript

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def shop(browser):
    env = AppEnv("shop")
    yield env
    await env.close()


async def test_observation_shows_page_with_ids(shop):
    obs, info = await shop.reset(options={"task_id": "shop.add_to_cart.0"})
    page = obs.messages[-1].content
    assert obs.messages[0].role == "system" and info["task_id"] == "shop.add_to_cart.0"
    assert "URL: http://shop.agentgym.test/" in page and "Title: Home | Koda Shop" in page
    assert '[1 link "Home"]' in page and 'searchbox "Search products"' in page
    extras = shop.extras()
    assert extras["url"] == "http://shop.agentgym.test/" and extras["tabs"] == [extras["url"]]
    assert "check" not in page and "subgoal" not in str(extras)  # checks are never shown


async def test_observation_is_bounded_and_can_carry_a_screenshot(browser):
    env = AppEnv("shop", max_chars=300, screenshot=True)
    try:
        obs, _ = await env.reset(options={"task_id": "shop.add_to_cart.0"})
        page = obs.messages[-1].content.split("\n---\n", 1)[1]
        assert len(page) < 400 and page.endswith("[... page truncated: scroll or refine the page ...]")
        assert base64.b64decode(obs.extras["screenshot_png"]).startswith(b"\x89PNG")
    finally:
        await env.close()


async def test_agent_mistakes_are_error_observations(shop):
    await shop.reset(options={"task_id": "shop.add_to_cart.0"})
    r = await shop.step(call("click", id=9999))
    assert "Error: there is no element with id 9999" in r.observation.messages[-1].content
    assert r.observation.extras["last_error"] and not r.terminated
    r = await shop.step(call("goto", url="https://example.com/steal"))
    assert "outside the sites of this task" in r.observation.messages[-1].content
    assert r.observation.extras["url"].startswith("http://shop.agentgym.test")
    r = await shop.step(call("click"))
    assert "invalid arguments for click" in r.observation.messages[-1].content
    r = await shop.step(call("teleport", where="moon"))
    assert "unknown tool 'teleport'" in r.observation.messages[-1].content
    r = await shop.step("I think I am done")
    assert "no tool call found" in r.observation.messages[-1].content
    r = await shop.step(call("switch_tab", index=3))
    assert "there is no tab 3" in r.observation.messages[-1].content


async def test_a_timed_out_action_is_an_error_observation(browser):
    env = AppEnv("shop", action_timeout_ms=300)
    try:
        await env.reset(options={"task_id": "shop.add_to_cart.0"})
        await env.session.page.evaluate(  # a control that never becomes clickable
            "document.body.insertAdjacentHTML('beforeend', '<button disabled>Frozen</button>')")
        await env.step(call("scroll", direction="down"))
        r = await env.step(call("click", id=element(env, "button", "Frozen")))
        assert "timed out after 0.3s" in r.observation.messages[-1].content and not r.terminated
    finally:
        await env.close()


async def test_links_forms_tabs_and_history(shop):
    await shop.reset(options={"task_id": "shop.add_to_cart.0"})
    await shop.step(call("fill", id=element(shop, "searchbox", "Search products"), text="Tent"))
    r = await shop.step(call("press", key="Enter"))
    assert "/search?q=Tent" in r.observation.extras["url"]
    await shop.step(call("new_tab", url="/orders"))
    assert shop.extras()["active_tab"] == 1 and shop.extras()["title"].startswith("My orders")
    await shop.step(call("switch_tab", index=0))
    r = await shop.step(call("go_back"))
    assert r.observation.extras["url"] == "http://shop.agentgym.test/"
    r = await shop.step(call("scroll", direction="down"))
    assert r.observation.messages[-1].content.startswith("scrolled down")


async def test_step_rewards_sum_to_the_outcome_and_noop_scores_zero(shop):
    task = shop.tasks["shop.add_to_cart.0"]
    observation, _ = await shop.reset(options={"task_id": task.id})
    solver, rewards, result = shop.reference_solver(task), [], None
    while result is None or not (result.terminated or result.truncated):
        result = await shop.step(solver.act(observation, shop.tools))
        observation = result.observation
        rewards.append(result.reward.value)
    assert result.info["outcome"]["value"] == 1.0
    assert sum(rewards) == pytest.approx(result.info["outcome"]["value"])
    await shop.reset(options={"task_id": task.id})
    r = await shop.step(call("answer", text="done"))
    assert r.terminated and r.info["outcome"]["value"] == 0.0
    assert "failed: cart_contains" in r.info["outcome"]["explanation"]


async def test_subgoal_rewards_come_once(shop):
    task = shop.tasks["shop.add_to_cart.0"]
    product = task.subgoals[0].args["path"].split("/")[-1]
    await shop.reset(options={"task_id": task.id})
    first = await shop.step(call("goto", url=f"/product/{product}"))
    assert first.reward.value == pytest.approx(1 / 3) and first.reward.source == "web"
    await shop.step(call("goto", url="/"))
    again = await shop.step(call("goto", url=f"/product/{product}"))
    assert again.reward.value == 0.0
    added = await shop.step(call("click", id=element(shop, "button", "Add to cart")))
    assert added.reward.value == pytest.approx(2 / 3)


async def test_reset_gives_fresh_state(shop):
    await run_reference(shop, shop.tasks["shop.cancel_order.0"])
    order = shop.tasks["shop.cancel_order.0"].final_checks[0].args["order_id"]
    await shop.reset(options={"task_id": "shop.cancel_order.0"})
    with sqlite3.connect(shop.db_path) as conn:
        assert conn.execute("select status from orders where id=?", (order,)).fetchone() == ("processing",)


async def test_sixteen_concurrent_episodes_each_verify_only_their_own_changes(browser):
    """Sixteen episodes of one task at once: eight solve it, eight do nothing. Shared state would
    show up as a do-nothing episode that passes, or a solving one that sees another's change."""
    task_id = "shop.add_quantity.0"
    envs = [AppEnv("shop") for _ in range(16)]

    async def do_nothing(env: AppEnv):
        await env.reset(options={"task_id": task_id})
        await asyncio.sleep(1.0)  # while the others change their state
        result = await env.step(call("answer", text="done"))
        return result.info["outcome"], result.observation

    try:
        outcomes = await asyncio.gather(
            *(run_reference(env, env.tasks[task_id]) if i % 2 == 0 else do_nothing(env) for i, env in enumerate(envs))
        )
        wrong = [f"episode {i}: {o['explanation']}\n{transcript(obs, 12)}"
                 for i, (o, obs) in enumerate(outcomes) if o["value"] != (1.0 if i % 2 == 0 else 0.0)]
        assert not wrong, "\n\n".join(wrong)
        pid, qty = (envs[0].tasks[task_id].final_checks[0].args[k] for k in ("product_id", "qty"))
        for i, env in enumerate(envs):
            with sqlite3.connect(env.db_path) as conn:  # exactly this episode's change, nobody else's
                row = conn.execute("select qty from cart_items where product_id=?", (pid,)).fetchone()
            assert row == ((qty,) if i % 2 == 0 else None)
        assert len({env.db_path for env in envs}) == 16
    finally:
        await asyncio.gather(*(env.close() for env in envs))


async def test_a_dead_browser_is_an_infra_error_and_reset_recovers(browser):
    env = AppEnv("shop")
    try:
        await env.reset(options={"task_id": "shop.price_of.0"})
        await (await browser.browser()).close()
        with pytest.raises(BrowserError):
            await env.step(call("click", id=1))
        obs, _ = await env.reset(options={"task_id": "shop.price_of.0"})
        assert "Koda Shop" in obs.messages[-1].content
    finally:
        await env.close()


async def test_a_task_without_checks_cannot_be_scored(browser):
    env = AppEnv("shop", tasks=[WebTask(id="vacuous", app="shop", prompt="Do anything")], prepare_next=False)
    try:
        await env.reset()
        with pytest.raises(VerifierError, match="neither final checks nor an expected answer"):
            await env.step(call("answer", text="done"))
    finally:
        await env.close()


async def test_a_crash_of_our_app_is_an_infra_error_not_a_page(shop):
    await shop.reset(options={"task_id": "shop.price_of.0"})
    shop.db_path.unlink()  # the app's next query fails: a bug on our side, not the agent's
    with pytest.raises(BrowserError, match="the served app failed"):
        await shop.step(call("goto", url="/"))


async def test_calls_that_do_not_parse_are_reported_beside_good_ones(shop):
    await shop.reset(options={"task_id": "shop.price_of.0"})
    action = {"role": "assistant", "content": '<tool_call>{"name": "scroll", "arguments": {"direction": "down"}}'
              "</tool_call> <tool_call>{not json</tool_call>"}
    result = await shop.step(action)
    text = result.observation.messages[-1].content
    assert "Error: could not read" in text and "URL: " in text
    assert any((m.content or "").startswith("scrolled down") for m in result.observation.messages[-3:])


async def test_a_change_the_task_did_not_ask_for_fails_it(shop):
    task = shop.tasks["shop.add_to_cart.0"]
    wanted = task.final_checks[0].args["product_id"]
    await shop.reset(options={"task_id": task.id})
    with sqlite3.connect(shop.db_path) as conn:
        other = conn.execute("select id from products where stock > 0 and id <> ? and id not in "
                             "(select product_id from cart_items) order by id limit 1", (wanted,)).fetchone()[0]
    for product in (wanted, other):
        await shop.step(call("goto", url=f"/product/{product}"))
        await shop.step(call("click", id=element(shop, "button", "Add to cart")))
    outcome = (await shop.step(call("answer", text="done"))).info["outcome"]
    assert outcome["value"] == 0.0 and outcome["components"]["no_collateral"] == 0.0
    assert outcome["components"]["check_0:cart_contains"] == 1.0
    assert f"cart_items[{other}]" in outcome["explanation"]


async def test_an_episode_prepared_in_vain_leaves_no_context_or_db_copy(browser):
    """The next episode is prepared in the background; when reading its page fails, it is cleaned up."""
    env = AppEnv("shop")

    def copies():  # episode DB copies (the per-process templates are made once and kept)
        return {p for p in serve._dir().glob("*.sqlite") if ".template." not in p.name}

    before_files = copies()
    before_contexts = set((await browser.browser()).contexts)
    try:
        await env.reset(options={"task_id": "shop.price_of.0"})
        env.view_root = "[[["  # an invalid selector: every page read fails, the prepared one's too
        assert env._bg.next is not None
        from playwright.async_api import Error as PlaywrightError

        with pytest.raises(PlaywrightError):
            await env._bg.next
    finally:
        await env.close()
    assert copies() <= before_files
    on_shop = [c for c in (await browser.browser()).contexts if c not in before_contexts
               and any(p.url.startswith(env.origin) for p in c.pages)]
    assert not on_shop
