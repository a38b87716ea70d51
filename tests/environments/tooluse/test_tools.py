"""The retail tools enforce the policy: a forbidden action is an error saying why, and writes nothing."""

import json

import pytest

from agentgym.environments.tooluse.data import fresh_database
from agentgym.environments.tooluse.tools import Session, fetch_one
from agentgym.verifiers import diff, snapshot

from .helpers import lines, login, order_with, other_variant, run


@pytest.fixture
def db():
    conn = fresh_database(0)
    yield conn
    conn.close()


async def refused(db, session, name, **arguments) -> str:
    """Run a call that must be refused; check it changed nothing and return the message."""
    before = snapshot(db)
    content, ok = await run(db, session, name, **arguments)
    assert not ok and content.startswith("Error: ")
    assert diff(before, snapshot(db)) == []
    return content


async def test_lookups_authenticate_and_describe(db):
    user = fetch_one(db, "SELECT * FROM users ORDER BY user_id LIMIT 1")
    session = Session()
    content, ok = await run(db, session, "find_user_id_by_email", email=user["email"].upper())
    assert ok and content == user["user_id"] and session.user_id == user["user_id"]
    content, ok = await run(db, Session(), "find_user_id_by_name_zip", first_name=user["first_name"],
                            last_name=user["last_name"], zip=user["zip"])
    assert ok and content == user["user_id"]
    details = json.loads((await run(db, session, "get_user_details", user_id=user["user_id"]))[0])
    assert details["email"] == user["email"] and details["orders"]
    order = json.loads((await run(db, session, "get_order_details", order_id=details["orders"][0]))[0])
    assert order["user_id"] == user["user_id"] and order["items"] and order["payment_history"]
    products = json.loads((await run(db, session, "list_product_types"))[0])
    product = json.loads((await run(db, session, "get_product_details", product_id=products["T-Shirt"]))[0])
    assert product["name"] == "T-Shirt" and all("price" in v for v in product["variants"].values())


async def test_lookup_misses_say_what_was_not_found(db):
    session = Session()
    assert "no user with email" in await refused(db, session, "find_user_id_by_email", email="nobody@example.com")
    assert "not found" in await refused(db, session, "get_order_details", order_id="W123")
    assert "'#W1234567'" in await refused(db, session, "get_order_details", order_id="W123")
    assert session.user_id is None


async def test_writes_need_an_authenticated_owner(db):
    order = order_with(db, "pending")
    text = await refused(db, Session(), "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")
    assert "not authenticated" in text
    someone_else = fetch_one(db, "SELECT user_id FROM users WHERE user_id != ? LIMIT 1", order["user_id"])["user_id"]
    text = await refused(db, login(Session(), someone_else), "cancel_pending_order",
                         order_id=order["order_id"], reason="no longer needed")
    assert "does not belong to the authenticated user" in text


async def test_cancel_rules_and_refund(db):
    delivered = order_with(db, "delivered")
    text = await refused(db, login(Session(), delivered["user_id"]), "cancel_pending_order",
                         order_id=delivered["order_id"], reason="no longer needed")
    assert "is delivered; only pending orders can be cancelled" in text

    pending = order_with(db, "pending")
    session = login(Session(), pending["user_id"])
    text = await refused(db, session, "cancel_pending_order", order_id=pending["order_id"], reason="too expensive")
    assert "invalid arguments" in text and "reason" in text

    content, ok = await run(db, session, "cancel_pending_order", order_id=pending["order_id"], reason="ordered by mistake")
    view = json.loads(content)
    paid = sum(x["price_cents"] for x in lines(db, pending["order_id"])) / 100
    assert ok and view["status"] == "cancelled" and view["cancel_reason"] == "ordered by mistake"
    assert view["payment_history"][-1] == {**view["payment_history"][0], "transaction_type": "refund", "amount": paid}
    assert "only pending" in await refused(db, session, "cancel_pending_order",
                                           order_id=pending["order_id"], reason="ordered by mistake")


async def test_return_rules(db):
    pending = order_with(db, "pending")
    item = lines(db, pending["order_id"])[0]["item_id"]
    method = fetch_one(db, "SELECT payment_method_id FROM payments WHERE order_id = ?", pending["order_id"])["payment_method_id"]
    text = await refused(db, login(Session(), pending["user_id"]), "return_delivered_order_items",
                         order_id=pending["order_id"], item_ids=[item], payment_method_id=method)
    assert "only delivered orders can be returned" in text

    # a user with two non-gift-card methods: a refund to the one not used for the order is refused
    order = order_with(db, "delivered", "(SELECT COUNT(*) FROM payment_methods m WHERE m.user_id = o.user_id "
                                        "AND m.source != 'gift_card') > 1")
    session = login(Session(), order["user_id"])
    original = fetch_one(db, "SELECT payment_method_id FROM payments WHERE order_id = ?", order["order_id"])["payment_method_id"]
    other = fetch_one(db, "SELECT payment_method_id FROM payment_methods WHERE user_id = ? AND source != 'gift_card' "
                          "AND payment_method_id != ?", order["user_id"], original)["payment_method_id"]
    item = lines(db, order["order_id"])[0]["item_id"]
    text = await refused(db, session, "return_delivered_order_items", order_id=order["order_id"],
                         item_ids=[item], payment_method_id=other)
    assert "original payment method or to a gift card" in text
    assert "not in order" in await refused(db, session, "return_delivered_order_items", order_id=order["order_id"],
                                           item_ids=["0000000000"], payment_method_id=original)
    assert "more than once" in await refused(db, session, "return_delivered_order_items", order_id=order["order_id"],
                                             item_ids=[item, item], payment_method_id=original)
    content, ok = await run(db, session, "return_delivered_order_items", order_id=order["order_id"],
                            item_ids=[item], payment_method_id=original)
    assert ok and json.loads(content)["status"] == "return requested"
    assert "only delivered" in await refused(db, session, "return_delivered_order_items", order_id=order["order_id"],
                                             item_ids=[item], payment_method_id=original)


async def test_exchange_only_to_another_available_variant_of_the_same_product(db):
    order = order_with(db, "delivered", "EXISTS (SELECT 1 FROM order_items oi JOIN items i USING (product_id) "
                                        "WHERE oi.order_id = o.order_id AND i.available = 0 AND i.item_id != oi.item_id)")
    session = login(Session(), order["user_id"])
    line = next(x for x in lines(db, order["order_id"]) if other_variant(db, x["product_id"], x["item_id"], 0))
    unavailable = other_variant(db, line["product_id"], line["item_id"], 0)
    method = fetch_one(db, "SELECT payment_method_id FROM payments WHERE order_id = ?", order["order_id"])["payment_method_id"]
    args = {"order_id": order["order_id"], "item_ids": [line["item_id"]], "payment_method_id": method}
    assert "is not available" in await refused(db, session, "exchange_delivered_order_items", **args,
                                               new_item_ids=[unavailable["item_id"]])
    different = fetch_one(db, "SELECT item_id FROM items WHERE product_id != ? AND available = 1 LIMIT 1", line["product_id"])
    assert "different product" in await refused(db, session, "exchange_delivered_order_items", **args,
                                                new_item_ids=[different["item_id"]])
    assert "same variant" in await refused(db, session, "exchange_delivered_order_items", **args,
                                           new_item_ids=[line["item_id"]])
    assert "same length" in await refused(db, session, "exchange_delivered_order_items", **args, new_item_ids=[])


async def test_gift_card_must_cover_a_charge(db):
    rows = db.execute(
        "SELECT o.order_id, o.user_id, oi.item_id, i.item_id, m.payment_method_id FROM orders o "
        "JOIN order_items oi USING (order_id) JOIN items i ON i.product_id = oi.product_id "
        "JOIN payment_methods m ON m.user_id = o.user_id AND m.source = 'gift_card' "
        "WHERE o.status = 'pending' AND i.available = 1 AND i.price_cents > oi.price_cents "
        "ORDER BY o.order_id, i.item_id LIMIT 1").fetchall()
    assert rows, "the seed-0 store has a pending order that a gift card could pay a pricier swap for"
    order_id, user_id, old_item, new_item, card = rows[0]
    with db:
        db.execute("UPDATE payment_methods SET balance_cents = 0 WHERE payment_method_id = ?", (card,))
    text = await refused(db, login(Session(), user_id), "modify_pending_order_items", order_id=order_id,
                         item_ids=[old_item], new_item_ids=[new_item], payment_method_id=card)
    assert "balance of $0.00, not enough" in text


async def test_transfer_and_unknown_tool(db):
    content, ok = await run(db, Session(), "transfer_to_human_agents", summary="wants a discount")
    assert ok and content == "Transfer successful"
    text = await refused(db, Session(), "cancel_order", order_id="#W1")
    assert "unknown tool 'cancel_order'" in text and "cancel_pending_order" in text


async def test_writes_are_deterministic():
    async def cancel_once():
        db = fresh_database(1)
        order = order_with(db, "pending")
        await run(db, login(Session(), order["user_id"]), "cancel_pending_order",
                  order_id=order["order_id"], reason="no longer needed")
        return snapshot(db)

    first, second = await cancel_once(), await cancel_once()
    assert diff(first, second) == [] and first == second
