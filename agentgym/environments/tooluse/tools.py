"""Look-up tools of the retail store, and the helpers the write tools share.

Every tool takes the episode's database (and session) as keyword-only arguments that the env
binds; the agent only sees the other parameters. Money goes out in dollars, is kept in cents.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from agentgym.environments.tooluse.data import ADDRESS_FIELDS
from agentgym.tools import ToolCallError, tool


@dataclass
class Session:
    """Who the agent has authenticated in this episode (set by the find_user_id tools)."""

    user_id: str | None = None


def dollars(cents: int) -> float:
    return round(cents / 100, 2)


def fetch_one(db: sqlite3.Connection, sql: str, *params: Any) -> dict[str, Any] | None:
    cur = db.execute(sql, params)
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


def fetch_all(db: sqlite3.Connection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cur = db.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def load_user(db: sqlite3.Connection, user_id: str) -> dict[str, Any]:
    user = fetch_one(db, "SELECT * FROM users WHERE user_id = ?", user_id)
    if user is None:
        raise ToolCallError(f"user {user_id!r} not found")
    return user


def load_order(db: sqlite3.Connection, order_id: str) -> dict[str, Any]:
    order = fetch_one(db, "SELECT * FROM orders WHERE order_id = ?", order_id)
    if order is None:
        hint = " (order ids look like '#W1234567')" if not order_id.startswith("#") else ""
        raise ToolCallError(f"order {order_id!r} not found{hint}")
    return order


def require_authenticated(session: Session, owner_id: str, what: str) -> None:
    """Writes are allowed only on the authenticated user's own records."""
    if session.user_id is None:
        raise ToolCallError(
            "the user is not authenticated: find their user id by email or by name and zip first"
        )
    if session.user_id != owner_id:
        raise ToolCallError(f"{what} does not belong to the authenticated user {session.user_id}")


def describe_method(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"source": m["source"]}
    if m["source"] == "credit_card":
        out.update(brand=m["brand"], last_four=m["last_four"])
    if m["source"] == "gift_card":
        out["balance"] = dollars(m["balance_cents"])
    return out


def order_view(db: sqlite3.Connection, order_id: str) -> dict[str, Any]:
    """An order as the agent sees it: status, address, items with options, payment history."""
    order = load_order(db, order_id)
    items = fetch_all(
        db,
        "SELECT oi.item_id, p.name, i.options, oi.price_cents, oi.state, oi.exchange_item_id "
        "FROM order_items oi JOIN items i ON i.item_id = oi.item_id "
        "JOIN products p ON p.product_id = oi.product_id WHERE oi.order_id = ? ORDER BY oi.line",
        order_id,
    )
    payments = fetch_all(
        db, "SELECT kind, payment_method_id, amount_cents FROM payments WHERE order_id = ? ORDER BY seq",
        order_id,
    )
    view: dict[str, Any] = {
        "order_id": order_id,
        "user_id": order["user_id"],
        "status": order["status"],
        "address": {k: order[k] for k in ADDRESS_FIELDS},
        "items": [
            {"item_id": it["item_id"], "name": it["name"], "options": json.loads(it["options"]),
             "price": dollars(it["price_cents"]),
             **({"state": it["state"]} if it["state"] != "ordered" else {}),
             **({"exchange_item_id": it["exchange_item_id"]} if it["exchange_item_id"] else {})}
            for it in items
        ],
        "payment_history": [
            {"transaction_type": p["kind"], "payment_method_id": p["payment_method_id"],
             "amount": dollars(p["amount_cents"])}
            for p in payments
        ],
    }
    if order["cancel_reason"]:
        view["cancel_reason"] = order["cancel_reason"]
    return view


# ---- look-ups ----------------------------------------------------------------------------------


@tool
def find_user_id_by_email(email: str, *, db: sqlite3.Connection, session: Session) -> str:
    """Find a user's id by their email address; this authenticates the user.

    Args:
        email: The user's email, such as "mina.ito123@example.com".
    """
    row = fetch_one(db, "SELECT user_id FROM users WHERE lower(email) = lower(?)", email.strip())
    if row is None:
        raise ToolCallError(f"no user with email {email!r}")
    session.user_id = row["user_id"]
    return row["user_id"]


@tool
def find_user_id_by_name_zip(
    first_name: str, last_name: str, zip: str, *, db: sqlite3.Connection, session: Session
) -> str:
    """Find a user's id by first name, last name and zip code; this authenticates the user.

    Args:
        first_name: The user's first name, such as "Mina".
        last_name: The user's last name, such as "Ito".
        zip: The zip code of the user's address, such as "97210".
    """
    row = fetch_one(
        db,
        "SELECT user_id FROM users WHERE lower(first_name) = lower(?) AND lower(last_name) = lower(?) AND zip = ?",
        first_name.strip(), last_name.strip(), zip.strip(),
    )
    if row is None:
        raise ToolCallError(f"no user named {first_name} {last_name} with zip {zip}")
    session.user_id = row["user_id"]
    return row["user_id"]


@tool
def get_user_details(user_id: str, *, db: sqlite3.Connection) -> dict:
    """Get a user's profile: name, email, default address, payment methods and order ids.

    Args:
        user_id: The user's id, such as "mina_ito_1234".
    """
    user = load_user(db, user_id)
    methods = fetch_all(db, "SELECT * FROM payment_methods WHERE user_id = ? ORDER BY payment_method_id", user_id)
    orders = fetch_all(db, "SELECT order_id FROM orders WHERE user_id = ? ORDER BY order_id", user_id)
    return {
        "user_id": user_id,
        "name": {"first_name": user["first_name"], "last_name": user["last_name"]},
        "email": user["email"],
        "address": {k: user[k] for k in ADDRESS_FIELDS},
        "payment_methods": {m["payment_method_id"]: describe_method(m) for m in methods},
        "orders": [o["order_id"] for o in orders],
    }


@tool
def get_order_details(order_id: str, *, db: sqlite3.Connection) -> dict:
    """Get an order's status, shipping address, items and payment history.

    Args:
        order_id: The order id, such as "#W0123456" (with the '#').
    """
    return order_view(db, order_id)


@tool
def get_product_details(product_id: str, *, db: sqlite3.Connection) -> dict:
    """Get a product type and all its variants (item ids, options, prices, availability).

    Args:
        product_id: The product id, such as "6086499569" (see list_product_types).
    """
    product = fetch_one(db, "SELECT * FROM products WHERE product_id = ?", product_id)
    if product is None:
        raise ToolCallError(f"product {product_id!r} not found; list_product_types gives the ids")
    variants = fetch_all(db, "SELECT * FROM items WHERE product_id = ? ORDER BY item_id", product_id)
    return {
        "product_id": product_id,
        "name": product["name"],
        "variants": {
            v["item_id"]: {"options": json.loads(v["options"]), "price": dollars(v["price_cents"]),
                           "available": bool(v["available"])}
            for v in variants
        },
    }


@tool
def list_product_types(*, db: sqlite3.Connection) -> dict:
    """List every product type the store sells, as {name: product_id}."""
    rows = fetch_all(db, "SELECT name, product_id FROM products ORDER BY name")
    return {r["name"]: r["product_id"] for r in rows}


@tool
def transfer_to_human_agents(summary: str) -> str:
    """Hand the user over to a human agent, with a summary of their issue. This ends the conversation.
    Only do this when the request is outside what the policy and tools allow you to handle.

    Args:
        summary: A short summary of the user's issue.
    """
    return "Transfer successful"


LOOKUP_TOOLS = [
    find_user_id_by_email, find_user_id_by_name_zip, get_user_details, get_order_details,
    get_product_details, list_product_types,
]
