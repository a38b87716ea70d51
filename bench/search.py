"""Fork vs replay: step-level beam search to depth 10, copying branches with `Env.fork()` against
the same search copying them by resetting a fresh env and replaying the branch's action prefix
(what a search must do without fork). Both sides run the same policy draws and the same scorer,
in the same run, timed the same way; the printed figure is the wall-time ratio replay / fork.

    .venv/bin/python bench/search.py [--quick] [--swe-task ID] [--web-env web/Shop-v0]

SWE: swe/Mutants-v1 on the bwrap backend (step rewards on, as a search would use them). Web: any
web env through `env.fork()`; if that env raises NotImplementedError for fork, the web part is
skipped with a message saying so.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import agentgym  # noqa: E402
from agentgym.core.shutdown import release_shared  # noqa: E402
from agentgym.core.types import Action, Observation, Task, ToolSpec  # noqa: E402
from agentgym.policies.random import RandomPolicy  # noqa: E402
from agentgym.search import Budget, run_search  # noqa: E402

ENDING_TOOLS = {"submit", "answer", "stop", "transfer_to_human_agents", "send_msg_to_user"}


class Explorer:
    """Schema-valid random tool calls (RandomPolicy's) drawn afresh per call, never a tool that
    ends the episode: a stand-in for a sampling LLM that keeps a beam alive to the depth asked.
    Draws depend on (state, times asked there), so both sides of the bench see the same actions."""

    name = "explorer"

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.asked: dict[str, int] = {}

    def begin(self, task: Task, seed: int | None, sample: int) -> None:
        pass

    def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        digest = hashlib.sha256(str(self.seed).encode())
        for m in observation.messages:
            digest.update((m.content or "").encode())
            for c in m.tool_calls:
                digest.update(f"{c.name}{c.arguments}".encode())
        key = digest.hexdigest()
        draw = self.asked.get(key, 0)
        self.asked[key] = draw + 1
        inner = RandomPolicy(seed=int(key[:8], 16) + draw, p_stop=0.0)
        inner.begin(Task(id="x", family="x", prompt=""), 0, 0)
        return inner.act(observation, [t for t in tools if t.name not in ENDING_TOOLS])


async def one_side(make, task_id: str, copy: str, depth: int, width: int, samples: int):
    t0 = time.perf_counter()
    result = await run_search(make, Explorer(), task_id, method="beam", verifier="env",
                              allow_privileged=True, budget=Budget(policy_calls=10_000), copy=copy,
                              width=width, samples=samples, max_depth=depth)
    return time.perf_counter() - t0, result


async def compare(label: str, make, task_id: str, depth: int, width: int, samples: int) -> float | None:
    probe = make()
    try:
        await probe.reset(options={"task_id": task_id})
        try:
            child = await probe.fork()
        except NotImplementedError as e:
            print(f"{label}: skipped: {probe.env_id} raises NotImplementedError for fork ({e})")
            return None
        await child.close()
    finally:
        await probe.close()
    await one_side(make, task_id, "fork", 1, 1, 1)  # warm caches (builds, browser) for both sides
    fork_s, fork = await one_side(make, task_id, "fork", depth, width, samples)
    replay_s, replay = await one_side(make, task_id, "replay", depth, width, samples)
    same = [s.action for s in fork.episode.steps] == [s.action for s in replay.episode.steps]
    spent_f, spent_r = fork.search.spent, replay.search.spent
    print(f"{label}: beam depth {len(fork.episode.steps)} (width {width}, {samples} samples/state), "
          f"{spent_f.policy_calls} policy calls, {spent_f.env_steps} search steps each side")
    print(f"  fork:   {fork_s:7.2f} s  ({spent_f.forks} forks, {spent_f.resets} reset)")
    print(f"  replay: {replay_s:7.2f} s  ({spent_r.resets} resets, replayed prefixes)")
    print(f"  ratio replay/fork: {replay_s / fork_s:.1f}x   same chosen actions: {same}")
    return replay_s / fork_s


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="depth 4 instead of 10")
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--width", type=int, default=2)
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--swe-task", default=None, help="default: the first toolz task")
    parser.add_argument("--web-env", default="web/Shop-v0")
    parser.add_argument("--skip-swe", action="store_true")
    parser.add_argument("--skip-web", action="store_true")
    args = parser.parse_args()
    depth = 4 if args.quick else args.depth
    print(f"# bench/search.py: load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    try:
        if not args.skip_swe:
            spec = agentgym.spec("swe/Mutants-v1")
            probe = spec.make_async(backend="bwrap")
            task = args.swe_task or sorted(t for t in probe.tasks if t.startswith("toolz"))[0]
            await probe.close()
            await compare(f"swe/Mutants-v1 {task}", lambda: spec.make_async(backend="bwrap"), task,
                          depth, args.width, args.samples)
        if not args.skip_web:
            spec = agentgym.spec(args.web_env)
            probe = spec.make_async()
            task = sorted(probe.tasks)[0]
            await probe.close()
            await compare(f"{args.web_env} {task}", spec.make_async, task, depth, args.width,
                          args.samples)
    finally:
        await release_shared()


if __name__ == "__main__":
    asyncio.run(main())
