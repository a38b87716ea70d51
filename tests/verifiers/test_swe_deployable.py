"""Deployable SWE verifiers in real bwrap sandboxes on a small project of our own: the agent's own
tests, the repository's regression tests, and the patch a judge is shown."""

from __future__ import annotations

import pytest

from agentgym.core.errors import VerifierError
from agentgym.core.types import Episode
from agentgym.environments.swe.env import SWEEnv
from agentgym.verifiers import load_verifier, score_episode
from agentgym.verifiers.swe_workspace import agent_patch
from tests.environments.swe.helpers import call, edit, sample_task

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

FIX = dict(old_str="    if value > high:\n        return low", new_str="    if value > high:\n        return high")
BREAK_MEAN = dict(old_str="    return sum(values) / len(values)", new_str="    return sum(values)")
REPRO = "from minicalc import clamp\n\n\ndef test_clamp_above_high():\n    assert clamp(50, 0, 10) == 10\n"
ALWAYS = "def test_nothing():\n    assert True\n"


async def played(*actions) -> tuple[SWEEnv, Episode]:
    env = SWEEnv([sample_task()], step_rewards=False)
    await env.reset()
    for action in actions:
        await env.step(action)
    task = env.task
    return env, Episode(env_id="swe/Mutants-v1", task_id=task.id, policy="scripted")


async def scores(*actions) -> dict[str, float]:
    env, episode = await played(*actions)
    try:
        out = {}
        for name in ("swe_agent_tests", "swe_regression"):
            reward = await score_episode(load_verifier(name), episode, env.task, env)
            out[name] = reward.value
        return out
    finally:
        await env.close()


async def test_a_fix_with_a_reproduction_test_scores_on_both():
    got = await scores(edit("str_replace", "minicalc/__init__.py", **FIX),
                       edit("create", "tests/test_repro.py", file_text=REPRO))
    assert got == {"swe_agent_tests": 1.0, "swe_regression": 1.0}


async def test_a_fix_that_breaks_other_behaviour_loses_regression_score():
    got = await scores(edit("str_replace", "minicalc/__init__.py", **FIX),
                       edit("str_replace", "minicalc/__init__.py", **BREAK_MEAN),
                       edit("create", "tests/test_repro.py", file_text=REPRO))
    assert got["swe_agent_tests"] == 1.0 and 0 < got["swe_regression"] < 1.0


async def test_no_op_and_tests_that_prove_nothing_score_low():
    assert await scores(call("bash", command="ls")) == {"swe_agent_tests": 0.0, "swe_regression": 0.0}
    # an always-passing test without a fix: it never failed, so it counts half, and no source changed
    got = await scores(edit("create", "tests/test_ok.py", file_text=ALWAYS))
    assert got == {"swe_agent_tests": 0.5, "swe_regression": 0.0}


async def test_the_judge_is_shown_the_agents_patch_and_the_verifiers_need_the_live_env():
    env, episode = await played(edit("str_replace", "minicalc/__init__.py", **FIX))
    try:
        patch = await agent_patch(env)
    finally:
        await env.close()
    assert "--- a/minicalc/__init__.py" in patch and "+        return high" in patch
    with pytest.raises(VerifierError, match="live SWE env"):
        await score_episode(load_verifier("swe_regression"), episode, env.task, None)
