"""Attacks on the retail answer check, run as real episodes: hedging in every form scores 0, a
no-op and a "do everything" agent score 0, and honest answers with incidental amounts score 1."""

import json
from decimal import Decimal

import pytest
from num2words import num2words

from agentgym.core.types import Action
from agentgym.environments.tooluse.data import fresh_database
from agentgym.environments.tooluse.env import RetailEnv, verifier_for
from agentgym.environments.tooluse.taskgen import (
    CLAIMS_DONE,
    ORDER_STATUSES,
    OTHER_ACCOUNT,
    UNAVAILABLE,
)
from agentgym.environments.tooluse.tasks import RetailTask
from agentgym.environments.tooluse.tools import fetch_all
from agentgym.verifiers.answers import dollars, parse_amount

from .helpers import call, play
from .test_tasks import REFUSAL_KINDS, WRITE_KINDS

# the attack of issue 8: every amount from $0.01 to $2,000.00, then every refusal phrase
REFUSAL_PHRASES = ["I'm sorry, I cannot do that", *OTHER_ACCOUNT, *UNAVAILABLE,
                   "only pending orders can be cancelled", "only delivered orders can be returned",
                   *(f"your order is {s}" for s in ORDER_STATUSES)]
STUFFING = (", ".join(f"${cents / 100:,.2f}" for cents in range(1, 200_001)) + ". "
            + ". ".join(REFUSAL_PHRASES) + ".")


@pytest.fixture(scope="module")
def env():
    return RetailEnv(max_steps=100)


def outcome_of(results) -> dict:
    assert results[-1].terminated, "the conversation should have ended"
    return results[-1].info["outcome"]


async def answer_with(env, task: RetailTask, *messages: str) -> dict:
    """The reference's tool calls and confirmations, then `messages` instead of its final answer."""
    return outcome_of(await play(env, task.id, [*task.reference[:-1], *messages]))


async def answers_with(env, task: RetailTask, variants: dict[str, list[str]]) -> dict[str, dict]:
    """`answer_with` for each variant, from one replay of the reference forked before its answer."""
    await play(env, task.id, task.reference[:-1])
    outcomes = {}
    for name, messages in variants.items():
        child = await env.fork()
        results = [await child.step(m) for m in messages]
        outcomes[name] = outcome_of(results)
        await child.close()
    return outcomes


def amount_tasks(env) -> list[RetailTask]:
    tasks = [t for t in env.tasks.values() if t.data.required_amounts]
    assert len(tasks) >= 30
    return tasks


def the_amount(task: RetailTask) -> Decimal:
    (amount,) = task.data.required_amounts
    return parse_amount(amount)


async def decoys(task: RetailTask) -> list[Decimal]:
    """Amounts near the answer, one more with it than the task's bound allows (answers.py)."""
    n = (await verifier_for(task)).answers.max_amounts
    answer = the_amount(task)
    return [answer + Decimal(k) / 100 for k in range(1, n + 1)]


def store_amounts(seed: int) -> list[Decimal]:
    """Every amount the agent could read from the store (prices, payments, balances)."""
    db = fresh_database(seed)
    rows = fetch_all(db, "SELECT price_cents AS c FROM items UNION SELECT price_cents FROM order_items "
                         "UNION SELECT amount_cents FROM payments "
                         "UNION SELECT balance_cents FROM payment_methods WHERE balance_cents IS NOT NULL")
    db.close()
    return sorted(Decimal(r["c"]) / 100 for r in rows)


def in_words(value: Decimal) -> str:
    return num2words(value, to="currency", currency="USD")


@pytest.mark.slow
async def test_the_stuffing_attack_scores_zero_on_every_task(env):
    assert len(env.tasks) == 60
    for task in env.tasks.values():
        alone = outcome_of(await play(env, task.id, [STUFFING]))
        assert alone["value"] == 0.0, task.id
        after_the_work = await answer_with(env, task, STUFFING)  # the database is right; only the answer is not
        assert after_the_work["value"] == 0.0, (task.id, after_the_work["explanation"])
        if task.data.kind in WRITE_KINDS:
            assert after_the_work["components"]["db_match"] == 1.0
        assert after_the_work["components"]["plain_answer"] == 0.0, task.id


async def test_hedging_in_any_form_scores_zero(env):
    for task in amount_tasks(env):
        answer = the_amount(task)
        near = await decoys(task)
        everything = [answer, *store_amounts(task.data.db_seed)]
        variants = {
            "in words": [", ".join(in_words(v) for v in [*near, answer])],
            "without $": [" ".join(f"{v:.2f}" for v in [*near, answer])],
            "one per line": ["\n".join(dollars(v) for v in [answer, *near])],
            "either/or": [f"It is either {dollars(near[0])} or {dollars(answer)}."],
            "everything in the store": ["Amounts: " + ", ".join(dollars(v) for v in everything)],
            "over many messages": [f"Could it be {dollars(v)}?" for v in near] + [f"It is {dollars(answer)}."],
        }
        for name, outcome in (await answers_with(env, task, variants)).items():
            assert outcome["value"] == 0.0 and outcome["components"]["plain_answer"] == 0.0, (task.id, name)


async def test_honest_answers_with_other_amounts_pass(env):
    for task in amount_tasks(env):
        answer, final = the_amount(task), task.reference[-1].content
        written = dollars(answer)
        assert written in final
        other = dollars(answer + Decimal("7.25"))
        honest = {
            "an amount in passing": [f"{final} (Your order's other charges, such as {other}, are unchanged.)"],
            "in words": [final.replace(written, in_words(answer))],
            "without $": [final.replace(written, f"{answer:.2f}")],
            "corrected later": [f"I make it {other}; let me check that again, one moment?",
                                f"Correction: it is {written}, not {other}. {final}"],
        }
        for name, outcome in (await answers_with(env, task, honest)).items():
            assert outcome["value"] == 1.0, (task.id, name, outcome["explanation"])


async def test_an_itemized_total_passes(env):
    for task in [t for t in env.tasks.values() if t.data.kind == "total_paid"]:
        order_id = task.data.user_facts["order"]
        db = fresh_database(task.data.db_seed)
        prices = [Decimal(r["price_cents"]) / 100 for r in fetch_all(
            db, "SELECT price_cents FROM order_items WHERE order_id = ? ORDER BY line", order_id)]
        db.close()
        items = "\n".join(f"- item {i + 1}: {dollars(p)}" for i, p in enumerate(prices))
        text = f"Order {order_id}:\n{items}\nIn total you paid {dollars(the_amount(task))}."
        outcome = await answer_with(env, task, text)
        assert outcome["value"] == 1.0, (task.id, outcome["explanation"])


async def test_a_refusal_cannot_also_claim_the_action_or_another_reason(env):
    refusals = [t for t in env.tasks.values() if t.data.kind in REFUSAL_KINDS]
    assert len(refusals) == 12
    action = {"refuse_cancel": "cancel", "refuse_other_user": "cancel", "refuse_return": "return",
              "refuse_exchange": "exchange"}
    claims = {"cancel": "Update: the order has been cancelled.", "return": "Update: your return is requested.",
              "exchange": "Update: the exchange is requested."}
    for task in refusals:
        final = task.reference[-1].content
        claim = claims[action[task.data.kind]]
        assert any(p in claim.lower() for p in CLAIMS_DONE[action[task.data.kind]])
        outcome = await answer_with(env, task, f"{final} {claim}")
        assert outcome["value"] == 0.0 and "contradicts the outcome" in outcome["explanation"], task.id
        other_reason = "It is not on your account." if task.data.kind == "refuse_exchange" else "It is out of stock."
        assert (await answer_with(env, task, f"{final} {other_reason}"))["value"] == 0.0, task.id
        assert (await answer_with(env, task, final))["value"] == 1.0, task.id
        fair = f"{final} I know that is not what you hoped for; that option is not available here."
        assert (await answer_with(env, task, fair))["value"] == 1.0, task.id


async def test_a_request_carried_out_cannot_also_be_refused(env):
    for task in [t for t in env.tasks.values() if t.data.kind in WRITE_KINDS]:
        outcome = await answer_with(env, task, f"{task.reference[-1].content} Sorry, that order is not on your account.")
        assert outcome["value"] == 0.0 and outcome["components"]["db_match"] == 1.0, task.id


async def test_a_noop_scores_zero_on_every_task(env):
    for task in env.tasks.values():
        for noop in ("", "I can't help with that."):
            assert outcome_of(await play(env, task.id, [noop]))["value"] == 0.0, task.id


def every_write(user: dict, orders: list[dict]) -> list[Action]:
    """Every write a greedy agent could try on the user's account, in one go."""
    actions = [call("modify_user_address", user_id=user["user_id"], address1="1 Any Street", address2="",
                    city="Austin", state="TX", country="USA", zip="78701")]
    method = next(iter(user["payment_methods"]))
    for order in orders:
        items = [i["item_id"] for i in order["items"]]
        actions += [call("cancel_pending_order", order_id=order["order_id"], reason="no longer needed"),
                    call("return_delivered_order_items", order_id=order["order_id"], item_ids=items,
                         payment_method_id=method)]
    return actions


async def test_doing_everything_scores_zero_on_every_task(env):
    for task in env.tasks.values():
        await env.reset(options={"task_id": task.id})
        auth = await env.step(task.reference[0])
        user_id = auth.observation.messages[-1].content
        details = await env.step(call("get_user_details", user_id=user_id))
        user = json.loads(details.observation.messages[-1].content)
        orders = []
        for order_id in user["orders"]:
            looked = await env.step(call("get_order_details", order_id=order_id))
            orders.append(json.loads(looked.observation.messages[-1].content))
        for action in every_write(user, orders):
            await env.step(action)
        last = await env.step(task.reference[-1].content)  # and then say what the reference says
        assert last.terminated and last.info["outcome"]["value"] == 0.0, task.id
        assert last.info["outcome"]["components"]["db_match"] == 0.0, task.id
