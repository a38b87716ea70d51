"""Fork vs replay: step-level beam search to depth 10, copying branches with `Env.fork()` against
the same search copying them by resetting a fresh env and replaying the branch's action prefix
(what a search must do without fork). Both sides run the same policy draws and the same scorer,
in the same run, timed the same way. Printed ratios (replay / fork wall time):
- level 10: copying and stepping the candidates of the 10th beam level (branches 9 steps deep);
- copy at depth 10: copying those branches alone (fork vs reset + replay);
- whole search: all 10 levels (levels near the root cost both sides alike, so this is lower).

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
from agentgym.search import Budget, Meter, SearchContext  # noqa: E402
from agentgym.search.beam import beam_search  # noqa: E402
from agentgym.search.scoring import EnvRewardScorer  # noqa: E402

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


class TimedContext(SearchContext):
    """Adds up, per depth of the branch being copied or stepped, the wall time of copies and steps."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.copy_s: dict[int, float] = {}
        self.step_s: dict[int, float] = {}

    async def fork(self, branch):
        t0 = time.perf_counter()
        child = await super().fork(branch)
        depth = len(branch.steps)
        self.copy_s[depth] = self.copy_s.get(depth, 0.0) + time.perf_counter() - t0
        return child

    async def step(self, branch, action, latency_s=0.0):
        depth = len(branch.steps)
        t0 = time.perf_counter()
        await super().step(branch, action, latency_s)
        self.step_s[depth] = self.step_s.get(depth, 0.0) + time.perf_counter() - t0


async def one_side(make, task_id: str, copy: str, depth: int, width: int, samples: int):
    ctx = TimedContext(make, Explorer(), task_id, Meter(Budget(policy_calls=10_000)), copy=copy)
    t0 = time.perf_counter()
    try:
        found = await beam_search(ctx, EnvRewardScorer(), width, samples, max_depth=depth)
    finally:
        await ctx.ledger.close_all()
    return time.perf_counter() - t0, ctx, found


async def compare(label: str, make, task_id: str, depth: int, width: int, samples: int) -> None:
    probe = make()
    try:
        await probe.reset(options={"task_id": task_id})
        try:
            child = await probe.fork()
        except NotImplementedError as e:
            print(f"{label}: skipped: {probe.env_id} raises NotImplementedError for fork ({e})")
            return
        await child.close()
    finally:
        await probe.close()
    await one_side(make, task_id, "fork", 1, 1, 1)  # warm caches (builds, browser) for both sides
    fork_s, fork, found_f = await one_side(make, task_id, "fork", depth, width, samples)
    replay_s, replay, found_r = await one_side(make, task_id, "replay", depth, width, samples)
    chosen = [b.actions for b in found_f.branches] == [b.actions for b in found_r.branches]
    last = depth - 1  # the 10th level copies branches 9 steps deep
    level_f = fork.copy_s.get(last, 0) + fork.step_s.get(last, 0)
    level_r = replay.copy_s.get(last, 0) + replay.step_s.get(last, 0)
    spent = fork.meter.spent
    print(
        f"{label}: beam to depth {depth} (width {width}, {samples} samples/state); each side "
        f"{spent.policy_calls} policy calls, {spent.env_steps} search steps; "
        f"same candidates both sides: {chosen}"
    )
    print(
        f"  whole search     fork {fork_s:7.2f} s   replay {replay_s:7.2f} s   "
        f"ratio {replay_s / fork_s:5.1f}x  (replayed {replay.replayed_steps} steps, "
        f"{replay.meter.spent.resets} resets vs {spent.forks} forks)"
    )
    print(
        f"  level {depth}         fork {level_f:7.2f} s   replay {level_r:7.2f} s   "
        f"ratio {level_r / level_f:5.1f}x"
    )
    copy_f, copy_r = fork.copy_s.get(last, 0), replay.copy_s.get(last, 0)
    print(
        f"  copy at depth {depth} fork {copy_f:7.3f} s   replay {copy_r:7.2f} s   "
        f"ratio {copy_r / copy_f:5.0f}x"
    )


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
            await compare(
                f"swe/Mutants-v1 {task}",
                lambda: spec.make_async(backend="bwrap"),
                task,
                depth,
                args.width,
                args.samples,
            )
        if not args.skip_web:
            spec = agentgym.spec(args.web_env)
            probe = spec.make_async()
            task = sorted(probe.tasks)[0]
            # each env of a search is reset once: an app env preparing its next episode while idle
            # would only take CPU from both sides (the replay side's ~30 fresh envs the most)
            options = {"prepare_next": False} if hasattr(probe, "prepare_next") else {}
            await probe.close()
            await compare(
                f"{args.web_env} {task}",
                lambda: spec.make_async(**options),
                task,
                depth,
                args.width,
                args.samples,
            )
    finally:
        await release_shared()


if __name__ == "__main__":
    asyncio.run(main())
