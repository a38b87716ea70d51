"""Write tools of the retail store. Each one enforces the policy's rules and raises
`ToolCallError` saying why when an action is not allowed; it writes nothing in that case.

Writes are deterministic (no clocks, no random ids), so replaying the same calls on the same
starting database gives the identical database.
"""

from __future__ import annotations

import sqlite3
from typing import Literal

from agentgym.environments.tooluse.tools import (
    Session,
    dollars,
    fetch_all,
    fetch_one,
    load_order,
    load_user,
    order_view,
    require_authenticated,
)
from agentgym.tools import ToolCallError, tool


def _require_status(order: dict, status: str, action: str) -> None:
    if order["status"] != status:
        raise ToolCallError(
            f"order {order['order_id']} is {order['status']}; only {status} orders can be {action}"
        )


def _order_lines(db: sqlite3.Connection, order_id: str, item_ids: list[str]) -> list[dict]:
    """The order's lines for `item_ids`, each one once and not already returned or exchanged."""
    if not item_ids:
        raise ToolCallError("item_ids is empty: name at least one item of the order")
    if len(set(item_ids)) != len(item_ids):
        raise ToolCallError("item_ids lists the same item more than once")
    lines = []
    for item_id in item_ids:
        line = fetch_one(db, "SELECT * FROM order_items WHERE order_id = ? AND item_id = ?", order_id, item_id)
        if line is None:
            raise ToolCallError(f"item {item_id} is not in order {order_id}")
        if line["state"] != "ordered":
            raise ToolCallError(f"item {item_id} of order {order_id} is already {line['state'].replace('_', ' ')}")
        lines.append(line)
    return lines


def _swap_targets(db: sqlite3.Connection, lines: list[dict], new_item_ids: list[str]) -> list[dict]:
    """Check each new item is another available variant of the same product as the old one."""
    if len(new_item_ids) != len(lines):
        raise ToolCallError("item_ids and new_item_ids must have the same length, one new item per old item")
    targets = []
    for line, new_id in zip(lines, new_item_ids, strict=True):
        new = fetch_one(db, "SELECT * FROM items WHERE item_id = ?", new_id)
        if new is None:
            raise ToolCallError(f"item {new_id} does not exist")
        if new["product_id"] != line["product_id"]:
            raise ToolCallError(f"item {new_id} is a different product from item {line['item_id']}; "
                                "items can only be swapped for another variant of the same product")
        if new_id == line["item_id"]:
            raise ToolCallError(f"item {new_id} is the same variant as the one in the order")
        if not new["available"]:
            raise ToolCallError(f"item {new_id} is not available")
        targets.append(new)
    return targets


def _user_method(db: sqlite3.Connection, user_id: str, payment_method_id: str) -> dict:
    method = fetch_one(db, "SELECT * FROM payment_methods WHERE payment_method_id = ?", payment_method_id)
    if method is None or method["user_id"] != user_id:
        raise ToolCallError(f"payment method {payment_method_id} is not one of the user's payment methods")
    return method


def _original_method_id(db: sqlite3.Connection, order_id: str) -> str:
    first = fetch_one(db, "SELECT payment_method_id FROM payments WHERE order_id = ? AND kind = 'payment' "
                          "ORDER BY seq LIMIT 1", order_id)
    return first["payment_method_id"]


def _record(db: sqlite3.Connection, order_id: str, method: dict, amount_cents: int) -> None:
    """Charge (amount > 0) or refund (amount < 0) a payment method; gift cards move at once."""
    if amount_cents == 0:
        return
    if method["source"] == "gift_card":
        if amount_cents > method["balance_cents"]:
            raise ToolCallError(f"gift card {method['payment_method_id']} has a balance of "
                                f"${dollars(method['balance_cents']):.2f}, not enough to pay ${dollars(amount_cents):.2f}")
        db.execute("UPDATE payment_methods SET balance_cents = balance_cents - ? WHERE payment_method_id = ?",
                   (amount_cents, method["payment_method_id"]))
    seq = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM payments WHERE order_id = ?", (order_id,)).fetchone()[0]
    db.execute("INSERT INTO payments (order_id, seq, kind, payment_method_id, amount_cents) VALUES (?, ?, ?, ?, ?)",
               (order_id, seq, "payment" if amount_cents > 0 else "refund", method["payment_method_id"],
                abs(amount_cents)))


def _owned_order(db: sqlite3.Connection, session: Session, order_id: str) -> dict:
    order = load_order(db, order_id)
    require_authenticated(session, order["user_id"], f"order {order_id}")
    return order


@tool
def cancel_pending_order(
    order_id: str, reason: Literal["no longer needed", "ordered by mistake"],
    *, db: sqlite3.Connection, session: Session,
) -> dict:
    """Cancel a pending order and refund what was paid to the original payment methods.

    Args:
        order_id: The order id, such as "#W0123456".
        reason: Why the user cancels: "no longer needed" or "ordered by mistake".
    """
    order = _owned_order(db, session, order_id)
    _require_status(order, "pending", "cancelled")
    net: dict[str, int] = {}
    for p in fetch_all(db, "SELECT * FROM payments WHERE order_id = ? ORDER BY seq", order_id):
        sign = 1 if p["kind"] == "payment" else -1
        net[p["payment_method_id"]] = net.get(p["payment_method_id"], 0) + sign * p["amount_cents"]
    with db:
        for method_id, paid in net.items():
            if paid > 0:
                method = fetch_one(db, "SELECT * FROM payment_methods WHERE payment_method_id = ?", method_id)
                _record(db, order_id, method, -paid)
        db.execute("UPDATE orders SET status = 'cancelled', cancel_reason = ? WHERE order_id = ?", (reason, order_id))
    return order_view(db, order_id)


@tool
def modify_pending_order_address(
    order_id: str, address1: str, address2: str, city: str, state: str, country: str, zip: str,
    *, db: sqlite3.Connection, session: Session,
) -> dict:
    """Change the shipping address of a pending order.

    Args:
        order_id: The order id, such as "#W0123456".
        address1: Street address, such as "12 Maple Street".
        address2: Apartment or unit, such as "Apt 4"; "" if none.
        city: City.
        state: State, such as "OR".
        country: Country, such as "USA".
        zip: Zip code.
    """
    order = _owned_order(db, session, order_id)
    _require_status(order, "pending", "modified")
    with db:
        db.execute("UPDATE orders SET address1 = ?, address2 = ?, city = ?, state = ?, country = ?, zip = ? "
                   "WHERE order_id = ?", (address1, address2, city, state, country, zip, order_id))
    return order_view(db, order_id)


@tool
def modify_user_address(
    user_id: str, address1: str, address2: str, city: str, state: str, country: str, zip: str,
    *, db: sqlite3.Connection, session: Session,
) -> dict:
    """Change a user's default address (orders already placed keep theirs).

    Args:
        user_id: The user's id.
        address1: Street address, such as "12 Maple Street".
        address2: Apartment or unit, such as "Apt 4"; "" if none.
        city: City.
        state: State, such as "OR".
        country: Country, such as "USA".
        zip: Zip code.
    """
    load_user(db, user_id)
    require_authenticated(session, user_id, f"user {user_id}")
    with db:
        db.execute("UPDATE users SET address1 = ?, address2 = ?, city = ?, state = ?, country = ?, zip = ? "
                   "WHERE user_id = ?", (address1, address2, city, state, country, zip, user_id))
    return {"user_id": user_id, "address": {"address1": address1, "address2": address2, "city": city,
                                            "state": state, "country": country, "zip": zip}}


@tool
def modify_pending_order_items(
    order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str,
    *, db: sqlite3.Connection, session: Session,
) -> dict:
    """Swap items of a pending order for other available variants of the same products.
    The price difference is charged to, or refunded to, the given payment method.

    Args:
        order_id: The order id, such as "#W0123456".
        item_ids: Item ids in the order to replace.
        new_item_ids: The new item ids, in the same order as item_ids.
        payment_method_id: The user's payment method that pays or receives the price difference.
    """
    order = _owned_order(db, session, order_id)
    _require_status(order, "pending", "modified")
    lines = _order_lines(db, order_id, item_ids)
    targets = _swap_targets(db, lines, new_item_ids)
    method = _user_method(db, order["user_id"], payment_method_id)
    difference = sum(t["price_cents"] - line["price_cents"] for line, t in zip(lines, targets, strict=True))
    with db:
        _record(db, order_id, method, difference)
        for line, new in zip(lines, targets, strict=True):
            db.execute("UPDATE order_items SET item_id = ?, price_cents = ? WHERE order_id = ? AND line = ?",
                       (new["item_id"], new["price_cents"], order_id, line["line"]))
    return order_view(db, order_id)


@tool
def return_delivered_order_items(
    order_id: str, item_ids: list[str], payment_method_id: str,
    *, db: sqlite3.Connection, session: Session,
) -> dict:
    """Request a return of items of a delivered order; the refund goes to the original payment
    method or to one of the user's gift cards. The order becomes "return requested".

    Args:
        order_id: The order id, such as "#W0123456".
        item_ids: Item ids in the order to return.
        payment_method_id: Where the refund goes: the original payment method or a gift card of the user.
    """
    order = _owned_order(db, session, order_id)
    _require_status(order, "delivered", "returned")
    lines = _order_lines(db, order_id, item_ids)
    method = _user_method(db, order["user_id"], payment_method_id)
    if method["source"] != "gift_card" and payment_method_id != _original_method_id(db, order_id):
        raise ToolCallError("a refund goes to the original payment method or to a gift card of the user, "
                            f"and {payment_method_id} is neither")
    with db:
        _record(db, order_id, method, -sum(line["price_cents"] for line in lines))
        for line in lines:
            db.execute("UPDATE order_items SET state = 'return_requested' WHERE order_id = ? AND line = ?",
                       (order_id, line["line"]))
        db.execute("UPDATE orders SET status = 'return requested' WHERE order_id = ?", (order_id,))
    return order_view(db, order_id)


@tool
def exchange_delivered_order_items(
    order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str,
    *, db: sqlite3.Connection, session: Session,
) -> dict:
    """Request an exchange of items of a delivered order for other available variants of the same
    products. The price difference is charged or refunded to the given payment method.
    The order becomes "exchange requested".

    Args:
        order_id: The order id, such as "#W0123456".
        item_ids: Item ids in the order to exchange.
        new_item_ids: The new item ids, in the same order as item_ids.
        payment_method_id: The user's payment method that pays or receives the price difference.
    """
    order = _owned_order(db, session, order_id)
    _require_status(order, "delivered", "exchanged")
    lines = _order_lines(db, order_id, item_ids)
    targets = _swap_targets(db, lines, new_item_ids)
    method = _user_method(db, order["user_id"], payment_method_id)
    difference = sum(t["price_cents"] - line["price_cents"] for line, t in zip(lines, targets, strict=True))
    with db:
        _record(db, order_id, method, difference)
        for line, new in zip(lines, targets, strict=True):
            db.execute("UPDATE order_items SET state = 'exchange_requested', exchange_item_id = ? "
                       "WHERE order_id = ? AND line = ?", (new["item_id"], order_id, line["line"]))
        db.execute("UPDATE orders SET status = 'exchange requested' WHERE order_id = ?", (order_id,))
    return order_view(db, order_id)


WRITE_TOOLS = [
    cancel_pending_order, modify_pending_order_address, modify_pending_order_items, modify_user_address,
    return_delivered_order_items, exchange_delivered_order_items,
]
