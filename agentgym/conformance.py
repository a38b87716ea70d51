"""`agentgym check ENV_ID`: what every env must do, checked the same way for built-in and plugin envs.

Each check runs on real episodes and says what it saw:
- gymnasium: `gymnasium.utils.env_checker.check_env` on the facade;
- determinism: the same seed gives the same first observation (skipped for nondeterministic specs);
- oracle: the reference solution succeeds on every checked task;
- no-op: an agent that only writes "I cannot help with that." succeeds on none;
- bounded: no observation grows past `MAX_OBSERVATION_CHARS`;
- records: the env does not change the actions it was given (the recorded episode stays as sent);
- fork: a forked child's steps never reach its parent (skipped, with a note, where fork is not
  supported);
- close: closing releases file descriptors, threads and child processes, and is safe twice.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agentgym.core.registry import EnvSpec
from agentgym.core.shutdown import release_shared
from agentgym.core.types import Action, Observation, ToolSpec

MAX_OBSERVATION_CHARS = 2_000_000
NOOP_TEXT = "I cannot help with that."


@dataclass
class CheckResult:
    name: str
    status: str  # "pass", "fail" or "skip"
    detail: str = ""


class _Noop:
    name = "noop"

    def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        return Action(content=NOOP_TEXT)


def _recording_oracle() -> Any:
    """The oracle, keeping a private copy of every action it returned."""
    from agentgym.policies.oracle import OraclePolicy

    class RecordingOracle(OraclePolicy):
        sent: list[Action]

        async def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
            action = await super().act(observation, tools)
            self.sent.append(action.model_copy(deep=True))
            return action

    oracle = RecordingOracle()
    oracle.sent = []
    return oracle


def _resources() -> tuple[int, int, int]:
    """(open fds, threads, child processes) of this process."""
    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    children = 0
    try:
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as f:
            children = len(f.read().split())
    except OSError:
        pass
    return fds, threading.active_count(), children


async def run_checks(spec: EnvSpec, n_tasks: int = 3, env_kwargs: dict[str, Any] | None = None,
                     on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Every check on the first `n_tasks` tasks of the env `spec` builds."""
    from agentgym.rollout.runner import run_episode

    kwargs = dict(env_kwargs or {})
    results: list[CheckResult] = []

    async def check(name: str, body: Callable[[], Awaitable[str]]) -> None:
        try:
            detail = await body()
            result = CheckResult(name, "skip" if detail.startswith("skipped") else "pass", detail)
        except AssertionError as e:
            result = CheckResult(name, "fail", str(e))
        except Exception as e:  # the env crashed: that fails the check, with where
            where = traceback.extract_tb(e.__traceback__)[-1]
            result = CheckResult(name, "fail", f"{type(e).__name__}: {e} (at {where.filename}:{where.lineno})")
        results.append(result)
        if on_result:
            on_result(result)

    probe = spec.make_async(**kwargs)
    task_ids = sorted(probe.tasks)[:n_tasks]
    await probe.close()

    async def gymnasium_check() -> str:
        from gymnasium.utils.env_checker import check_env

        gym_env = await asyncio.to_thread(spec.make, **kwargs)
        try:
            await asyncio.to_thread(check_env, gym_env.unwrapped, skip_render_check=True)
        finally:
            await asyncio.to_thread(gym_env.close)
        return "check_env passed"

    async def determinism() -> str:
        if spec.nondeterministic:
            return "skipped: the spec is declared nondeterministic"
        env = spec.make_async(**kwargs)
        try:
            first = (await env.reset(seed=3))[0].model_dump()
            again = (await env.reset(seed=3))[0].model_dump()
        finally:
            await env.close()
        assert first == again, "two resets with seed 3 gave different observations"
        return "reset(seed=3) twice gave the same observation"

    biggest = [0]
    oracle_actions: dict[str, list[Action]] = {}

    async def oracle() -> str:
        failed = []
        probe = spec.make_async(**kwargs)
        unsolvable = [t for t in task_ids
                      if not probe.tasks[t].reference and probe.reference_solver(probe.tasks[t]) is None]
        await probe.close()
        if unsolvable:
            return f"skipped: no reference solution for {', '.join(unsolvable)}"
        for task_id in task_ids:
            recording = _recording_oracle()
            env = spec.make_async(**kwargs)
            try:
                episode = await run_episode(env, recording, task_id)
            finally:
                await env.close()
            oracle_actions[task_id] = [a.model_copy(deep=True) for a in recording.sent]
            _track_size(episode, biggest)
            if not episode.success:
                failed.append(f"{task_id}: {episode.outcome.explanation if episode.outcome else episode.status}")
            sent = [a.model_dump(exclude={"usage", "generation"}) for a in recording.sent]
            kept = [s.action.model_dump(exclude={"usage", "generation"}) for s in episode.steps]
            assert sent == kept, f"{task_id}: the recorded actions differ from what the policy sent"
        assert not failed, "the oracle fails: " + "; ".join(failed)
        return f"the reference succeeds on {len(task_ids)} task(s); recorded actions unchanged"

    async def noop() -> str:
        passed = []
        for task_id in task_ids:
            env = spec.make_async(**kwargs)
            try:
                episode = await run_episode(env, _Noop(), task_id, max_steps=3)
            finally:
                await env.close()
            _track_size(episode, biggest)
            if episode.success:
                passed.append(task_id)
        assert not passed, f"doing nothing succeeds on {passed}"
        return f"doing nothing fails on {len(task_ids)} task(s)"

    async def bounded() -> str:
        assert biggest[0] <= MAX_OBSERVATION_CHARS, (
            f"an observation reached {biggest[0]:,} characters (limit {MAX_OBSERVATION_CHARS:,})")
        return f"largest observation {biggest[0]:,} characters"

    async def fork() -> str:
        env = spec.make_async(**kwargs)
        try:
            observation, _ = await env.reset(options={"task_id": task_ids[0]})
            try:
                child = await env.fork()
            except NotImplementedError as e:
                return f"skipped: {e}"
            try:
                before = [m.model_dump() for m in env.messages]
                # the child acts the whole reference (changing its state); the parent must not see it
                for action in oracle_actions.get(task_ids[0]) or [Action(content=NOOP_TEXT)]:
                    if child.done:
                        break
                    await child.step(action)
                assert [m.model_dump() for m in env.messages] == before, "a child's step changed its parent's history"
                assert env.steps_taken == 0 and child.steps_taken >= 1, "step counts are shared"
                parent = await env.score()
                fresh = spec.make_async(**kwargs)
                try:
                    await fresh.reset(options={"task_id": task_ids[0]})
                    untouched = await fresh.score()
                finally:
                    await fresh.close()
                assert parent.value == untouched.value, "the parent's outcome moved after its child acted"
            finally:
                await child.close()
        finally:
            await env.close()
        return "a child's steps never reached its parent"

    async def close() -> str:
        baseline = _resources()  # after the other checks: caches they warmed are not the env's
        env = spec.make_async(**kwargs)
        await env.reset(options={"task_id": task_ids[0]})
        await env.close()
        await env.close()  # twice is safe
        del env
        await release_shared()
        gc.collect()
        await asyncio.sleep(0.2)
        fds, threads, children = _resources()
        assert children <= baseline[2], f"{children - baseline[2]} child process(es) left running"
        assert fds <= baseline[0], f"{fds - baseline[0]} file descriptor(s) left open"
        return f"released: {fds} fds, {threads} threads, {children} child processes"

    for name, body in (("gymnasium", gymnasium_check), ("determinism", determinism), ("oracle", oracle),
                       ("no-op", noop), ("bounded", bounded), ("fork", fork), ("close", close)):
        await check(name, body)
    await release_shared()
    return results


def _track_size(episode: Any, biggest: list[int]) -> None:
    size = 0
    for step in episode.steps:
        size += sum(len(m.content or "") for m in step.observation)
        biggest[0] = max(biggest[0], size)
