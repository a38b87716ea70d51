"""Shop tasks from templates: information seeking, state changes, and multi-page flows.

Each template knows its difficulty (1..3), the facts it needs from the seeded data, how success
is checked, its weighted sub-goals, and a reference solution phrased as roles and names of page
elements (resolved to ids at replay time).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from agentgym.environments.web.apps.shop.data import (
    CATEGORIES,
    CITIES,
    SHIPPING,
    STREETS,
    ShopData,
    generate,
    money,
)
from agentgym.environments.web.serve import app_origin
from agentgym.environments.web.tasks import WebTask
from agentgym.environments.web.urls import visited

ORIGIN = app_origin("shop")


def _step(tool: str, role: str | None = None, name: str | None = None, **args: Any) -> dict:
    return {"tool": tool, "target": {"role": role, "name": name} if role else None, "args": args}


def _open_product(p: dict) -> list[dict]:
    return [
        _step("fill", "searchbox", "Search products", text=p["name"]),
        _step("click", "button", "Search"),
        _step("click", "link", p["name"]),
    ]


def _on_product(p: dict) -> dict:
    return visited(f"/product/{p['id']}", weight=1)


def _cart_link(data: ShopData) -> dict:
    return _step("click", "link", f"Cart ({sum(q for _, q in data.cart)})")


def allowed_changes(final_checks: list[dict]) -> list[dict]:
    """The rows the task's final checks are about: the only ones an episode may change."""
    out: list[dict] = []
    for spec in final_checks:
        name, a = spec["check"], spec["args"]
        if name in ("cart_contains", "cart_lacks"):
            out.append({"table": "cart_items", "where": {"product_id": a["product_id"]}})
        elif name == "order_placed":  # a new order from the cart, which it empties
            out += [{"table": "orders", "kinds": ["inserted"]}, {"table": "order_items", "kinds": ["inserted"]},
                    {"table": "cart_items"}]
        elif name == "order_status":
            out.append({"table": "orders", "where": {"id": a["order_id"]}, "kinds": ["changed"], "columns": ["status"]})
        elif name == "account_is":
            out.append({"table": "customer", "kinds": ["changed"], "columns": sorted(a["fields"])})
        elif name != "only_order_changed":
            raise ValueError(f"no allowed changes known for the check {name!r}")
    return out


class _Builder:
    def __init__(self, data: ShopData, rng: random.Random):
        self.data, self.rng, self.tasks = data, rng, []
        self.in_cart = {pid for pid, _ in data.cart}
        self.buyable = [p for p in data.products if p["stock"] > 0 and p["id"] not in self.in_cart]

    def add(self, template: str, difficulty: int, prompt: str, **fields: Any) -> None:
        n = sum(1 for t in self.tasks if t.id.startswith(f"shop.{template}."))
        fields["allowed_changes"] = allowed_changes(fields.get("final_checks", []))
        self.tasks.append(WebTask(
            id=f"shop.{template}.{n}", app="shop", prompt=prompt, difficulty=difficulty,
            allowed_origins=[ORIGIN], **fields,
        ))

    # ---- information seeking ----------------------------------------------------------------

    def price_of(self) -> None:
        p = self.rng.choice(self.data.products)
        self.add("price_of", 1, f"How much does the {p['name']} cost?", answer=money(p["price_cents"]),
                 subgoals=[_on_product(p)], solution=[*_open_product(p), _step("answer", text=money(p["price_cents"]))])

    def stock_of(self) -> None:
        p = self.rng.choice(self.data.products)
        self.add("stock_of", 1, f"How many units of the {p['name']} are in stock? Reply with the number.",
                 answer=str(p["stock"]), subgoals=[_on_product(p)],
                 solution=[*_open_product(p), _step("answer", text=str(p["stock"]))])

    def order_total(self) -> None:
        o = self.rng.choice(self.data.orders)
        self.add("order_total", 1, f"What was the total of my order #{o['id']}?", answer=money(o["total_cents"]),
                 subgoals=[visited(f"/orders/{o['id']}", weight=1)],
                 solution=[_step("click", "link", "My orders"), _step("click", "link", f"Order #{o['id']}"),
                           _step("answer", text=money(o["total_cents"]))])

    def cheapest(self) -> None:
        category = self.rng.choice(list(CATEGORIES))
        brand = self.rng.choice(sorted({p["brand"] for p in self.data.products if p["category"] == category}))
        best = min((p for p in self.data.products if p["category"] == category and p["brand"] == brand),
                   key=lambda p: p["price_cents"])
        self.add("cheapest", 2, f"Which is the cheapest product in {category} from the brand {brand}? Give its full name.",
                 answer=best["name"],
                 subgoals=[visited("/search", weight=1, brand=brand)],
                 solution=[_step("click", "link", "Catalogue"),
                           _step("select_option", "combobox", "Category", value=category),
                           _step("select_option", "combobox", "Brand", value=brand),
                           _step("select_option", "combobox", "Sort by", value="Price: low to high"),
                           _step("click", "button", "Apply filters"), _step("answer", text=best["name"])])

    def count_under(self) -> None:
        category = self.rng.choice(list(CATEGORIES))
        prices = sorted(p["price_cents"] for p in self.data.products if p["category"] == category)
        limit = prices[len(prices) // 2] // 100 + 0.5  # a bound that falls between prices
        n = sum(1 for p in self.data.products
                if p["category"] == category and p["price_cents"] <= limit * 100 and p["stock"] > 0)
        self.add("count_under", 3,
                 f"How many {category} products costing at most ${limit:.2f} are in stock right now? Reply with the number.",
                 answer=str(n),
                 subgoals=[visited("/search", weight=1, in_stock="1")],
                 solution=[_step("click", "link", "Catalogue"),
                           _step("select_option", "combobox", "Category", value=category),
                           _step("fill", "spinbutton", "Max price", text=f"{limit:.2f}"),
                           _step("click", "checkbox", "In stock only"),
                           _step("click", "button", "Apply filters"), _step("answer", text=str(n))])

    # ---- state changes ------------------------------------------------------------------------

    def add_to_cart(self) -> None:
        p = self.rng.choice(self.buyable)
        self.add("add_to_cart", 1, f"Add one {p['name']} to my cart.",
                 final_checks=[{"check": "cart_contains", "args": {"product_id": p["id"], "qty": 1, "exact": True}}],
                 subgoals=[_on_product(p), {"check": "cart_contains", "args": {"product_id": p["id"]}, "weight": 2}],
                 solution=[*_open_product(p), _step("click", "button", "Add to cart"), _step("answer", text="done")])

    def add_quantity(self) -> None:
        p, qty = self.rng.choice(self.buyable), self.rng.randint(2, 5)
        self.add("add_quantity", 2, f"Put {qty} units of the {p['name']} in my cart.",
                 final_checks=[{"check": "cart_contains", "args": {"product_id": p["id"], "qty": qty, "exact": True}}],
                 subgoals=[_on_product(p), {"check": "cart_contains", "args": {"product_id": p["id"]}, "weight": 2}],
                 solution=[*_open_product(p), _step("fill", "spinbutton", "Quantity", text=str(qty)),
                           _step("click", "button", "Add to cart"), _step("answer", text="done")])

    def remove_from_cart(self) -> None:
        gone, kept = self.rng.sample(self.data.cart, 2)
        name = self.data.product(gone[0])["name"]
        self.add("remove_from_cart", 1, f"Remove the {name} from my cart, and keep everything else.",
                 final_checks=[{"check": "cart_lacks", "args": {"product_id": gone[0]}},
                               {"check": "cart_contains", "args": {"product_id": kept[0], "qty": kept[1], "exact": True}}],
                 subgoals=[visited("/cart", weight=1),
                           {"check": "cart_lacks", "args": {"product_id": gone[0]}, "weight": 2}],
                 solution=[_cart_link(self.data), _step("click", "button", f"Remove {name}"), _step("answer", text="done")])

    def checkout_cart(self) -> None:
        method = self.rng.choice(["Express", "Overnight"])
        items = {str(pid): qty for pid, qty in self.data.cart}
        self.add("checkout_cart", 2, f"Order everything in my cart with {method} shipping.",
                 final_checks=[{"check": "order_placed", "args": {"items": items, "shipping": method}}],
                 subgoals=[visited("/checkout", weight=1),
                           {"check": "order_placed", "args": {}, "weight": 2}],
                 solution=[_cart_link(self.data), _step("click", "link", "Proceed to checkout"),
                           _step("select_option", "combobox", "Shipping method", value=f"{method} ({money(SHIPPING[method])})"),
                           _step("click", "button", "Place order"), _step("answer", text="done")])

    def buy_only(self) -> None:
        p, qty = self.rng.choice(self.buyable), self.rng.randint(1, 3)
        method = self.rng.choice(list(SHIPPING))
        removals = [_step("click", "button", f"Remove {self.data.product(pid)['name']}") for pid, _ in self.data.cart]
        self.add("buy_only", 3,
                 f"Buy {qty} x {p['name']} with {method} shipping. The order must contain nothing else, "
                 "so take anything else out of the cart first.",
                 final_checks=[{"check": "order_placed", "args": {"items": {str(p["id"]): qty}, "shipping": method}}],
                 subgoals=[{"check": "cart_lacks", "args": {"product_id": self.data.cart[0][0]}, "weight": 1},
                           {"check": "cart_contains", "args": {"product_id": p["id"], "qty": qty}, "weight": 1},
                           {"check": "order_placed", "args": {}, "weight": 2}],
                 solution=[_cart_link(self.data), *removals, *_open_product(p),
                           _step("fill", "spinbutton", "Quantity", text=str(qty)),
                           _step("click", "button", "Add to cart"), _step("click", "link", "Proceed to checkout"),
                           _step("select_option", "combobox", "Shipping method", value=f"{method} ({money(SHIPPING[method])})"),
                           _step("click", "button", "Place order"), _step("answer", text="done")])

    def ship_elsewhere(self) -> None:
        street = f"{self.rng.randint(2, 99)} {self.rng.choice(STREETS)}"
        city, zip_code = self.rng.choice([c for c in CITIES if c[0] != self.data.customer["city"]])
        name = f"{self.rng.choice(['Pat', 'Lee', 'Kim'])} {self.data.customer['name'].split()[-1]}"
        to = {"ship_name": name, "ship_street": street, "ship_city": city, "ship_zip": zip_code}
        self.add("ship_elsewhere", 3,
                 f"Order my cart as it is, as a gift shipped to {name}, {street}, {city} {zip_code} (Standard shipping).",
                 final_checks=[{"check": "order_placed", "args": {"shipping": "Standard", "ship_to": to,
                                                                  "items": {str(k): v for k, v in self.data.cart}}}],
                 subgoals=[visited("/checkout", weight=1),
                           {"check": "order_placed", "args": {}, "weight": 2}],
                 solution=[_cart_link(self.data), _step("click", "link", "Proceed to checkout"),
                           _step("fill", "textbox", "Full name", text=name), _step("fill", "textbox", "Street", text=street),
                           _step("fill", "textbox", "City", text=city), _step("fill", "textbox", "ZIP code", text=zip_code),
                           _step("click", "button", "Place order"), _step("answer", text="done")])

    def cancel_order(self) -> None:
        o = self.rng.choice([o for o in self.data.orders if o["status"] == "processing"])
        self.add("cancel_order", 2, f"Cancel my order #{o['id']}.",
                 final_checks=[{"check": "order_status", "args": {"order_id": o["id"], "status": "cancelled"}},
                               {"check": "only_order_changed", "args": {"order_id": o["id"]}}],
                 subgoals=[visited(f"/orders/{o['id']}", weight=1),
                           {"check": "order_status", "args": {"order_id": o["id"], "status": "cancelled"}, "weight": 2}],
                 solution=[_step("click", "link", "My orders"), _step("click", "link", f"Order #{o['id']}"),
                           _step("click", "button", "Cancel order"), _step("answer", text="done")])

    def _account(self, template: str, difficulty: int, prompt: str, fields: dict, steps: list[dict]) -> None:
        self.add(template, difficulty, prompt,
                 final_checks=[{"check": "account_is", "args": {"fields": fields}}],
                 subgoals=[visited("/account", weight=1),
                           {"check": "account_is", "args": {"fields": fields}, "weight": 2}],
                 solution=[_step("click", "link", "Account"), *steps, _step("click", "button", "Save settings"),
                           _step("answer", text="done")])

    def change_email(self) -> None:
        first = self.data.customer["name"].split()[0].lower()
        email = f"{first}.{self.rng.randint(10, 99)}@{self.rng.choice(['mail.test', 'post.test'])}"
        self._account("change_email", 1, f"Change the email address on my account to {email}.", {"email": email},
                      [_step("fill", "textbox", "Email", text=email)])

    def change_address(self) -> None:
        street = f"{self.rng.randint(2, 99)} {self.rng.choice(STREETS)}"
        city, zip_code = self.rng.choice([c for c in CITIES if c[0] != self.data.customer["city"]])
        self._account("change_address", 2, f"I moved: my address is now {street}, {city} {zip_code}. Update my account.",
                      {"street": street, "city": city, "zip": zip_code},
                      [_step("fill", "textbox", "Street", text=street), _step("fill", "textbox", "City", text=city),
                       _step("fill", "textbox", "ZIP code", text=zip_code)])

    def settings(self) -> None:
        method = self.rng.choice(["Express", "Overnight"])
        self._account("settings", 2, f"Unsubscribe me from the newsletter and make {method} my default shipping.",
                      {"newsletter": 0, "default_shipping": method},
                      [_step("click", "checkbox", "Subscribe to newsletter"),
                       _step("select_option", "combobox", "Default shipping", value=method)])


PLAN: list[tuple[Callable[[_Builder], None], int]] = [
    (_Builder.price_of, 3), (_Builder.stock_of, 2), (_Builder.order_total, 3), (_Builder.cheapest, 3),
    (_Builder.count_under, 2), (_Builder.add_to_cart, 3), (_Builder.add_quantity, 2),
    (_Builder.remove_from_cart, 2), (_Builder.checkout_cart, 2), (_Builder.buy_only, 3),
    (_Builder.ship_elsewhere, 2), (_Builder.cancel_order, 3), (_Builder.change_email, 2),
    (_Builder.change_address, 2), (_Builder.settings, 2),
]


def generate_tasks(seed: int = 0) -> list[WebTask]:
    """The shop's task suite on the DB built from `seed` (every task uses db_seed=seed)."""
    builder = _Builder(generate(seed), random.Random(f"shop-tasks-{seed}"))
    for template, count in PLAN:
        for _ in range(count):
            template(builder)
    for task in builder.tasks:
        task.db_seed = seed
    return builder.tasks
