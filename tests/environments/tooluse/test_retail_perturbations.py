"""Perturbed references of the shipped retail tasks score 0: a wrong argument in a write, a missing
write, an extra write, a write for another user (each run as a real episode)."""

import pytest

from agentgym.core.types import Action, ToolCall
from agentgym.environments.tooluse.data import CANCEL_REASONS, fresh_database
from agentgym.environments.tooluse.env import WRITE_NAMES, RetailEnv
from agentgym.environments.tooluse.tools import fetch_all, fetch_one

from .helpers import call, play


@pytest.fixture(scope="module")
def env():
    return RetailEnv()


def writes(task) -> list[int]:
    return [i for i, a in enumerate(task.reference) if a.tool_calls and a.tool_calls[0].name in WRITE_NAMES]


def owner(db, task) -> str:
    auth = task.reference[0].tool_calls[0]
    if auth.name == "find_user_id_by_email":
        return fetch_one(db, "SELECT user_id FROM users WHERE email = ?", auth.arguments["email"])["user_id"]
    return fetch_one(db, "SELECT user_id FROM users WHERE first_name = ? AND last_name = ? AND zip = ?",
                     auth.arguments["first_name"], auth.arguments["last_name"], auth.arguments["zip"])["user_id"]


async def score(env, task_id, actions) -> float:
    results = await play(env, task_id, actions)
    if not (results[-1].terminated or results[-1].truncated):
        results.append(await env.step("Thanks."))
    return results[-1].info["outcome"]["value"]


def other_value(db, user: str, arguments: dict, key: str):
    value = arguments[key]
    if key == "order_id":
        others = fetch_all(db, "SELECT order_id FROM orders WHERE user_id = ? AND order_id != ? ORDER BY 1", user, value)
        return others[0]["order_id"] if others else None
    if key == "reason":
        return next(r for r in CANCEL_REASONS if r != value)
    if key == "payment_method_id":
        others = fetch_all(db, "SELECT payment_method_id FROM payment_methods WHERE user_id = ? AND "
                               "payment_method_id != ? ORDER BY 1", user, value)
        return others[0]["payment_method_id"] if others else None
    if key in ("item_ids", "new_item_ids"):
        line = fetch_one(db, "SELECT product_id FROM items WHERE item_id = ?", value[0])
        other = fetch_one(db, "SELECT item_id FROM items WHERE product_id = ? AND item_id NOT IN (?, ?) AND available = 1 "
                              "ORDER BY item_id", line["product_id"], value[0], arguments.get("item_ids", [""])[0])
        return [other["item_id"], *value[1:]] if other else None
    if key in ("address1", "city", "zip"):
        return value + "1"
    return None  # user_id: covered by the other-user test


async def test_a_wrong_argument_in_any_write_scores_zero(env):
    tried = 0
    for task in env.tasks.values():
        db = fresh_database(task.data.db_seed)
        user = owner(db, task)
        for i in writes(task):
            c = task.reference[i].tool_calls[0]
            for key in c.arguments:
                new = other_value(db, user, c.arguments, key)
                if new is None:
                    continue
                wrong = Action(tool_calls=[ToolCall(id=c.id, name=c.name, arguments={**c.arguments, key: new})])
                assert await score(env, task.id, [*task.reference[:i], wrong, *task.reference[i + 1:]]) == 0.0, (task.id, key)
                tried += 1
    assert tried >= 60


async def test_a_missing_write_an_extra_write_and_another_users_write_score_zero(env):
    checked = 0
    for task in env.tasks.values():
        db = fresh_database(task.data.db_seed)
        user = owner(db, task)
        for i in writes(task):
            assert await score(env, task.id, task.reference[:i] + task.reference[i + 1:]) == 0.0, task.id
        extra = call("modify_user_address", user_id=user, address1="1 Elm Street", address2="", city="Austin",
                     state="TX", country="USA", zip="78701")
        # after everything the task asked for (a write the reference makes too would hide an earlier one)
        assert await score(env, task.id, [*task.reference[:-1], extra, task.reference[-1]]) == 0.0, task.id
        other = fetch_one(db, "SELECT * FROM users WHERE user_id != ? ORDER BY user_id", user)
        hijack = [call("find_user_id_by_email", email=other["email"]),
                  call("modify_user_address", user_id=other["user_id"], address1="1 Elm Street", address2="",
                       city="Austin", state="TX", country="USA", zip="78701")]
        assert await score(env, task.id, [*hijack, *task.reference]) == 0.0, task.id
        checked += 1
    assert checked == len(env.tasks)
