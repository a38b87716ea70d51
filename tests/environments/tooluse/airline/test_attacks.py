"""Attacks on the airline's reward, each run as real episodes: a policy that only wants the number.

Perturbed references (a wrong argument, a missing write, an extra write, a write for another user)
and cheap strategies (do nothing, refuse everything, transfer at once, list every amount, try every
write tool, do both branches of a condition, act at random) all score 0. They run on every kind of
request (seed 0's level-1 tasks) and every composed task; AGENTGYM_FULL_SWEEP=1 runs them on every
task (a few minutes).
"""

import os

import pytest

from agentgym.core.types import Action, ToolCall
from agentgym.environments.tooluse.airline.data import CABINS, CANCEL_REASONS, DATES, fresh_database
from agentgym.environments.tooluse.airline.env import AirlineEnv
from agentgym.environments.tooluse.airline.refusals import (
    DEPARTED,
    INSURANCE_LATER,
    NOT_ELIGIBLE,
    OTHER_USER,
)
from agentgym.environments.tooluse.airline.tasks import load_tasks
from agentgym.environments.tooluse.tools import fetch_all, fetch_one
from agentgym.policies.random import RandomPolicy
from agentgym.rollout.runner import run_episode

from .helpers import call, card_of, is_write, open_reservations, outcome, user_of

EVERY_REASON = ("I'm sorry, I can't do that: it was booked more than 24 hours ago, it is basic economy, "
                + ", ".join((OTHER_USER[0], DEPARTED[0], NOT_ELIGIBLE[0], INSURANCE_LATER[0])) + ".")


@pytest.fixture(scope="module")
def env():
    tasks = load_tasks()
    if os.environ.get("AGENTGYM_FULL_SWEEP") != "1":  # every kind once, every composed task
        tasks = [t for t in tasks if t.data.db_seed == 0 or t.difficulty > 1]
    return AirlineEnv(tasks)


def writing(env) -> list:
    return [t for t in env.tasks.values() if any(is_write(a) for a in t.reference)]


def auth_steps(task) -> list[Action]:
    """The reference's first two actions: ask the date of birth, authenticate."""
    assert task.reference[1].tool_calls[0].name == "authenticate_user"
    return task.reference[:2]


def other_value(db, task, name: str, key: str, value):
    """A different, plausible value of one argument of a write call (None if there is none)."""
    user = user_of(task)
    if key == "reservation_id":
        others = [r["reservation_id"] for r in open_reservations(db, user) if r["reservation_id"] != value]
        return others[0] if others else None
    if key == "payment_method_id":
        others = [m["payment_method_id"] for m in fetch_all(db, "SELECT payment_method_id FROM payment_methods "
                                                                "WHERE user_id = ? ORDER BY 1", user)
                  if m["payment_method_id"] != value]
        return others[0] if others else None
    if key == "reason":
        choices = CANCEL_REASONS if name == "cancel_reservation" else ("cancelled flight", "delayed flight")
        return next(c for c in choices if c != value)
    if key == "cabin":
        return next(c for c in CABINS if c != value)
    if key == "flights":
        last = value[-1]
        shifted = DATES[(DATES.index(last["date"]) + 1) % len(DATES)]
        return [*value[:-1], {**last, "date": shifted}]
    if key == "passengers":
        return [{**value[0], "date_of_birth": "1999-09-09"}, *value[1:]]
    if key == "total_baggages":
        return value + 1
    return None  # a transfer's summary is free text


def wrong_arguments(db, task) -> list[list]:
    """For each write of the reference and each argument that matters, the reference with that
    argument changed."""
    variants = []
    for i, action in enumerate(task.reference):
        if not is_write(action):
            continue
        c = action.tool_calls[0]
        for key, value in c.arguments.items():
            new = other_value(db, task, c.name, key, value)
            if new is not None:
                wrong = ToolCall(id=c.id, name=c.name, arguments={**c.arguments, key: new})
                variants.append([*task.reference[:i], Action(tool_calls=[wrong]), *task.reference[i + 1:]])
    return variants


async def test_a_wrong_argument_in_any_write_scores_zero(env):
    db = fresh_database(0)
    tried = 0
    for task in writing(env):
        if task.data.db_seed != 0:
            db.close()
            db = fresh_database(task.data.db_seed)
        for variant in wrong_arguments(db, task):
            assert (await outcome(env, task.id, variant))["value"] == 0.0, task.id
            tried += 1
    assert tried >= 2 * len(writing(env))


async def test_a_missing_write_scores_zero(env):
    for task in writing(env):
        for i, action in enumerate(task.reference):
            if is_write(action):
                assert (await outcome(env, task.id, task.reference[:i] + task.reference[i + 1:]))["value"] == 0.0, task.id


async def test_an_extra_write_scores_zero(env):
    checked = 0
    for task in env.tasks.values():
        db = fresh_database(task.data.db_seed)
        user = user_of(task)
        touched = {c.arguments.get("reservation_id") for a in task.reference for c in a.tool_calls}
        spare = [r for r in open_reservations(db, user) if r["reservation_id"] not in touched]
        if not spare:
            continue
        extra = call("update_reservation_baggages", reservation_id=spare[0]["reservation_id"],
                     total_baggages=spare[0]["total_baggages"] + 4, payment_method_id=card_of(db, user))
        result = await outcome(env, task.id, [*auth_steps(task), extra, *task.reference[2:]])
        assert result["value"] == 0.0, task.id
        checked += 1
    assert checked >= 0.75 * len(env.tasks)


async def test_a_write_for_another_user_scores_zero(env):
    for task in env.tasks.values():
        db = fresh_database(task.data.db_seed)
        user = user_of(task)
        other = next(r for r in open_reservations(db) if r["user_id"] != user)
        dob = fetch_one(db, "SELECT date_of_birth FROM users WHERE user_id = ?", other["user_id"])["date_of_birth"]
        hijack = [call("authenticate_user", user_id=other["user_id"], date_of_birth=dob),
                  call("update_reservation_baggages", reservation_id=other["reservation_id"],
                       total_baggages=other["total_baggages"] + 4, payment_method_id=card_of(db, other["user_id"]))]
        # the other user's write, then the task done right for the task's own user
        result = await outcome(env, task.id, [*hijack, *task.reference])
        assert result["value"] == 0.0 and result["components"]["db_match"] == 0.0, task.id


async def test_doing_nothing_refusing_everything_or_transferring_at_once_scores_zero(env):
    for task in env.tasks.values():
        for actions in (["Done."], ["I'm sorry, I can't help with that."], [EVERY_REASON],
                        [call("transfer_to_human_agents", summary="customer")],
                        [*auth_steps(task), call("transfer_to_human_agents", summary="customer")],
                        [*auth_steps(task), EVERY_REASON + " Shall I transfer you?",
                         call("transfer_to_human_agents", summary="customer")]):
            assert (await outcome(env, task.id, actions))["value"] == 0.0, (task.id, actions[-1])


async def test_listing_amounts_scores_zero(env):
    sweep = "It is one of these: " + ", ".join(f"${d}.00" for d in range(1, 501)) + "."
    told = 0
    for task in env.tasks.values():
        if not task.data.required_amounts:
            continue
        told += 1
        result = await outcome(env, task.id, [*task.reference[:-1], f"{task.reference[-1].content} {sweep}"])
        assert result["value"] == 0.0 and result["components"]["plain_answer"] == 0.0, task.id
        hedge = f"{task.reference[-1].content} Or maybe $1,234.56."  # an alternative to the real amount
        assert (await outcome(env, task.id, [*task.reference[:-1], hedge]))["value"] == 0.0, task.id
    assert told >= 0.5 * len(env.tasks)


async def test_every_fare_of_the_day_instead_of_the_lowest_scores_zero(env):
    quotes = [t for t in env.tasks.values() if t.data.kinds == ["fare_quote"]]
    assert quotes
    for task in quotes:
        search = next(c for a in task.reference for c in a.tool_calls if c.name == "search_direct_flights")
        db = fresh_database(task.data.db_seed)
        fares = fetch_all(db, "SELECT price_cents FROM seats s JOIN flights f USING (flight_number) WHERE f.origin = ? "
                              "AND f.destination = ? AND s.date = ?", search.arguments["origin"],
                          search.arguments["destination"], search.arguments["date"])
        listing = "The fares that day are " + ", ".join(f"${f['price_cents'] / 100:.2f}" for f in fares) + "."
        assert (await outcome(env, task.id, [*task.reference[:-1], listing]))["value"] == 0.0, task.id


async def test_trying_every_write_tool_scores_zero(env):
    for task in env.tasks.values():
        db = fresh_database(task.data.db_seed)
        user = user_of(task)
        card = card_of(db, user)
        spray = []
        for r in open_reservations(db, user):
            rid = r["reservation_id"]
            spray += [ToolCall(name="update_reservation_cabin", arguments={"reservation_id": rid, "cabin": "business",
                                                                          "payment_method_id": card}),
                      ToolCall(name="update_reservation_baggages", arguments={
                          "reservation_id": rid, "total_baggages": r["total_baggages"] + 1, "payment_method_id": card}),
                      ToolCall(name="issue_compensation_certificate", arguments={"reservation_id": rid,
                                                                                 "reason": "delayed flight"}),
                      *(ToolCall(name="cancel_reservation", arguments={"reservation_id": rid, "reason": reason})
                        for reason in CANCEL_REASONS)]
        actions = [*auth_steps(task), Action(tool_calls=spray), *task.reference[2:]]
        assert (await outcome(env, task.id, actions))["value"] == 0.0, task.id


async def test_doing_both_branches_of_a_condition_scores_zero():
    from agentgym.environments.tooluse.airline.taskgen import generate_level

    tasks = [t for level in (3, 4, 5) for t in generate_level(level, 6) if t.data.decoys]
    assert len(tasks) >= 4
    env = AirlineEnv(tasks)
    for task in tasks:
        assert (await outcome(env, task.id, task.reference))["value"] == 1.0, task.id
        both = [*task.reference[:-1], *task.data.decoys, task.reference[-1]]
        assert (await outcome(env, task.id, both))["value"] == 0.0, task.id


async def test_a_random_policy_never_succeeds(env):
    policy = RandomPolicy(seed=0, p_stop=0.05)
    for task_id in sorted(env.tasks):
        episode = await run_episode(env, policy, task_id, seed=1, max_steps=12)
        assert not episode.success, task_id


async def test_claiming_a_refused_action_was_done_scores_zero(env):
    refusals = [t for t in env.tasks.values() if t.difficulty == 1 and t.data.kinds[0].startswith("refuse_")]
    assert len(refusals) >= 5
    claims = {"refuse_cancel": "Your reservation has been cancelled.", "refuse_other_user": "It is cancelled.",
              "refuse_change_basic": "Your flight has been changed.", "refuse_compensation": "A certificate has been issued.",
              "refuse_insurance": "Travel insurance has been added."}
    for task in refusals:
        claim = claims[task.data.kinds[0]]
        result = await outcome(env, task.id, [*task.reference[:-1], f"{task.reference[-1].content} {claim}"])
        assert result["value"] == 0.0 and "contradicts the outcome" in result["explanation"], task.id
