"""Crafted URLs through real navigation: a page's sub-goal pays only when the app shows that page.

One episode per app goes to every crafted URL (the page's path in the query or the fragment, after
other segments, with a double slash, percent-encoded separators, repeated parameters) and earns
nothing; spellings the app serves as the same page (percent-encoded letters, dot segments the
browser resolves, a trailing slash the app redirects, extra parameters, a fragment) earn the
sub-goal and show the same page.
"""

from __future__ import annotations

import pytest

from agentgym.environments.web.app_env import AppEnv
from agentgym.environments.web.miniwob import MiniWobEnv
from agentgym.environments.web.tasks import WebTask
from agentgym.environments.web.urls import url_is
from tests.environments.web.helpers import call
from tests.environments.web.test_urls import crafted, equivalent

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


#: the attacks of test_urls.crafted that are also navigated to (all of them are matched there)
THROUGH_THE_BROWSER = ("in the query", "in the fragment", "double slash", "encoded separators",
                       "parameter inside another", "parameters on another page", "repeated, other last")


def url_goal(env: AppEnv, with_query: bool) -> tuple[WebTask, dict]:
    """A task whose first sub-goal is a page (with query parameters or without)."""
    for task in env.tasks.values():
        goal = task.subgoals[0] if task.subgoals else None
        if goal is not None and goal.check == "url_is" and bool(goal.args.get("query")) == with_query:
            return task, goal.args
    raise LookupError("no such task")


@pytest.mark.parametrize(("app", "with_query"), [("shop", False), ("shop", True), ("forum", True), ("tracker", True)])
async def test_crafted_urls_earn_nothing_and_the_real_page_does(browser, app, with_query):
    env = AppEnv(app, prepare_next=False)
    try:
        task, args = url_goal(env, with_query)
        path, query = args["path"], args.get("query", {})
        base = env.origin
        q = "&".join(f"{k}={v}" for k, v in query.items())

        await env.reset(options={"task_id": task.id})
        attacks = crafted(base, path, query)
        for attack in THROUGH_THE_BROWSER:
            if attack in attacks:
                result = await env.step(call("goto", url=attacks[attack]))
                assert env.view.url == attacks[attack], (attack, env.view.url)  # the browser went there
                assert result.reward.value == 0.0, (task.id, attack, env.view.url, result.reward.components)

        await env.reset(options={"task_id": task.id})
        first = await env.step(call("goto", url=f"{base}{path}" + (f"?{q}" if q else "")))
        assert first.reward.value > 0.0 and "subgoal_0:url_is" in first.reward.components
        canonical = env.view.text
        redirected = f"{base}{path}/" + (f"?{q}" if q else "")  # the app redirects to the real path
        resolved = f"{base}/x/..{path}" + (f"?{q}" if q else "")  # the browser resolves dot segments
        for url in [*equivalent(base, path, query), resolved, redirected]:
            await env.step(call("goto", url=url))  # the same page: the sub-goal would hold again
            assert url_is(env.view.url, path, query) and env.view.text == canonical, (task.id, url, env.view.url)
    finally:
        await env.close()


async def test_another_miniwob_page_at_a_lookalike_url_ends_the_episode(browser):
    env = MiniWobEnv("click-test")
    try:
        await env.reset(seed=1)
        # another task's page, at a URL that ends like this task's: its reward must not count
        result = await env.step(call("goto", url="/miniwob/click-button.html?next=/miniwob/click-test.html"))
        assert result.terminated and result.info["outcome"]["value"] == 0.0
        assert "left the task page" in result.info["outcome"]["explanation"]
    finally:
        await env.close()
