"""`GymEnv.fork()`: a child gym env mid-episode whose returns stay right (the prefix's rewards plus
the child's remaining rewards equal the child's outcome), on tooluse/Retail-v0 and swe."""

from __future__ import annotations

import pytest

import agentgym
from agentgym.core.gym import GymEnv, run_sync
from agentgym.core.types import Action

TASK = "retail-s0-00"  # cancel an order: lookup, details, ask, cancel (a write), confirm


def _reference(gym_env: GymEnv) -> list[Action]:
    return gym_env.unwrapped.env.tasks[TASK].reference


def _play(gym_env: GymEnv, actions) -> tuple[list[float], dict]:
    rewards, info = [], {}
    for action in actions:
        _, reward, terminated, truncated, info = gym_env.step(action)
        rewards.append(reward)
        if terminated or truncated:
            break
    return rewards, info


def _closing(text: str) -> Action:
    return Action(content=text)


@pytest.mark.parametrize("wrap_async_fork", [False, True])
def test_retail_fork_returns_sum_to_each_outcome(wrap_async_fork):
    parent = agentgym.make("tooluse/Retail-v0")
    parent.reset(seed=0, options={"task_id": TASK})
    reference = _reference(parent)
    prefix, _ = _play(parent, reference[:4])  # up to and including the cancel (a paid write)
    assert sum(prefix) > 0  # the write paid a step reward: a double count would show
    if wrap_async_fork:  # the async env's fork in a new facade: still no reward counted twice
        child = GymEnv(run_sync(parent.unwrapped.env.fork()))
    else:
        child = parent.fork()
    try:
        # the child says what the answer key forbids; the parent finishes right
        child_rewards, child_info = _play(
            child, [_closing("Sorry, that order is not on your account."), _closing("Goodbye.")] * 3
        )
        parent_rewards, parent_info = _play(parent, reference[4:] + [_closing("Goodbye.")] * 3)
        assert parent_info["outcome"]["value"] == 1.0
        assert child_info["outcome"]["value"] < 1.0
        assert sum(prefix) + sum(parent_rewards) == pytest.approx(parent_info["outcome"]["value"])
        assert sum(prefix) + sum(child_rewards) == pytest.approx(child_info["outcome"]["value"])
    finally:
        child.close()
        parent.close()


def test_fork_is_independent_and_outcome_mode_pays_once():
    parent = agentgym.make("tooluse/Retail-v0", reward="outcome")
    parent.reset(seed=0, options={"task_id": TASK})
    reference = _reference(parent)
    prefix, _ = _play(parent, reference[:2])
    child = parent.fork()
    try:
        assert prefix == [0.0, 0.0]
        assert child.reward_mode == "outcome"
        child_rewards, child_info = _play(child, reference[2:] + [_closing("Goodbye.")] * 3)
        assert child_info["outcome"]["value"] == 1.0 and sum(child_rewards) == 1.0
        # the parent did not see the child's cancel: saying done now scores 0
        parent_rewards, parent_info = _play(parent, [_closing("Done, goodbye.")] * 4)
        assert parent_info["outcome"]["value"] == 0.0 and sum(parent_rewards) == 0.0
    finally:
        child.close()
        parent.close()
    with pytest.raises(RuntimeError):
        parent.fork()


def test_fork_before_reset_is_an_error():
    env = agentgym.make("tooluse/Retail-v0")
    try:
        with pytest.raises(RuntimeError, match="reset"):
            env.fork()
    finally:
        env.close()


@pytest.mark.bwrap
def test_swe_fork_after_a_paid_fix_pays_the_child_only_the_rest():
    from tests.environments.swe.helpers import call, edit, sample_task

    fix = dict(
        old_str="    if value > high:\n        return low",
        new_str="    if value > high:\n        return high",
    )
    parent = agentgym.spec("swe/Mutants-v1").make(tasks=[sample_task()])
    parent.reset(seed=0)
    child = None
    try:
        prefix, _ = _play(
            parent, [call("bash", command="ls"), edit("str_replace", "minicalc/__init__.py", **fix)]
        )
        assert prefix == [0.0, 1.0]
        child = parent.fork()
        child_rewards, child_info = _play(child, [call("submit")])
        assert child_info["outcome"]["value"] == 1.0 and child_rewards == [0.0]
        parent_rewards, parent_info = _play(
            parent, [edit("undo_edit", "minicalc/__init__.py"), call("submit")]
        )
        assert parent_info["outcome"]["value"] == 0.0
        assert sum(prefix) + sum(parent_rewards) == pytest.approx(0.0)
    finally:
        if child is not None:
            child.close()
        parent.close()
