"""Checks on the shop's DB for sub-goals and final verification: `fn(conn, page_url, args)`."""

from __future__ import annotations

import sqlite3
from typing import Any

FIRST_NEW_ORDER = 1011  # seeded orders are 1001..1010


def cart_contains(conn: sqlite3.Connection, page_url: str, args: dict[str, Any]) -> bool:
    """The cart holds the product with at least (or, with exact=true, exactly) `qty` units."""
    row = conn.execute("select qty from cart_items where product_id = ?", (args["product_id"],)).fetchone()
    qty = args.get("qty", 1)
    return row is not None and (row[0] == qty if args.get("exact") else row[0] >= qty)


def cart_lacks(conn: sqlite3.Connection, page_url: str, args: dict[str, Any]) -> bool:
    return conn.execute("select 1 from cart_items where product_id = ?", (args["product_id"],)).fetchone() is None


def order_placed(conn: sqlite3.Connection, page_url: str, args: dict[str, Any]) -> bool:
    """Exactly one new order, holding exactly `items` ({product_id: qty}), shipped as asked.

    `ship_to` compares address columns, e.g. {"ship_city": "Riverton"}.
    """
    cursor = conn.execute("select * from orders where id >= ?", (FIRST_NEW_ORDER,))
    orders = [dict(zip([d[0] for d in cursor.description], row, strict=True)) for row in cursor.fetchall()]
    if len(orders) != 1:
        return False
    oid = orders[0]["id"]
    if "shipping" in args and orders[0]["shipping_method"] != args["shipping"]:
        return False
    if any(str(orders[0][k]).strip() != v for k, v in args.get("ship_to", {}).items()):
        return False
    items = {str(pid): qty for pid, qty in conn.execute("select product_id, qty from order_items where order_id = ?", (oid,))}
    return "items" not in args or items == {str(k): v for k, v in args["items"].items()}


def order_status(conn: sqlite3.Connection, page_url: str, args: dict[str, Any]) -> bool:
    row = conn.execute("select status from orders where id = ?", (args["order_id"],)).fetchone()
    return row is not None and row[0] == args["status"]


def only_order_changed(conn: sqlite3.Connection, page_url: str, args: dict[str, Any]) -> bool:
    """No order other than `order_id` was cancelled or added (guards against cancelling them all)."""
    extra = conn.execute(
        "select count(*) from orders where id != ? and (status = 'cancelled' or id >= ?)",
        (args["order_id"], FIRST_NEW_ORDER),
    ).fetchone()[0]
    return extra == 0


def account_is(conn: sqlite3.Connection, page_url: str, args: dict[str, Any]) -> bool:
    """Every given customer field has the given value (strings compared without outer spaces)."""
    cursor = conn.execute("select * from customer")
    record = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    return all(str(record[k]).strip() == str(v).strip() for k, v in args["fields"].items())


CHECKS = {
    "cart_contains": cart_contains,
    "cart_lacks": cart_lacks,
    "order_placed": order_placed,
    "order_status": order_status,
    "only_order_changed": only_order_changed,
    "account_is": account_is,
}
