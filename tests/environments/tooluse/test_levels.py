"""The difficulty knob on retail (retail_levels.py over levels.py): composed conversations whose
references score 1, and whose shortcuts (doing nothing, listing amounts, doing every branch,
leaving a write out) score 0."""

import pytest

import agentgym
from agentgym.environments.tooluse.env import RetailEnv
from agentgym.environments.tooluse.levels import PLANS
from agentgym.environments.tooluse.retail_levels import KINDS, compose_level, generate_level, main
from agentgym.environments.tooluse.tasks import dump_tasks, load_tasks

from .helpers import play


@pytest.fixture(scope="module")
def levels():
    return {level: compose_level(level, 9) for level in (1, 2, 3, 4, 5)}


async def final(env, task_id, actions) -> dict:
    results = await play(env, task_id, actions)
    if not (results[-1].terminated or results[-1].truncated):
        results.append(await env.step("Thanks."))
    return results[-1].info["outcome"]


def test_levels_compose_more_requests(levels):
    forbidden = {k for k, (_, cats) in KINDS.items() if "forbidden" in cats}
    for level, pairs in levels.items():
        assert len(pairs) == 9, level
        for task, composed in pairs:
            assert task.difficulty == level and len(composed.kinds) == (1 if level == 1 else len(PLANS[level]))
            assert task.prompt.count("If ") >= {3: 1, 4: 1, 5: 2}.get(level, 0), task.id
            if level >= 4:
                assert forbidden & {k.removesuffix("_skipped") for k in composed.kinds}, task.id
    assert dump_tasks(generate_level(4, 3)) == dump_tasks(generate_level(4, 3))


async def test_references_score_one_and_shortcuts_zero(levels):
    for pairs in levels.values():
        env = RetailEnv([task for task, _ in pairs])
        for task, composed in pairs:
            assert (await final(env, task.id, task.reference))["value"] == 1.0, task.id
            assert (await final(env, task.id, ["Done."]))["value"] == 0.0, task.id
            sweep = " ".join(f"${d}.00" for d in range(1, 300))
            stuffed = [*task.reference[:-1], f"{task.reference[-1].content} Or one of: {sweep}."]
            assert (await final(env, task.id, stuffed))["value"] == 0.0, task.id
            if composed.decoys:  # a condition that does not hold, done anyway
                both = [*task.reference[:-1], *composed.decoys, task.reference[-1]]
                assert (await final(env, task.id, both))["value"] == 0.0, task.id
            writes = [i for i, a in enumerate(task.reference) if a.tool_calls and a.tool_calls[0].name in {
                "cancel_pending_order", "modify_pending_order_address", "return_delivered_order_items",
                "modify_pending_order_items", "exchange_delivered_order_items"}]
            for i in writes:  # each write left out
                assert (await final(env, task.id, task.reference[:i] + task.reference[i + 1:]))["value"] == 0.0
    assert sum(bool(c.decoys) for pairs in levels.values() for _, c in pairs) >= 5


def test_the_cli_writes_a_task_file_the_retail_env_loads(tmp_path):
    path = tmp_path / "retail-l3.jsonl"
    main(["--level", "3", "--count", "4", str(path)])
    assert [t.difficulty for t in load_tasks(path)] == [3] * 4
    env = agentgym.make("tooluse/Retail-v0", tasks=str(path))
    assert len(env.unwrapped.env.tasks) == 4
    env.close()
