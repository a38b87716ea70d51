"""Gymnasium's vector envs over agentgym envs: SyncVectorEnv, and AsyncVectorEnv with every start
method. With "fork" the child inherits the facade's event loop but not its thread; it used to
wait for that thread forever."""

from __future__ import annotations

import contextlib
import multiprocessing

import gymnasium
import numpy as np
import pytest

import agentgym
from agentgym.environments.tooluse import load_tasks

ENV_ID = "tooluse/Retail-v0"
SEEDS = [0, 7]  # each sub-env is reset to its own task (the seed picks it)


def make_retail():
    return agentgym.make(ENV_ID)


def reference_moves() -> list[list[dict]]:
    """For each sub-env, the reference solution of the task its seed picks, as OpenAI messages."""
    tasks = sorted(load_tasks(), key=lambda t: t.id)
    moves = []
    for seed in SEEDS:
        task = tasks[seed % len(tasks)]
        moves.append([{"role": "assistant", "content": a.content,
                       "tool_calls": [c.to_openai() for c in a.tool_calls]} for a in task.reference])
    return moves


def _reset(vector_env):
    if isinstance(vector_env, gymnasium.vector.AsyncVectorEnv):  # a hang fails, not blocks
        vector_env.reset_async(seed=SEEDS)
        return vector_env.reset_wait(timeout=60)
    return vector_env.reset(seed=SEEDS)


def _step(vector_env, actions):
    if isinstance(vector_env, gymnasium.vector.AsyncVectorEnv):
        vector_env.step_async(actions)
        return vector_env.step_wait(timeout=60)
    return vector_env.step(actions)


def play_references(vector_env) -> list[float]:
    """Act out each sub-env's reference until it ends; return each one's summed reward."""
    obs, info = _reset(vector_env)
    assert list(info["task_id"]) == [sorted(t.id for t in load_tasks())[s] for s in SEEDS]
    assert all(m["role"] == "system" for m in (o["messages"][0] for o in obs))
    moves = reference_moves()
    returns, ended = [0.0] * len(SEEDS), [False] * len(SEEDS)
    for turn in range(max(len(m) for m in moves)):
        actions = tuple(m[turn] if turn < len(m) and not done else "Thanks."
                        for m, done in zip(moves, ended, strict=True))
        obs, rewards, terminated, truncated, info = _step(vector_env, actions)
        for i in range(len(SEEDS)):
            if not ended[i]:
                returns[i] += float(rewards[i])
                ended[i] = bool(terminated[i] or truncated[i])
        if all(ended):
            break
    assert all(ended), "every reference solution ends its episode"
    return returns


def test_sync_vector_env_plays_two_episodes():
    env = gymnasium.vector.SyncVectorEnv([make_retail, make_retail])
    try:
        assert play_references(env) == pytest.approx([1.0, 1.0])
    finally:
        env.close()


@contextlib.contextmanager
def _async(context: str):
    # chat observations are not fixed-size arrays: they travel by pipe, not shared memory
    env = gymnasium.vector.AsyncVectorEnv([make_retail, make_retail], context=context,
                                          shared_memory=False)
    try:
        yield env
    except BaseException:
        env.close(terminate=True)  # workers that hang would block a polite close
        raise
    env.close()


def test_async_vector_env_with_fork_after_the_parent_used_the_facade():
    """The parent's loop thread exists before the fork (gymnasium itself builds and closes a
    dummy env in the parent), so the children must start loops of their own."""
    warm = make_retail()
    warm.reset(seed=0)
    try:
        with _async("fork") as env:
            assert play_references(env) == pytest.approx([1.0, 1.0])
        # the parent's facade still works after its children forked
        obs, _ = warm.reset(seed=1)
        assert obs["messages"][0]["role"] == "system"
    finally:
        warm.close()
    assert not multiprocessing.active_children()


@pytest.mark.slow
@pytest.mark.parametrize("context", ["spawn", "forkserver"])
def test_async_vector_env_with_spawn_and_forkserver(context):
    with _async(context) as env:
        assert play_references(env) == pytest.approx([1.0, 1.0])
    assert not multiprocessing.active_children()


def test_shared_memory_fails_at_once_with_a_clear_message():
    with pytest.raises(ValueError, match="shared_memory=False"):
        gymnasium.vector.AsyncVectorEnv([make_retail, make_retail], context="fork")
    assert not multiprocessing.active_children()


def test_the_observation_batch_is_one_conversation_per_env():
    env = gymnasium.vector.SyncVectorEnv([make_retail, make_retail])
    try:
        obs, _ = env.reset(seed=SEEDS)
        assert len(obs) == 2 and obs[0]["messages"][1] != obs[1]["messages"][1]
        assert isinstance(env.step(("Hello.", "Hello."))[1], np.ndarray)
    finally:
        env.close()
