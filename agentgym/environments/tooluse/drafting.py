"""Building blocks of the task templates: a draft task whose reference grows call by call, and
seeded choices over one store (`Store`)."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from agentgym.core.types import Action, ToolCall
from agentgym.environments.tooluse.data import ADDRESS_FIELDS
from agentgym.environments.tooluse.tasks import OutputSpec
from agentgym.environments.tooluse.tools import fetch_all, fetch_one


def money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def options_text(options_json: str) -> str:
    return ", ".join(f"{k} {v}" for k, v in json.loads(options_json).items())


class NoCandidate(Exception):
    """The store for this seed has nothing a template needs (the generator then skips it)."""


@dataclass
class Draft:
    """A task being written: the reference grows call by call."""

    kind: str
    user: dict
    reference: list[Action] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    amounts: list[str] = field(default_factory=list)
    outputs: list[str | OutputSpec] = field(default_factory=list)
    must_not_say: list[str] = field(default_factory=list)
    wrote: bool = False

    def call(self, name: str, **arguments: Any) -> None:
        self.reference.append(Action(tool_calls=[
            ToolCall(id=f"call_{len(self.reference)}", name=name, arguments=arguments)
        ]))

    def write(self, plan: str, name: str, **arguments: Any) -> None:
        """A write, after asking the user to confirm it as the policy requires."""
        self.reference.append(Action(content=f"{plan} Shall I go ahead?"))
        self.call(name, **arguments)
        self.wrote = True

    def say(self, text: str) -> None:
        assert "?" not in text, "a final message with a question would not end the conversation"
        self.reference.append(Action(content=text))


class Store:
    """Queries over one seed's store, and the choices a template makes (seeded, no repeats)."""

    def __init__(self, db: sqlite3.Connection, rng: random.Random):
        self.db, self.rng = db, rng
        self.used_orders: set[str] = set()

    def pick(self, rows: list[dict]) -> dict:
        if not rows:
            raise NoCandidate
        return self.rng.choice(rows)

    def orders(self, *statuses: str, where: str = "1") -> list[dict]:
        marks = ", ".join("?" for _ in statuses)
        rows = fetch_all(self.db, f"SELECT o.* FROM orders o WHERE status IN ({marks}) AND {where} "
                                  "ORDER BY order_id", *statuses)
        return [r for r in rows if r["order_id"] not in self.used_orders]

    def take_order(self, *statuses: str, where: str = "1") -> dict:
        order = self.pick(self.orders(*statuses, where=where))
        self.used_orders.add(order["order_id"])
        return order

    def user(self, user_id: str) -> dict:
        return fetch_one(self.db, "SELECT * FROM users WHERE user_id = ?", user_id)

    def methods(self, user_id: str, source: str | None = None) -> list[dict]:
        rows = fetch_all(self.db, "SELECT * FROM payment_methods WHERE user_id = ? ORDER BY payment_method_id", user_id)
        return [m for m in rows if source is None or m["source"] == source]

    def lines(self, order_id: str) -> list[dict]:
        return fetch_all(self.db, "SELECT oi.*, p.name, i.options FROM order_items oi JOIN products p USING (product_id) "
                                  "JOIN items i ON i.item_id = oi.item_id WHERE order_id = ? ORDER BY line", order_id)

    def variants(self, product_id: str, available: int) -> list[dict]:
        return fetch_all(self.db, "SELECT * FROM items WHERE product_id = ? AND available = ? ORDER BY item_id",
                         product_id, available)

    def original_method(self, order_id: str) -> dict:
        pay = fetch_one(self.db, "SELECT payment_method_id FROM payments WHERE order_id = ? AND seq = 0", order_id)
        return fetch_one(self.db, "SELECT * FROM payment_methods WHERE payment_method_id = ?", pay["payment_method_id"])

    def swap(self, order_id: str, available: int = 1) -> tuple[dict, dict]:
        """A line of the order and another variant of its product (available or not)."""
        options = [(line, v) for line in self.lines(order_id) for v in self.variants(line["product_id"], available)
                   if v["item_id"] != line["item_id"]]
        if not options:
            raise NoCandidate
        return self.rng.choice(options)


def method_text(m: dict) -> str:
    if m["source"] == "credit_card":
        return f"{m['brand']} card ending in {m['last_four']}"
    return "PayPal account" if m["source"] == "paypal" else "gift card"


def start(s: Store, kind: str, user_id: str, by_email: bool | None = None) -> tuple[Draft, str]:
    """A draft that authenticates the user; returns it with the user's self-introduction."""
    user = s.user(user_id)
    d = Draft(kind, user, facts={"email": user["email"], "name": f"{user['first_name']} {user['last_name']}",
                                 "zip": user["zip"]})
    if by_email if by_email is not None else s.rng.random() < 0.5:
        d.call("find_user_id_by_email", email=user["email"])
        return d, f"Hi, this is {user['first_name']} (email {user['email']})."
    d.call("find_user_id_by_name_zip", first_name=user["first_name"], last_name=user["last_name"], zip=user["zip"])
    return d, f"Hello, I'm {user['first_name']} {user['last_name']}, zip code {user['zip']}."


def address_args(a: dict) -> dict:
    return {k: a[k] for k in ADDRESS_FIELDS}


def address_text(a: dict) -> str:
    unit = f", {a['address2']}" if a["address2"] else ""
    return f"{a['address1']}{unit}, {a['city']}, {a['state']} {a['zip']}, {a['country']}"
