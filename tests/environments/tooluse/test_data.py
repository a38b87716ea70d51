"""The seeded store: reproducible, and every episode's copy is private."""

from agentgym.environments.tooluse.data import build_database, copy_database, fresh_database
from agentgym.verifiers import diff, snapshot


def test_same_seed_same_store_other_seed_other_store():
    assert snapshot(build_database(5)) == snapshot(build_database(5))
    assert diff(snapshot(build_database(5)), snapshot(build_database(6)))


def test_fresh_copies_are_independent():
    a, b = fresh_database(0), fresh_database(0)
    with a:
        a.execute("UPDATE orders SET status = 'cancelled'")
    assert diff(snapshot(a), snapshot(b))
    assert snapshot(b) == snapshot(fresh_database(0)) == snapshot(copy_database(b))


def test_store_has_what_the_policy_talks_about():
    db = fresh_database(0)
    statuses = {r[0] for r in db.execute("SELECT DISTINCT status FROM orders")}
    assert statuses == {"pending", "processed", "delivered", "cancelled"}
    sources = {r[0] for r in db.execute("SELECT DISTINCT source FROM payment_methods")}
    assert sources == {"credit_card", "gift_card", "paypal"}
    assert db.execute("SELECT COUNT(*) FROM items WHERE available = 0").fetchone()[0] > 0
