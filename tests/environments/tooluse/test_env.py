"""tooluse/Retail-v0 end to end: the Gymnasium facade, reference replays, errors as observations,
concurrency, fork, and step rewards."""

import asyncio
import json

import pytest
from gymnasium.utils.env_checker import check_env

import agentgym
from agentgym.core.errors import VerifierError
from agentgym.core.types import Action, ToolCall
from agentgym.environments.tooluse.env import RetailEnv

from .helpers import call, play
from .test_tasks import WRITE_KINDS

CANCEL = "retail-s0-00"  # authenticated by email, cancels a pending order
REFUSE_CANCEL = "retail-s0-15"  # asks to cancel a delivered order
HEDGE = "Your order is pending, processed, delivered, or cancelled."


@pytest.fixture
def env():
    return RetailEnv()


def step_of(task, tool_name: str) -> Action:
    """The reference action that calls `tool_name`."""
    return next(a for a in task.reference if a.tool_calls and a.tool_calls[0].name == tool_name)


def tool_messages(result):
    return [m for m in result.observation.messages if m.role == "tool"]


def test_gymnasium_check_env_and_determinism():
    env = agentgym.make("tooluse/Retail-v0")
    check_env(env.unwrapped)
    first = env.reset(seed=7)
    assert env.reset(seed=7) == first
    assert first[0]["extras"] == {"domain": "retail"}
    assert [m["role"] for m in first[0]["messages"]] == ["system", "user"]
    assert {t["function"]["name"] for t in env.unwrapped.tools} >= {"cancel_pending_order", "get_order_details"}
    for spec in env.unwrapped.tools:  # env-bound parameters never reach the agent
        assert not {"db", "session"} & set(spec["function"]["parameters"]["properties"])
    env.close()


async def test_every_reference_replays_to_full_marks(env):
    for task_id, task in env.tasks.items():
        results = await play(env, task_id, task.reference)
        assert len(results) == len(task.reference) and results[-1].terminated, task_id
        outcome = results[-1].info["outcome"]
        assert outcome["value"] == 1.0, (task_id, outcome["explanation"])
        total = sum(r.reward.value for r in results)
        assert total == pytest.approx(1.0), task_id  # step rewards sum to the outcome
        if task.data.kind in WRITE_KINDS:
            assert outcome["components"]["progress"] == 1.0, task_id
            assert sum(r.reward.value for r in results[:-1]) > 0, task_id  # progress paid on the way


async def test_saying_done_scores_zero_on_every_task(env):
    for task_id in env.tasks:
        (result,) = await play(env, task_id, ["done"])
        assert result.terminated and result.info["outcome"]["value"] == 0.0, task_id


async def test_naming_every_status_scores_zero(env):
    status_tasks = [t for t in env.tasks.values() if t.data.kind in {"status", "refuse_cancel", "refuse_return"}]
    assert len(status_tasks) >= 9
    for task in status_tasks:
        results = await play(env, task.id, [*task.reference[:-1], HEDGE])
        outcome = results[-1].info["outcome"]
        assert results[-1].terminated and outcome["value"] == 0.0, task.id
        assert "said together with" in outcome["explanation"], task.id
        results = await play(env, task.id, task.reference)  # the plain answer still passes
        assert results[-1].info["outcome"]["value"] == 1.0, task.id


async def test_refusals_need_facts_from_the_data(env):
    refusals = [t for t in env.tasks.values() if t.data.kind in {"refuse_exchange", "refuse_other_user"}]
    assert len(refusals) == 6
    for task in refusals:  # a bare refusal, without the looked-up fact, does not pass
        results = await play(env, task.id, [*task.reference[:-1], "I'm sorry, I cannot do that for you."])
        assert results[-1].info["outcome"]["value"] == 0.0, task.id
        assert "missing output" in results[-1].info["outcome"]["explanation"], task.id


async def test_forbidden_action_is_an_observation_and_the_episode_goes_on(env):
    task = env.tasks[REFUSE_CANCEL]
    assert task.data.kind == "refuse_cancel"
    auth, lookup = task.reference[0], step_of(task, "get_order_details")
    order_id = lookup.tool_calls[0].arguments["order_id"]
    results = await play(env, task.id, [auth, lookup, call("cancel_pending_order", order_id=order_id, reason="no longer needed")])
    last = results[-1]
    assert not last.terminated and not last.truncated
    assert tool_messages(last)[-1].content.startswith("Error: ") and "only pending orders" in tool_messages(last)[-1].content
    assert last.reward.value == 0.0 and last.reward.components["tool_errors"] == 1.0
    final = await env.step(task.reference[-1])
    assert final.terminated and final.info["outcome"]["value"] == 1.0


async def test_bad_calls_become_error_observations(env):
    await env.reset(options={"task_id": CANCEL})
    unknown = await env.step(call("cancel_order", order_id="#W1"))
    assert "unknown tool 'cancel_order'" in tool_messages(unknown)[-1].content
    invalid = await env.step(call("get_order_details", order="#W1"))
    assert "invalid arguments for get_order_details" in tool_messages(invalid)[-1].content
    broken = await env.step('<tool_call>{"name": "get_order_details", "arguments": {oops}}</tool_call>')
    note = broken.observation.messages[-1]
    assert note.role == "user" and note.content.startswith("[environment] Error: could not read <tool_call> block 1")
    assert not broken.terminated and broken.reward.components["tool_errors"] == 1.0
    text_call = await env.step('{"name": "list_product_types", "arguments": {}}')
    assert "T-Shirt" in tool_messages(text_call)[-1].content


async def test_conversation_is_valid_openai_format(env):
    task = env.tasks[CANCEL]
    results = await play(env, task.id, [
        '<tool_call>{"name": "list_product_types", "arguments": {}}</tool_call>',
        Action(tool_calls=[ToolCall(name="get_user_details", arguments={"user_id": "x"}),
                           ToolCall(name="list_product_types")]),
        *task.reference,
    ])
    pending: set[str] = set()
    seen: set[str] = set()
    for m in results[-1].observation.messages:
        if m.role == "assistant":
            assert not pending, "every tool call is answered before the next assistant message"
            pending = {c.id for c in m.tool_calls}
            assert len(pending) == len(m.tool_calls) and not pending & seen
            seen |= pending
        elif m.role == "tool":
            pending.remove(m.tool_call_id)
        json.dumps(m.to_openai())


async def test_user_answers_questions_and_confirms(env):
    await env.reset(options={"task_id": CANCEL})
    facts = env.tasks[CANCEL].data.user_facts
    asked = await env.step("Could you tell me your email?")
    assert not asked.terminated and facts["email"] in asked.observation.messages[-1].content
    confirm = await env.step("I will cancel the order. Do you confirm?")
    assert not confirm.terminated and confirm.observation.messages[-1].content.startswith("Yes")


async def test_transfer_ends_the_episode(env):
    (result,) = await play(env, CANCEL, [call("transfer_to_human_agents", summary="wants to cancel")])
    assert result.terminated and result.info["outcome"]["value"] == 0.0


async def test_truncates_at_max_steps():
    env = RetailEnv(max_steps=2)
    results = await play(env, CANCEL, [call("list_product_types")] * 5)
    assert len(results) == 2 and results[-1].truncated and not results[-1].terminated
    assert "outcome" in results[-1].info


async def test_observations_hold_no_hidden_data(env):
    task = env.tasks[CANCEL]
    obs, info = await env.reset(options={"task_id": CANCEL})
    shown = obs.model_dump_json() + json.dumps(info)
    assert task.reference[-1].content not in shown and "reference" not in shown
    assert obs.extras == {"domain": "retail"}
    for task in env.tasks.values():  # no task id (nor template name) reaches the agent
        obs, _ = await env.reset(options={"task_id": task.id})
        assert task.id not in obs.model_dump_json() and obs.extras == {"domain": "retail"}, task.id


async def test_step_rewards_follow_each_write(env):
    task = env.tasks[CANCEL]
    auth, cancel, final = task.reference[0], step_of(task, "cancel_pending_order"), task.reference[-1]
    results = await play(env, task.id, [auth, cancel])
    assert results[0].reward.value == 0.0
    assert results[1].reward.value == pytest.approx(1.0) and results[1].reward.components["progress"] == pytest.approx(1.0)
    user_id = results[0].observation.messages[-1].content  # what find_user_id_by_email returned
    wrong = await env.step(call("modify_user_address", user_id=user_id, address1="1 Elm Street", address2="",
                                city="Austin", state="TX", country="USA", zip="78701"))
    assert wrong.reward.value < 0 and wrong.reward.components["progress"] < 1.0
    end = await env.step(final)
    assert end.info["outcome"]["value"] == 0.0
    assert f"users['{user_id}']" in end.info["outcome"]["explanation"]


async def test_explanation_names_rows_the_agent_missed(env):
    task = env.tasks[CANCEL]
    results = await play(env, task.id, [task.reference[0], task.reference[-1]])
    outcome = results[-1].info["outcome"]
    order_id = step_of(task, "get_order_details").tool_calls[0].arguments["order_id"]
    assert outcome["components"]["db_match"] == 0.0 and outcome["components"]["outputs"] == 1.0
    assert f"orders['{order_id}']: status: 'cancelled' (expected) vs 'pending' (agent)" in outcome["explanation"]


async def test_concurrent_episodes_see_only_their_own_database():
    envs = [RetailEnv() for _ in range(40)]
    tasks = list(envs[0].tasks.values())

    async def episode(i: int):
        task = tasks[i % len(tasks)] if i % 2 == 0 else tasks[(i - 1) % len(tasks)]
        actions = task.reference if i % 2 == 0 else ["done"]  # pairs on the same task: solver and no-op
        results = await play(envs[i], task.id, actions)
        return results[-1].info["outcome"]["components"]["db_match"], task

    outcomes = await asyncio.gather(*(episode(i) for i in range(40)))
    for i, (db_match, task) in enumerate(outcomes):
        if i % 2 == 0:
            assert db_match == 1.0
        elif task.data.kind in WRITE_KINDS:
            assert db_match == 0.0, "a no-op episode must not see its partner's writes"


async def test_fork_gives_independent_state(env):
    task = env.tasks[CANCEL]
    auth, lookup, cancel, final = (task.reference[0], step_of(task, "get_order_details"),
                                   step_of(task, "cancel_pending_order"), task.reference[-1])
    await play(env, task.id, [auth, lookup])
    child = await env.fork()
    done = await child.step(cancel)
    assert done.reward.components["progress"] == pytest.approx(1.0)
    assert (await child.step(final)).info["outcome"]["value"] == 1.0
    assert (await env.step(final)).info["outcome"]["components"]["db_match"] == 0.0
    await child.close()
    await env.close()
    await env.close()  # twice is fine


async def test_score_without_an_episode_raises(env):
    with pytest.raises(VerifierError):
        await env.score()
    with pytest.raises(RuntimeError):
        await env.fork()


async def test_retail_plays_with_a_simulated_user_and_records_its_transcript(openai_server):
    from agentgym.policies.openai import OpenAIPolicy
    from agentgym.users.simulator import STOP

    replies = iter(["Hi, I need help with an order.", "Yes, please go ahead.", f"Thanks! {STOP}"])

    def responder(request):
        return next(replies)

    openai_server.responder = responder
    simulator = OpenAIPolicy("fake-model", base_url=openai_server.base_url)
    env = RetailEnv(user=simulator)
    task = next(t for t in env.tasks.values() if t.data.kind == "cancel")
    results = await play(env, task.id, task.reference)
    outcome = results[-1].info["outcome"]
    assert outcome["value"] == 1.0 and "[user simulator]" in outcome["explanation"]
    assert outcome["components"]["user_turns"] >= 2
    assert openai_server.requests  # the simulator really spoke over HTTP
    await env.close()
