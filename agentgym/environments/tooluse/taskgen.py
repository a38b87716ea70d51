"""Generate the retail tasks from templates over the seeded stores.

    python -m agentgym.environments.tooluse.taskgen   # rewrites tasks/tooluse/retail.jsonl

Each template picks its facts from the store for a seed (with its own seeded rng), writes the
user's instruction, and the reference: the tool calls in order (each write after a message asking
the user to confirm it, as the policy requires), then a final message that holds the required
amounts and phrases. A refusal lists what would contradict it (another reason, a claim that the
action was done); so does a request carried out (any reason for a refusal). The shipped file is
exactly what this module generates.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

from agentgym.environments.tooluse.data import (
    CANCEL_REASONS,
    fresh_database,
    random_address,
)
from agentgym.environments.tooluse.drafting import (
    Draft,
    NoCandidate,
    Store,
    address_args,
    address_text,
    method_text,
    money,
    options_text,
    start,
)
from agentgym.environments.tooluse.tasks import (
    OutputSpec,
    RetailData,
    RetailTask,
    default_tasks_path,
    dump_tasks,
)
from agentgym.environments.tooluse.tools import fetch_all

DB_SEEDS = (0, 1, 2)
#: every order status of the policy: a status answer must not name any other one
ORDER_STATUSES = ("pending", "processed", "delivered", "cancelled", "return requested", "exchange requested")
#: ways to say that an order is on someone else's account
OTHER_ACCOUNT = ("not on your account", "not in your account", "not associated with your account",
                 "not your order", "another account", "another customer", "another user", "different account",
                 "different customer", "someone else", "does not belong to you", "doesn't belong to you",
                 "does not belong to your", "doesn't belong to your")
#: ways to say that a variant cannot be had
UNAVAILABLE = ("not available", "unavailable", "out of stock", "not in stock", "sold out")
#: ways to say that a variant is not in stock, specific enough that no other answer says them
#: ("not available" is not: "cancelling is not available for delivered orders" is a fair refusal)
OUT_OF_STOCK = ("out of stock", "not in stock", "sold out", "no longer in stock")
#: the reasons a request can be refused for besides an order's status: a task done (or refused for
#: another reason) must not give them
REFUSALS = OTHER_ACCOUNT + OUT_OF_STOCK


def _claims_done(verb: str, noun: str) -> tuple[str, ...]:
    """Ways to say that the action was done ("has been cancelled", "the return is requested")."""
    pasts = ("cancelled", "canceled") if verb == "cancel" else (f"{verb}ed",)
    said = [f"{aux} {past}" for aux in ("is", "is now", "are", "has been", "have been", "was", "were")
            for past in pasts]
    said += [f"{who} {past}" for who in ("i", "i have", "i've", "successfully", "we have", "we've") for past in pasts]
    said += [f"{noun} {aux} {done}" for aux in ("is", "is now", "has been", "was")
             for done in ("requested", "submitted", "confirmed", "complete", "completed", "placed", "processed")]
    said += [f"{who} {did} the {noun}" for who in ("i", "i have", "i've", "we have", "we've")
             for did in ("requested", "submitted", "placed", "processed")]
    return tuple(said)


#: a refusal must not also claim that the refused action was done
CLAIMS_DONE = {"cancel": _claims_done("cancel", "cancellation"), "return": _claims_done("return", "return"),
               "exchange": _claims_done("exchange", "exchange")}
REASON_WORDS = {"no longer needed": "I no longer need it", "ordered by mistake": "I ordered it by mistake"}


# ---- templates: each returns (draft, instruction) ----------------------------------------------


def cancel(s: Store, by_email: bool | None = None) -> tuple[Draft, str]:
    order = s.take_order("pending")
    d, hello = start(s, "cancel", order["user_id"], by_email)
    reason = s.rng.choice(CANCEL_REASONS)
    paid = sum(line["price_cents"] for line in s.lines(order["order_id"]))
    d.facts.update({"order": order["order_id"], "reason": reason})
    d.call("get_order_details", order_id=order["order_id"])
    d.write(f"I will cancel order {order['order_id']} (reason: {reason}) and refund {money(paid)} to the "
            "original payment method.", "cancel_pending_order", order_id=order["order_id"], reason=reason)
    d.amounts.append(money(paid))
    d.say(f"Your order {order['order_id']} is cancelled. The refund of {money(paid)} goes to the original payment method.")
    return d, f"{hello} Please cancel my order {order['order_id']} because {REASON_WORDS[reason]}. How much will I get back?"


def order_address(s: Store) -> tuple[Draft, str]:
    order = s.take_order("pending")
    d, hello = start(s, "order_address", order["user_id"])
    new = random_address(s.rng)
    d.facts.update({"order": order["order_id"], "address": address_text(new)})
    d.call("get_order_details", order_id=order["order_id"])
    d.write(f"I will change the shipping address of order {order['order_id']} to {address_text(new)}.",
            "modify_pending_order_address", order_id=order["order_id"], **address_args(new))
    d.say(f"Order {order['order_id']} will now ship to {address_text(new)}.")
    return d, f"{hello} My order {order['order_id']} should go to a different address: {address_text(new)}."


def user_address(s: Store) -> tuple[Draft, str]:
    user = s.pick(fetch_all(s.db, "SELECT user_id FROM users ORDER BY user_id"))
    d, hello = start(s, "user_address", user["user_id"])
    new = random_address(s.rng)
    d.facts["address"] = address_text(new)
    d.call("get_user_details", user_id=user["user_id"])
    d.write(f"I will change your default address to {address_text(new)}.",
            "modify_user_address", user_id=user["user_id"], **address_args(new))
    d.say(f"Your default address is now {address_text(new)}.")
    return d, f"{hello} I moved. Please update my default address to {address_text(new)}. My existing orders can stay as they are."


def _payer(s: Store, order_id: str, amount: int) -> dict:
    """The original payment method, or a gift card with enough balance for `amount`."""
    cards = [m for m in s.methods(s.original_method(order_id)["user_id"], "gift_card") if m["balance_cents"] >= amount]
    return s.rng.choice(cards) if cards and s.rng.random() < 0.4 else s.original_method(order_id)


def modify_items(s: Store) -> tuple[Draft, str]:
    order = s.take_order("pending")
    line, new = s.swap(order["order_id"])
    d, hello = start(s, "modify_items", order["user_id"])
    difference = new["price_cents"] - line["price_cents"]
    payer = _payer(s, order["order_id"], difference)
    d.facts.update({"order": order["order_id"], "payment method": method_text(payer)})
    d.call("get_user_details", user_id=order["user_id"])
    d.call("get_order_details", order_id=order["order_id"])
    d.call("get_product_details", product_id=line["product_id"])
    d.write(f"I will change the {line['name']} in order {order['order_id']} to the {options_text(new['options'])} "
            f"variant; the difference of {money(abs(difference))} goes through your {method_text(payer)}.",
            "modify_pending_order_items", order_id=order["order_id"], item_ids=[line["item_id"]],
            new_item_ids=[new["item_id"]], payment_method_id=payer["payment_method_id"])
    verb = "charged to" if difference > 0 else "refunded to"
    d.amounts.append(money(abs(difference)))
    d.say(f"Done: the {line['name']} in order {order['order_id']} is now the {options_text(new['options'])} variant. "
          f"The price difference of {money(abs(difference))} is {verb} your {method_text(payer)}.")
    return d, (f"{hello} In my pending order {order['order_id']} I want the {line['name']} "
               f"({options_text(line['options'])}) changed to the {options_text(new['options'])} version. "
               f"Use my {method_text(payer)} for any price difference, and tell me how much it is.")


def return_items(s: Store, to_gift_card: bool) -> tuple[Draft, str]:
    where = ("EXISTS (SELECT 1 FROM payment_methods m WHERE m.user_id = o.user_id AND m.source = 'gift_card')"
             if to_gift_card else "1")
    order = s.take_order("delivered", where=where)
    lines = s.lines(order["order_id"])
    chosen = sorted(s.rng.sample(lines, s.rng.randint(1, min(2, len(lines)))), key=lambda x: x["line"])
    d, hello = start(s, "return_gift_card" if to_gift_card else "return", order["user_id"])
    target = s.methods(order["user_id"], "gift_card")[0] if to_gift_card else s.original_method(order["order_id"])
    refund = sum(line["price_cents"] for line in chosen)
    names = " and the ".join(f"{line['name']} ({options_text(line['options'])})" for line in chosen)
    where_to = "my gift card" if to_gift_card else "the card or account I paid with"
    d.facts.update({"order": order["order_id"], "payment method": where_to})
    d.call("get_user_details", user_id=order["user_id"])
    d.call("get_order_details", order_id=order["order_id"])
    d.write(f"I will request the return of the {names} from order {order['order_id']}, refunding "
            f"{money(refund)} to your {method_text(target)}.",
            "return_delivered_order_items", order_id=order["order_id"], item_ids=[x["item_id"] for x in chosen],
            payment_method_id=target["payment_method_id"])
    d.amounts.append(money(refund))
    d.say(f"The return is requested. You will get {money(refund)} back on your {method_text(target)}.")
    return d, (f"{hello} I'd like to return the {names} from order {order['order_id']}, with the refund to "
               f"{where_to}. How much will be refunded?")


def exchange(s: Store) -> tuple[Draft, str]:
    order = s.take_order("delivered")
    line, new = s.swap(order["order_id"])
    d, hello = start(s, "exchange", order["user_id"])
    difference = new["price_cents"] - line["price_cents"]
    payer = _payer(s, order["order_id"], difference)
    d.facts.update({"order": order["order_id"], "payment method": method_text(payer)})
    d.call("get_user_details", user_id=order["user_id"])
    d.call("get_order_details", order_id=order["order_id"])
    d.call("get_product_details", product_id=line["product_id"])
    d.write(f"I will request an exchange of the {line['name']} in order {order['order_id']} for the "
            f"{options_text(new['options'])} variant; the difference of {money(abs(difference))} goes through "
            f"your {method_text(payer)}.",
            "exchange_delivered_order_items", order_id=order["order_id"], item_ids=[line["item_id"]],
            new_item_ids=[new["item_id"]], payment_method_id=payer["payment_method_id"])
    d.amounts.append(money(abs(difference)))
    direction = "you pay" if difference > 0 else "you get back"
    d.say(f"The exchange for the {options_text(new['options'])} {line['name']} is requested; "
          f"{direction} the difference of {money(abs(difference))} on your {method_text(payer)}.")
    return d, (f"{hello} The {line['name']} ({options_text(line['options'])}) from order {order['order_id']} "
               f"doesn't suit me; I'd like to exchange it for the {options_text(new['options'])} one. "
               f"Settle any price difference with my {method_text(payer)} and tell me the amount.")


def status_output(status: str, candidates: tuple[str, ...]) -> OutputSpec:
    """The order's status, failing if the agent also names another status the order could have had."""
    return OutputSpec(any_of=[status], not_with=[c for c in candidates if c != status])


def order_status(s: Store) -> tuple[Draft, str]:
    order = s.take_order("pending", "processed", "delivered", "cancelled")
    d, hello = start(s, "status", order["user_id"])
    d.facts["order"] = order["order_id"]
    d.call("get_order_details", order_id=order["order_id"])
    d.outputs.append(status_output(order["status"], ORDER_STATUSES))
    d.say(f"Your order {order['order_id']} is {order['status']}.")
    return d, f"{hello} What is the status of my order {order['order_id']}? That's all I need to know."


def total_paid(s: Store) -> tuple[Draft, str]:
    order = s.take_order("pending", "processed", "delivered")
    d, hello = start(s, "total_paid", order["user_id"])
    paid = sum(p["amount_cents"] for p in fetch_all(
        s.db, "SELECT amount_cents FROM payments WHERE order_id = ? AND kind = 'payment'", order["order_id"]))
    d.facts["order"] = order["order_id"]
    d.call("get_order_details", order_id=order["order_id"])
    d.amounts.append(money(paid))
    d.say(f"You paid {money(paid)} for order {order['order_id']}.")
    return d, f"{hello} How much did I pay in total for order {order['order_id']}? Just the amount, please."


def gift_card_balance(s: Store) -> tuple[Draft, str]:
    card = s.pick(fetch_all(s.db, "SELECT * FROM payment_methods WHERE source = 'gift_card' ORDER BY payment_method_id"))
    d, hello = start(s, "gift_card_balance", card["user_id"])
    d.call("get_user_details", user_id=card["user_id"])
    d.amounts.append(money(card["balance_cents"]))
    d.say(f"Your gift card balance is {money(card['balance_cents'])}.")
    return d, f"{hello} What is the balance on my gift card?"


def product_price(s: Store) -> tuple[Draft, str]:
    item = s.pick(fetch_all(s.db, "SELECT i.*, p.name FROM items i JOIN products p USING (product_id) ORDER BY item_id"))
    user = s.pick(fetch_all(s.db, "SELECT user_id FROM users ORDER BY user_id"))
    d, hello = start(s, "product_price", user["user_id"])
    d.call("list_product_types")
    d.call("get_product_details", product_id=item["product_id"])
    d.amounts.append(money(item["price_cents"]))
    state = "available" if item["available"] else "currently not available"
    d.say(f"The {item['name']} ({options_text(item['options'])}) costs {money(item['price_cents'])} and is {state}.")
    return d, f"{hello} How much does the {item['name']} in {options_text(item['options'])} cost?"


def refuse_cancel(s: Store) -> tuple[Draft, str]:
    order = s.take_order("processed", "delivered")
    d, hello = start(s, "refuse_cancel", order["user_id"])
    d.facts["order"] = order["order_id"]
    d.call("get_order_details", order_id=order["order_id"])
    # "only pending orders can be cancelled" is a fair thing to say, so only the candidates are excluded
    d.outputs.append(status_output(order["status"], ("processed", "delivered")))
    d.must_not_say += [*REFUSALS, *CLAIMS_DONE["cancel"]]
    d.say(f"I'm sorry, order {order['order_id']} is {order['status']}, and only pending orders can be cancelled.")
    return d, f"{hello} Cancel my order {order['order_id']} right now, I don't want it anymore."


def refuse_return(s: Store) -> tuple[Draft, str]:
    order = s.take_order("pending", "processed")
    line = s.pick(s.lines(order["order_id"]))
    d, hello = start(s, "refuse_return", order["user_id"])
    d.facts["order"] = order["order_id"]
    d.call("get_order_details", order_id=order["order_id"])
    d.outputs.append(status_output(order["status"], ("pending", "processed")))
    d.must_not_say += [*REFUSALS, *CLAIMS_DONE["return"]]
    d.say(f"I'm sorry, order {order['order_id']} is {order['status']}; only delivered orders can be returned.")
    return d, f"{hello} I want to return the {line['name']} from order {order['order_id']} for a refund to my card."


def refuse_unavailable_exchange(s: Store) -> tuple[Draft, str]:
    order = s.take_order("delivered")
    line, wanted = s.swap(order["order_id"], available=0)
    d, hello = start(s, "refuse_exchange", order["user_id"])
    d.facts["order"] = order["order_id"]
    d.call("get_order_details", order_id=order["order_id"])
    d.call("get_product_details", product_id=line["product_id"])
    d.outputs.append(OutputSpec(any_of=list(UNAVAILABLE)))
    d.amounts.append(money(wanted["price_cents"]))
    d.must_not_say += [*OTHER_ACCOUNT, *CLAIMS_DONE["exchange"]]
    d.say(f"I'm sorry, the {options_text(wanted['options'])} {line['name']} is not available, so I cannot exchange "
          f"to it. It costs {money(wanted['price_cents'])}.")
    return d, (f"{hello} Please exchange the {line['name']} from order {order['order_id']} for the "
               f"{options_text(wanted['options'])} one. Only that exact variant, nothing else. "
               "And what does that variant cost?")


def refuse_other_user(s: Store) -> tuple[Draft, str]:
    order = s.take_order("pending")
    other = s.pick(fetch_all(s.db, "SELECT user_id FROM users WHERE user_id != ? ORDER BY user_id", order["user_id"]))
    d, hello = start(s, "refuse_other_user", other["user_id"])
    d.facts["order"] = order["order_id"]
    # the user believes it is theirs: only the order's user id tells the agent otherwise
    d.call("get_order_details", order_id=order["order_id"])
    d.outputs.append(OutputSpec(any_of=list(OTHER_ACCOUNT)))
    d.must_not_say += [*OUT_OF_STOCK, *CLAIMS_DONE["cancel"]]
    d.say(f"I'm sorry, order {order['order_id']} is not on your account, so I cannot cancel it.")
    return d, f"{hello} Please cancel my order {order['order_id']}; I ordered it by mistake."


def cancel_and_move(s: Store) -> tuple[Draft, str]:
    d, instruction = cancel(s)
    d.kind = "cancel_and_user_address"
    final = d.reference.pop()
    new = random_address(s.rng)
    d.facts["address"] = address_text(new)
    d.write(f"I will also change your default address to {address_text(new)}.",
            "modify_user_address", user_id=d.user["user_id"], **address_args(new))
    d.say(f"{final.content} Your default address is now {address_text(new)}.")
    return d, f"{instruction} Also, please change my default address to {address_text(new)}."


# one store's worth of tasks: (template, difficulty)
PLAN: list[tuple[Callable[[Store], tuple[Draft, str]], int]] = [
    (lambda s: cancel(s, by_email=True), 2), (lambda s: cancel(s, by_email=False), 2),
    (order_address, 2), (order_address, 2), (user_address, 2),
    (modify_items, 3), (modify_items, 3),
    (lambda s: return_items(s, to_gift_card=False), 3), (lambda s: return_items(s, to_gift_card=True), 3),
    (exchange, 3), (exchange, 3),
    (order_status, 1), (total_paid, 1), (gift_card_balance, 1), (product_price, 1),
    (refuse_cancel, 2), (refuse_return, 2), (refuse_unavailable_exchange, 2), (refuse_other_user, 2),
    (cancel_and_move, 3),
]


def generate_tasks(seeds: tuple[int, ...] = DB_SEEDS) -> list[RetailTask]:
    tasks = []
    for seed in seeds:
        db = fresh_database(seed)
        store = Store(db, random.Random(f"retail-tasks-{seed}"))
        for index, (template, difficulty) in enumerate(PLAN):
            try:
                draft, instruction = template(store)
            except NoCandidate:
                continue
            if draft.wrote:  # a request carried out must not also be refused
                draft.must_not_say = [*REFUSALS, *draft.must_not_say]
            tasks.append(RetailTask(
                id=f"retail-s{seed}-{index:02d}",  # no template name: the id is shown to harnesses
                prompt=instruction,
                data=RetailData(db_seed=seed, kind=draft.kind, user_facts=draft.facts, required_amounts=draft.amounts,
                                required_outputs=draft.outputs, must_not_say=draft.must_not_say),
                reference=draft.reference,
                difficulty=difficulty,
            ))
        db.close()
    return tasks


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else default_tasks_path()
    tasks = generate_tasks()
    path.write_text(dump_tasks(tasks), encoding="utf-8")
    print(f"wrote {len(tasks)} tasks to {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
