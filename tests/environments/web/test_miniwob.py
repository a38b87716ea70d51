"""MiniWoB++ from the installed package: lazy listing, seeded instances, the page's own reward."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import agentgym
from agentgym.environments.web.miniwob import MiniWobEnv, task_names
from tests.environments.web.helpers import call
from tests.sweep import sweep


def test_every_task_page_is_registered_without_importing_playwright():
    code = (
        "import sys, agentgym\n"
        "ids = [i for i in agentgym.registry() if i.startswith('web/miniwob.')]\n"
        "print(len(ids), 'playwright' in sys.modules, 'miniwob' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) == len(task_names()) >= 100
    assert out[1:] == ["False", "False"]
    assert agentgym.spec("web/miniwob.click-button-v0").count_tasks() == 1


def test_an_unknown_task_is_refused():
    with pytest.raises(ValueError, match="no MiniWoB"):
        MiniWobEnv("no-such-task")


def _element(env: MiniWobEnv, role: str, name: str | None = None) -> int:
    return next(e["id"] for e in env.extras()["elements"] if e["role"] == role and (name is None or e["name"] == name))


async def _solve(env: MiniWobEnv, name: str):
    """A scripted agent for three simple tasks; it acts only through the tools."""
    wanted = re.search(r'"([^"]+)"', env.utterance).group(1)
    if name == "click-button":
        return await env.step(call("click", id=_element(env, "button", wanted)))
    if name == "click-link":
        return await env.step(call("click", id=_element(env, "clickable", wanted)))
    await env.step(call("fill", id=_element(env, "textbox"), text=wanted))
    return await env.step(call("click", id=_element(env, "button", "Submit")))


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("name", ["click-button", "click-link", "enter-text"])
async def test_simple_tasks_are_solved_through_the_tools(browser, name):
    env = MiniWobEnv(name)
    try:
        await env.reset(seed=3)
        result = await _solve(env, name)
        assert result.terminated
        outcome = result.info["outcome"]
        assert outcome["value"] == 1.0 and outcome["components"]["raw_reward"] == 1.0
        await env.reset(seed=3)  # a wrong click ends the episode with the page's failing reward
        others = [e["id"] for e in env.extras()["elements"] if e["role"] == "button" and e["name"] not in env.utterance]
        if name == "click-button" and others:
            bad = await env.step(call("click", id=others[0]))
            assert bad.terminated and bad.info["outcome"]["value"] == 0.0
            assert bad.info["outcome"]["components"]["raw_reward"] == -1.0
    finally:
        await env.close()


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="session")
async def test_seeds_reproduce_instances(browser):
    env = MiniWobEnv("enter-text")
    try:
        seen = []
        for seed in (1, 2, 3, 1):
            obs, _ = await env.reset(seed=seed)
            seen.append(obs.messages[-1].content)
        assert seen[0] == seen[3]
        assert len(set(seen)) >= 2
    finally:
        await env.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_every_task_page_resets_with_an_instruction_and_a_page(browser):
    """Registered MiniWoB++ tasks load, seed and show their instruction (a spread of 16; all with
    AGENTGYM_FULL_SWEEP=1; check_env runs on a sample)."""
    import asyncio

    gate = asyncio.Semaphore(4)

    async def one(name: str):
        async with gate:
            env = MiniWobEnv(name)
            try:
                obs, _ = await env.reset(seed=0)
                ok = bool(env.utterance) and "[" in (obs.messages[-1].content or "")
                return None if ok else f"{name}: no instruction or no elements"
            except Exception as e:  # collected, so one test names every broken page
                return f"{name}: {type(e).__name__}: {e}"
            finally:
                await env.close()

    problems = [p for p in await asyncio.gather(*(one(n) for n in sweep(task_names(), 16))) if p]
    assert not problems, "\n".join(problems)


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="session")
async def test_leaving_the_task_page_ends_the_episode_as_a_failure(browser):
    env = MiniWobEnv("click-button")
    try:
        await env.reset(seed=1)
        stay = await env.step(call("go_back"))  # the task page is the first page of the tab's history
        assert not stay.terminated and stay.observation.extras["url"].endswith("/click-button.html")
        result = await env.step(call("goto", url="/miniwob/click-link.html"))
        assert result.terminated
        assert result.info["outcome"]["value"] == 0.0
        assert "left the task page" in result.info["outcome"]["explanation"]
    finally:
        await env.close()
