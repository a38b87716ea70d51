"""The difficulty knob for retail: requests of one user composed into conversations of levels 1..5
(levels.py says what each level composes). The shipped retail.jsonl is unchanged; this writes
other task files for `tooluse/Retail-v0` (`agentgym.make("tooluse/Retail-v0", tasks=PATH)`):

    python -m agentgym.environments.tooluse.retail_levels --level 4 --count 30 retail-l4.jsonl
"""

from __future__ import annotations

import argparse
import random
import sqlite3
from pathlib import Path
from typing import Any

from agentgym.core.types import Action, ToolCall
from agentgym.environments.tooluse.data import (
    CANCEL_REASONS,
    copy_database,
    fresh_database,
    random_address,
)
from agentgym.environments.tooluse.drafting import (
    NoCandidate,
    Store,
    address_args,
    address_text,
    method_text,
    money,
    options_text,
)
from agentgym.environments.tooluse.env import TOOLBOX
from agentgym.environments.tooluse.levels import (
    LEVELS,
    PLANS,
    Composed,
    Maker,
    Request,
    compose,
    single,
)
from agentgym.environments.tooluse.taskgen import (
    CLAIMS_DONE,
    ORDER_STATUSES,
    REASON_WORDS,
    REFUSALS,
    status_output,
)
from agentgym.environments.tooluse.tasks import RetailData, RetailTask, dump_tasks
from agentgym.environments.tooluse.tools import Session, fetch_all
from agentgym.tools import ToolCallError

DB_SEEDS = (0, 1, 2)


class RetailBench(Store):
    """One user of a working copy of the store; orders used by earlier tasks are skipped."""

    def __init__(self, db: sqlite3.Connection, rng: random.Random, user_id: str, taken: set[str]):
        super().__init__(db, rng)
        self.used_orders = taken
        self.person = self.user(user_id)
        self.session = Session(user_id)

    def orders(self, *statuses: str, where: str = "1") -> list[dict]:
        return [o for o in super().orders(*statuses, where=where) if o["user_id"] == self.person["user_id"]]

    def opening(self) -> tuple[str, list[Action], dict[str, str]]:
        u = self.person
        auth = Action(tool_calls=[ToolCall(name="find_user_id_by_email", arguments={"email": u["email"]})])
        facts = {"email": u["email"], "name": f"{u['first_name']} {u['last_name']}", "zip": u["zip"]}
        return f"Hi, this is {u['first_name']} (email {u['email']}).", [auth], facts

    def makers(self, category: str) -> dict[str, Maker]:
        return {kind: (lambda fn=fn: fn(self)) for kind, (fn, categories) in KINDS.items() if category in categories}

    def apply(self, request: Request) -> None:
        available: dict[str, Any] = {"db": self.db, "session": self.session}
        for action in request.steps:
            for c in action.tool_calls:
                tool = TOOLBOX.get(c.name)
                try:
                    tool.fn(**tool.validate(c.arguments), **{k: available[k] for k in tool.bound_names})
                except ToolCallError as e:
                    raise RuntimeError(f"the reference of a {request.kind} request fails at {c.name}: {e}") from e


# ---- the requests ------------------------------------------------------------------------------


def order_status(s: RetailBench) -> Request:
    order = s.pick(s.orders("pending", "processed", "delivered", "cancelled"))  # a read: the order stays free
    r = Request("status", f"What is the status of my order {order['order_id']}?")
    r.call("get_order_details", order_id=order["order_id"])
    r.tell = f"Order {order['order_id']} is {order['status']}."
    r.outputs.append(status_output(order["status"], ORDER_STATUSES))
    return r


def total_paid(s: RetailBench) -> Request:
    order = s.pick(s.orders("pending", "processed", "delivered"))
    paid = sum(p["amount_cents"] for p in fetch_all(
        s.db, "SELECT amount_cents FROM payments WHERE order_id = ? AND kind = 'payment'", order["order_id"]))
    r = Request("total_paid", f"How much did I pay in total for order {order['order_id']}?",
                value=(f"what I paid for order {order['order_id']}", paid))
    r.call("get_order_details", order_id=order["order_id"])
    r.tell = f"You paid {money(paid)} for order {order['order_id']}."
    r.amounts.append(money(paid))
    return r


def gift_card_balance(s: RetailBench) -> Request:
    cards = s.methods(s.person["user_id"], "gift_card")
    if len(cards) != 1:
        raise NoCandidate
    r = Request("gift_card_balance", "What is the balance on my gift card?",
                value=("my gift card balance", cards[0]["balance_cents"]))
    r.call("get_user_details", user_id=s.person["user_id"])
    r.tell = f"Your gift card balance is {money(cards[0]['balance_cents'])}."
    r.amounts.append(money(cards[0]["balance_cents"]))
    return r


def cancel(s: RetailBench) -> Request:
    order = s.take_order("pending")
    oid = order["order_id"]
    reason = s.rng.choice(CANCEL_REASONS)
    refund = sum(line["price_cents"] for line in s.lines(oid))
    r = Request("cancel", f"Please cancel my order {oid} because {REASON_WORDS[reason]}.",
                value=(f"the refund for order {oid}", refund), must_not_say=list(REFUSALS))
    r.call("get_order_details", order_id=oid)
    r.write(f"I will cancel order {oid} (reason: {reason}) and refund {money(refund)} to the original payment method.",
            "cancel_pending_order", order_id=oid, reason=reason)
    r.tell = f"Order {oid} is cancelled; {money(refund)} goes back to the original payment method."
    r.amounts.append(money(refund))
    return r


def order_address(s: RetailBench) -> Request:
    order = s.take_order("pending")
    oid, new = order["order_id"], random_address(s.rng)
    r = Request("order_address", f"Please ship my order {oid} to {address_text(new)} instead.",
                must_not_say=list(REFUSALS))
    r.call("get_order_details", order_id=oid)
    r.write(f"I will change the shipping address of order {oid} to {address_text(new)}.",
            "modify_pending_order_address", order_id=oid, **address_args(new))
    r.tell = f"Order {oid} will now ship to {address_text(new)}."
    return r


def return_item(s: RetailBench) -> Request:
    order = s.take_order("delivered")
    oid = order["order_id"]
    line = s.rng.choice(s.lines(oid))
    target = s.original_method(oid)
    r = Request("return", f"Please return the {line['name']} ({options_text(line['options'])}) from order {oid}, "
                          "with the refund to the card or account I paid with.",
                value=(f"the refund for the {line['name']}", line["price_cents"]), must_not_say=list(REFUSALS))
    r.call("get_order_details", order_id=oid)
    r.write(f"I will request the return of the {line['name']} from order {oid}, refunding "
            f"{money(line['price_cents'])} to your {method_text(target)}.", "return_delivered_order_items",
            order_id=oid, item_ids=[line["item_id"]], payment_method_id=target["payment_method_id"])
    r.tell = f"The return of the {line['name']} is requested; {money(line['price_cents'])} goes back to your {method_text(target)}."
    r.amounts.append(money(line["price_cents"]))
    return r


def _swap(s: RetailBench, kind: str, status: str, tool: str) -> Request:
    order = s.take_order(status)
    oid = order["order_id"]
    line, new = s.swap(oid)
    difference = new["price_cents"] - line["price_cents"]
    payer = s.original_method(oid)
    if payer["source"] == "gift_card" and payer["balance_cents"] < difference:
        raise NoCandidate
    verb = "exchange" if kind == "exchange" else "change"
    r = Request(kind, f"Please {verb} the {line['name']} ({options_text(line['options'])}) in order {oid} for the "
                      f"{options_text(new['options'])} one, settling the difference with my {method_text(payer)}.",
                value=("the price difference", abs(difference)), must_not_say=list(REFUSALS))
    r.call("get_order_details", order_id=oid)
    r.call("get_product_details", product_id=line["product_id"])
    r.write(f"I will {verb} the {line['name']} in order {oid} for the {options_text(new['options'])} variant; the "
            f"difference of {money(abs(difference))} goes through your {method_text(payer)}.", tool, order_id=oid,
            item_ids=[line["item_id"]], new_item_ids=[new["item_id"]], payment_method_id=payer["payment_method_id"])
    r.tell = f"The {line['name']} in order {oid} is now the {options_text(new['options'])} variant; the difference is {money(abs(difference))}."
    r.amounts.append(money(abs(difference)))
    return r


def modify_items(s: RetailBench) -> Request:
    return _swap(s, "modify_items", "pending", "modify_pending_order_items")


def exchange(s: RetailBench) -> Request:
    return _swap(s, "exchange", "delivered", "exchange_delivered_order_items")


def refuse_cancel(s: RetailBench) -> Request:
    order = s.take_order("processed", "delivered")
    oid = order["order_id"]
    r = Request("refuse_cancel", f"Please cancel my order {oid}, I don't want it anymore.",
                must_not_say=[*REFUSALS, *CLAIMS_DONE["cancel"]])
    r.call("get_order_details", order_id=oid)
    r.tell = f"I'm sorry, order {oid} is {order['status']}, and only pending orders can be cancelled."
    r.outputs.append(status_output(order["status"], ("processed", "delivered")))
    return r


def refuse_return(s: RetailBench) -> Request:
    order = s.take_order("pending", "processed")
    oid = order["order_id"]
    line = s.rng.choice(s.lines(oid))
    r = Request("refuse_return", f"I want to return the {line['name']} from order {oid}.",
                must_not_say=[*REFUSALS, *CLAIMS_DONE["return"]])
    r.call("get_order_details", order_id=oid)
    r.tell = f"I'm sorry, order {oid} is {order['status']}; only delivered orders can be returned."
    r.outputs.append(status_output(order["status"], ("pending", "processed")))
    return r


KINDS = {
    "status": (order_status, ("read",)),
    "total_paid": (total_paid, ("read", "value")),
    "gift_card_balance": (gift_card_balance, ("read", "value")),
    "cancel": (cancel, ("write", "value")),
    "order_address": (order_address, ("write",)),
    "return": (return_item, ("write", "value")),
    "modify_items": (modify_items, ("write", "value")),
    "exchange": (exchange, ("write", "value")),
    "refuse_cancel": (refuse_cancel, ("forbidden",)),
    "refuse_return": (refuse_return, ("forbidden",)),
}


# ---- tasks -------------------------------------------------------------------------------------


def _task(composed: Composed, seed: int, level: int, index: int) -> RetailTask:
    return RetailTask(
        id=f"retail-s{seed}-L{level}-{index:02d}", prompt=composed.instruction,
        data=RetailData(db_seed=seed, kind="+".join(composed.kinds), user_facts=composed.facts,
                        required_amounts=composed.amounts, required_outputs=composed.outputs,
                        must_not_say=composed.must_not_say),
        reference=composed.reference, difficulty=level,
    )


def compose_level(level: int, count: int) -> list[tuple[RetailTask, Composed]]:
    """`count` tasks of `level` over the seeds in turn, each with what composed it (its decoys)."""
    if level not in LEVELS:
        raise ValueError(f"levels are {LEVELS[0]}..{LEVELS[-1]}, not {level}")
    templates = {seed: fresh_database(seed) for seed in DB_SEEDS}
    rngs = {seed: random.Random(f"retail-levels-{seed}-{level}") for seed in DB_SEEDS}
    taken: dict[int, set[str]] = {seed: set() for seed in DB_SEEDS}
    # users with enough orders for the level's requests (reads may share an order with a write)
    users = {seed: [u["user_id"] for u in fetch_all(
        db, "SELECT user_id FROM orders GROUP BY user_id HAVING COUNT(*) >= ? ORDER BY user_id", min(level, 3))]
             for seed, db in templates.items()}
    out: list[tuple[RetailTask, Composed]] = []
    kinds = list(KINDS)
    for attempt in range(20 * count):
        if len(out) == count:
            break
        seed = DB_SEEDS[attempt % len(DB_SEEDS)]
        rng = rngs[seed]
        for user_id in rng.sample(users[seed], min(8, len(users[seed]))):
            used = set(taken[seed])
            bench = RetailBench(copy_database(templates[seed]), rng, user_id, used)
            try:
                composed = (single(bench, kinds[attempt % len(kinds)], KINDS[kinds[attempt % len(kinds)]][1][0])
                            if level == 1 else compose(bench, PLANS[level], rng))
            except NoCandidate:
                continue
            finally:
                bench.db.close()
            taken[seed] = used
            out.append((_task(composed, seed, level, len(out)), composed))
            break
    return out


def generate_level(level: int, count: int) -> list[RetailTask]:
    return [task for task, _ in compose_level(level, count)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write retail tasks of one difficulty level (1..5).")
    parser.add_argument("path", type=Path)
    parser.add_argument("--level", type=int, choices=LEVELS, required=True)
    parser.add_argument("--count", type=int, default=30)
    args = parser.parse_args(argv)
    tasks = generate_level(args.level, args.count)
    args.path.write_text(dump_tasks(tasks), encoding="utf-8")
    print(f"wrote {len(tasks)} tasks to {args.path}")


if __name__ == "__main__":
    main()
