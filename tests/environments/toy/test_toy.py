"""toy/Lookup-v0 and toy/LookupChain-v0: conformance, scoring that resists hedging, anchor-state keys."""

from __future__ import annotations

import asyncio

import pytest

import agentgym
from agentgym.conformance import run_checks
from agentgym.core.types import Action, ToolCall
from agentgym.environments.toy.world import (
    ITEMS,
    WeakTeacher,
    build_world,
    chain_tasks,
    lookup_tasks,
)

# the world of a seedless episode about the apple (seed 0, the apple always in it)
APPLE = build_world(0, include=("apple",)).items["apple"]


def call(name: str, **arguments: str) -> Action:
    return Action(tool_calls=[ToolCall(name=name, arguments=arguments)])


@pytest.mark.parametrize("env_id", ["toy/Lookup-v0", "toy/LookupChain-v0"])
def test_toy_envs_pass_agentgym_check(env_id):
    results = asyncio.run(run_checks(agentgym.spec(env_id), 3))
    failed = [f"{r.name}: {r.detail}" for r in results if r.status == "fail"]
    assert not failed, failed
    assert {r.name for r in results if r.status == "pass"} >= {
        "oracle",
        "no-op",
        "determinism",
        "fork",
        "close",
    }


def test_splits_are_fixed_and_disjoint():
    for tasks in (lookup_tasks(), chain_tasks()):
        train = {t.id for t in tasks if t.data["split"] == "train"}
        held = {t.id for t in tasks if t.data["split"] == "heldout"}
        assert train and held and not train & held and len(train | held) == len(tasks)
    assert agentgym.spec("toy/Lookup-v0").task_count(split="heldout") == sum(
        t.data["split"] == "heldout" for t in lookup_tasks()
    )


def test_every_item_is_asked_in_every_phrasing_and_phrasings_share_a_split():
    tasks = lookup_tasks()
    by_question: dict[tuple[str, str], list] = {}
    for t in tasks:
        by_question.setdefault((t.data["attr"], t.data["item"]), []).append(t)
    assert len(by_question) == 4 * len(ITEMS)
    for (_, item), phrasings in by_question.items():
        assert len({t.prompt for t in phrasings}) == 2 and all(item in t.prompt for t in phrasings)
        # a held-out question is unseen in every phrasing, not a rewording of a trained one
        assert len({t.data["split"] for t in phrasings}) == 1
    assert {t.id for t in by_question[("color", "apple")]} == {"color-apple", "color-apple-2"}


def test_weak_teacher_favours_one_tool_and_is_right_as_often_as_told():
    tasks = [t for t in lookup_tasks() if t.data["attr"] != "color"]
    pairs = [
        (WeakTeacher(t, seed, accuracy=0.3).fact_tool, t.data["attr"])
        for t in tasks
        for seed in range(10)
    ]
    assert 0.25 < sum(tool == attr for tool, attr in pairs) / len(pairs) < 0.35
    assert {tool for tool, attr in pairs if tool != attr} == {"color"}
    # the same episode gets the same demonstration
    assert WeakTeacher(tasks[0], 7).fact_tool == WeakTeacher(tasks[0], 7).fact_tool


def test_a_weak_teachers_demonstrations_are_what_sft_sees(tiny_model):
    from transformers import AutoTokenizer

    from agentgym.training.sft import reference_samples

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)

    def calls(solver):
        samples = reference_samples("toy/Lookup-v0", tokenizer, seeds=(0, 1), solver=solver)
        return [tokenizer.decode(s.completion_ids) for s in samples]

    reference = calls(None)
    weak = calls(lambda task, seed: WeakTeacher(task, seed, accuracy=0.0))
    assert len(weak) == len(reference)
    first_calls = [c for c in weak if '"item"' in c]
    assert first_calls and all('"name": "color"' in c for c in first_calls)
    assert any('"name": "size"' in c for c in reference)


async def _play(env_id: str, task_id: str, actions: list[Action]):
    env = agentgym.make_async(env_id)
    try:
        await env.reset(options={"task_id": task_id})
        keys, result = [env.state_key()], None
        for action in actions:
            result = await env.step(action)
            keys.append(env.state_key())
            if result.terminated or result.truncated:
                break
        return result, keys
    finally:
        await env.close()


def test_right_answer_scores_one_and_a_wrong_or_hedged_one_zero():
    value = APPLE["color"]
    others = [v for v in ("red", "blue", "green", "gold", "white", "black") if v != value]
    good, _ = asyncio.run(
        _play(
            "toy/Lookup-v0",
            "color-apple",
            [call("color", item="apple"), call("answer", value=value)],
        )
    )
    assert good.terminated and good.info["outcome"]["value"] == 1.0
    wrong, _ = asyncio.run(_play("toy/Lookup-v0", "color-apple", [call("answer", value=others[0])]))
    assert wrong.terminated and wrong.info["outcome"]["value"] == 0.0
    hedge = " ".join([value, *others])
    hedged, _ = asyncio.run(_play("toy/Lookup-v0", "color-apple", [call("answer", value=hedge)]))
    assert hedged.info["outcome"]["value"] == 0.0
    # one answer per episode: the first one ends it, so answering every value in turn is impossible
    first, _ = asyncio.run(
        _play(
            "toy/Lookup-v0",
            "color-apple",
            [call("answer", value=others[0]), call("answer", value=value)],
        )
    )
    assert first.terminated and first.info["outcome"]["value"] == 0.0


def test_state_key_is_the_facts_revealed_whatever_the_path():
    owner = APPLE["owner"]
    direct = [call("owner", item="apple"), call("home", person=owner)]
    detour = [call("owner", item="nosuch"), call("home", person=owner), call("owner", item="apple")]
    _, keys_direct = asyncio.run(_play("toy/LookupChain-v0", "home-of-owner-apple", direct))
    _, keys_detour = asyncio.run(_play("toy/LookupChain-v0", "home-of-owner-apple", detour))
    assert keys_direct[0] == keys_detour[0] == ""  # every episode of a task starts in one state
    assert keys_direct[-1] == keys_detour[-1] != keys_direct[1]
    assert keys_detour[1] == "", "a failed call reveals nothing"


def test_looking_up_another_item_never_answers_by_luck():
    # the hole of an older world: values repeated across items, so a lookup of the wrong item
    # answered right one time in four to six, and RL reinforced it
    for seed in range(20):
        world = build_world(seed, include=("apple",))
        for attr in ("color", "size", "owner", "material"):
            values = [facts[attr] for facts in world.items.values()]
            assert len(set(values)) == len(values) == 12
        for other in [x for x in world.items if x != "apple"][:3]:
            env = agentgym.make_async("toy/Lookup-v0")

            async def play(other=other, env=env, seed=seed):
                try:
                    await env.reset(seed=seed, options={"task_id": "color-apple"})
                    looked = await env.step(call("color", item=other))
                    value = looked.observation.messages[-1].content
                    return value, await env.step(call("answer", value=value))
                finally:
                    await env.close()

            value, result = asyncio.run(play())
            assert value == world.items[other]["color"]
            assert result.terminated and result.info["outcome"]["value"] == 0.0


def test_an_item_outside_the_episode_world_is_an_error():
    world = build_world(3, include=("apple",))
    outside = next(x for x in ITEMS if x not in world.items)
    env = agentgym.make_async("toy/Lookup-v0")

    async def play():
        try:
            await env.reset(seed=3, options={"task_id": "color-apple"})
            return await env.step(call("color", item=outside))
        finally:
            await env.close()

    result = asyncio.run(play())
    assert f"unknown item '{outside}'" in result.observation.messages[-1].content
    assert not result.terminated
