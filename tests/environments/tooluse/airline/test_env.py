"""tooluse/Airline-v0 end to end: the Gymnasium facade, reference replays, step rewards, errors as
observations, the scripted user, fork and concurrency."""

import asyncio
import json

import pytest
from gymnasium.utils.env_checker import check_env

import agentgym
from agentgym.core.errors import VerifierError
from agentgym.environments.tooluse.airline.env import AirlineEnv
from agentgym.environments.tooluse.airline.tasks import load_tasks

from .helpers import call, is_write, outcome, play


@pytest.fixture(scope="module")
def tasks():
    return load_tasks()


@pytest.fixture
def env(tasks):
    return AirlineEnv(tasks)


def first(env, kind: str, level: int = 1):
    return next(t for t in env.tasks.values() if t.data.kinds[0] == kind and t.difficulty == level)


def test_gymnasium_check_env_and_determinism():
    env = agentgym.make("tooluse/Airline-v0")
    check_env(env.unwrapped)
    obs = env.reset(seed=3)
    assert env.reset(seed=3) == obs
    assert obs[0]["extras"] == {"domain": "airline"}
    assert [m["role"] for m in obs[0]["messages"]] == ["system", "user"]
    assert "2024-05-15 15:00" in obs[0]["messages"][0]["content"]
    for spec in env.unwrapped.tools:  # env-bound parameters never reach the agent
        assert not {"db", "session"} & set(spec["function"]["parameters"]["properties"])
    env.close()


async def test_every_reference_scores_one_and_step_rewards_sum_to_it(env):
    for task_id, task in env.tasks.items():
        results = await play(env, task_id, task.reference)
        assert len(results) == len(task.reference) and results[-1].terminated, task_id
        result = results[-1].info["outcome"]
        assert result["value"] == 1.0, (task_id, result["explanation"])
        assert sum(r.reward.value for r in results) == pytest.approx(1.0), task_id
        if any(is_write(a) for a in task.reference):
            assert result["components"]["progress"] == pytest.approx(1.0), task_id
            if not is_write(task.reference[-1]):  # (a transfer is the last step)
                assert sum(r.reward.value for r in results[:-1]) > 0, task_id  # progress paid on the way


async def test_the_scripted_user_tells_the_date_of_birth_only_when_asked(env):
    task = first(env, "add_bags")
    obs, _ = await env.reset(options={"task_id": task.id})
    dob = task.data.user_facts["date of birth"]
    assert dob not in obs.messages[-1].content
    asked = await env.step("Could you tell me your date of birth?")
    assert dob in asked.observation.messages[-1].content and not asked.terminated
    confirm = await env.step("I will add the bags. Shall I go ahead?")
    assert confirm.observation.messages[-1].content.startswith("Yes")


async def test_forbidden_action_is_an_observation_and_the_episode_goes_on(env):
    task = first(env, "refuse_change_basic")
    rid = task.reference[2].tool_calls[0].arguments["reservation_id"]
    results = await play(env, task.id, [*task.reference[:3], call(
        "update_reservation_flights", reservation_id=rid, flights=[{"flight_number": "AG100", "date": "2024-05-30"}],
        payment_method_id="credit_card_0")])
    last = results[-1]
    assert not last.terminated and last.reward.components["tool_errors"] == 1.0
    assert "basic economy flights cannot be changed" in last.observation.messages[-1].content
    final = await env.step(task.reference[-1])
    assert final.info["outcome"]["value"] == 1.0


async def test_bad_calls_become_error_observations(env):
    await env.reset(options={"task_id": first(env, "fare_quote").id})
    unknown = await env.step(call("cancel_booking", reservation_id="X"))
    assert "unknown tool 'cancel_booking'" in unknown.observation.messages[-1].content
    invalid = await env.step(call("book_reservation", origin="JFK"))
    assert "invalid arguments for book_reservation" in invalid.observation.messages[-1].content
    broken = await env.step('<tool_call>{"name": "list_airports", "arguments": {oops}}</tool_call>')
    assert broken.observation.messages[-1].content.startswith("[environment] Error: could not read")
    assert not broken.terminated


async def test_step_rewards_follow_each_write_and_punish_wrong_ones(env):
    task = first(env, "add_bags")
    writes = [i for i, a in enumerate(task.reference) if is_write(a)]
    results = await play(env, task.id, task.reference[: writes[0] + 1])
    assert results[-1].reward.value == pytest.approx(1.0)
    rid = task.reference[writes[0]].tool_calls[0].arguments["reservation_id"]
    again = await env.step(call("update_reservation_baggages", reservation_id=rid, total_baggages=9,
                                payment_method_id=task.reference[writes[0]].tool_calls[0].arguments["payment_method_id"]))
    assert again.reward.value < 0
    end = await env.step(task.reference[-1])
    assert end.info["outcome"]["value"] == 0.0 and f"reservations['{rid}']" in end.info["outcome"]["explanation"]


async def test_transfer_ends_the_episode(env):
    task = first(env, "transfer_departed")
    results = await play(env, task.id, task.reference)
    assert results[-1].terminated and results[-1].observation.messages[-1].content == "Transfer successful"


async def test_observations_hold_no_hidden_data(env):
    for task in env.tasks.values():
        obs, info = await env.reset(options={"task_id": task.id})
        shown = obs.model_dump_json() + json.dumps(info)
        assert obs.extras == {"domain": "airline"}
        assert next(a.content for a in reversed(task.reference) if a.content) not in shown
        assert task.data.user_facts["date of birth"] not in shown


async def test_fork_gives_independent_state(env):
    task = first(env, "cancel_recent")
    cut = next(i for i, a in enumerate(task.reference) if is_write(a))
    await play(env, task.id, task.reference[:cut])
    child = await env.fork()
    for action in task.reference[cut:]:
        done = await child.step(action)
    assert done.info["outcome"]["value"] == 1.0
    assert (await env.step(task.reference[-1])).info["outcome"]["components"]["db_match"] == 0.0
    await child.close()
    await env.close()
    await env.close()


async def test_concurrent_episodes_see_only_their_own_database(tasks):
    envs = [AirlineEnv(tasks) for _ in range(24)]
    writing = [t for t in envs[0].tasks.values() if any(is_write(a) for a in t.reference)]

    async def episode(i: int):
        task = writing[(i // 2) % len(writing)]
        return await outcome(envs[i], task.id, task.reference if i % 2 == 0 else ["Done."])

    outcomes = await asyncio.gather(*(episode(i) for i in range(24)))
    assert [o["components"]["db_match"] for o in outcomes] == [1.0, 0.0] * 12


async def test_score_without_an_episode_raises(env):
    with pytest.raises(VerifierError):
        await env.score()
