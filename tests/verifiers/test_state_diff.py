"""The SQLite state-diff verifier on small hand-made databases."""

import sqlite3

import pytest

from agentgym.core.errors import VerifierError
from agentgym.verifiers import Amount, AnswerKey, Phrase, StateDiffVerifier, diff, explain, snapshot


def make_db(*statements: str) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE accounts (id TEXT PRIMARY KEY, owner TEXT, balance INTEGER);"
        "CREATE TABLE lines (order_id TEXT, n INTEGER, sku TEXT, PRIMARY KEY (order_id, n));"
        "CREATE TABLE log (message TEXT);"
        "INSERT INTO accounts VALUES ('a1', 'ana', 100), ('a2', 'bo', 50);"
        "INSERT INTO lines VALUES ('o1', 0, 'x'), ('o1', 1, 'y');"
        "INSERT INTO log VALUES ('hello'), ('hello');"
    )
    for s in statements:
        db.execute(s)
    return db


def test_identical_databases_have_no_diff():
    assert diff(snapshot(make_db()), snapshot(make_db())) == []


def test_diff_names_changed_inserted_and_deleted_rows():
    before = snapshot(make_db())
    after = snapshot(make_db(
        "UPDATE accounts SET balance = 75 WHERE id = 'a1'",
        "INSERT INTO accounts VALUES ('a3', 'cy', 0)",
        "DELETE FROM lines WHERE order_id = 'o1' AND n = 1",
    ))
    changes = {(c.table, c.key): c for c in diff(before, after)}
    assert set(changes) == {("accounts", ("a1",)), ("accounts", ("a3",)), ("lines", ("o1", 1))}
    assert changes[("accounts", ("a1",))].kind == "changed"
    assert changes[("accounts", ("a3",))].kind == "inserted"
    assert changes[("lines", ("o1", 1))].kind == "deleted"
    text = explain(diff(before, after))
    assert "accounts['a1']: balance: 100 (before) vs 75 (after)" in text
    assert "accounts['a3']: row only in after" in text
    assert "lines[('o1', 1)]: row only in before" in text
    assert "owner" not in text.split("\n")[0]  # unchanged cells are not listed


def test_tables_without_primary_key_are_compared_as_multisets():
    before = snapshot(make_db())
    after = snapshot(make_db("DELETE FROM log WHERE rowid = 1"))
    changes = diff(before, after)
    assert len(changes) == 1 and changes[0].table == "log" and changes[0].kind == "deleted"


def test_mismatched_schemas_raise_verifier_error():
    other = sqlite3.connect(":memory:")
    other.execute("CREATE TABLE accounts (id TEXT PRIMARY KEY, balance INTEGER)")
    with pytest.raises(VerifierError, match="accounts"):
        diff(snapshot(make_db()), snapshot(other))


def test_unreadable_database_raises_verifier_error():
    db = make_db()
    db.close()
    with pytest.raises(VerifierError):
        snapshot(db)


def test_outcome_and_progress():
    initial = snapshot(make_db())
    gold = snapshot(make_db("UPDATE accounts SET balance = 0 WHERE id = 'a1'",
                            "INSERT INTO accounts VALUES ('a3', 'cy', 100)"))
    verifier = StateDiffVerifier(initial, gold, AnswerKey((Amount.of("$100.00"),)))
    assert verifier.progress(initial) == 0.0

    half = snapshot(make_db("UPDATE accounts SET balance = 0 WHERE id = 'a1'"))
    assert verifier.progress(half) == 0.5
    step = verifier.score_step(half, previous_progress=0.0)
    assert step.value == 0.5 and step.components["progress"] == 0.5 and step.source == "state_diff"

    wrong = snapshot(make_db("UPDATE accounts SET balance = 0 WHERE id = 'a1'",
                             "UPDATE accounts SET owner = 'eve' WHERE id = 'a2'"))
    assert verifier.progress(wrong) == 0.0  # one right, one the reference does not make
    assert verifier.score_step(wrong, previous_progress=0.5).value == -0.5

    done = verifier.score_episode(gold, ["I moved $100 to the new account."])
    assert done.value == 1.0
    assert done.components == {"db_match": 1.0, "outputs": 1.0, "plain_answer": 1.0, "progress": 1.0}

    silent = verifier.score_episode(gold, ["Done."])
    assert silent.value == 0.0 and silent.components["outputs"] == 0.0
    assert "missing amount $100.00" in silent.explanation

    hedged = verifier.score_episode(gold, ["I moved $100 or maybe $50."])
    assert hedged.value == 0.0 and hedged.components["plain_answer"] == 0.0
    assert "offered as alternatives" in hedged.explanation

    partial = verifier.score_episode(half, ["$100"])
    assert partial.value == 0.0 and partial.components["db_match"] == 0.0
    assert "accounts['a3']: row only in expected" in partial.explanation


def test_required_phrases_with_alternatives_and_exclusions():
    db = make_db()
    status = Phrase(("processed",), not_with=("pending", "delivered", "cancelled"))
    other = Phrase(("not on your account", "another account"))
    verifier = StateDiffVerifier(snapshot(db), snapshot(db), AnswerKey((status, other)))
    plain = verifier.score_episode(snapshot(db), ["Order #W1 is processed.", "It is on another account."])
    assert plain.value == 1.0
    hedge = verifier.score_episode(snapshot(db), ["Your order is pending, processed, delivered, or cancelled.",
                                                   "It is not on your account."])
    assert hedge.value == 0.0 and hedge.components["outputs"] == 0.5
    assert "'processed' said together with 'pending', 'delivered', 'cancelled'" in hedge.explanation
    across = verifier.score_episode(snapshot(db), ["Is it pending?", "It is processed, on another account."])
    assert across.value == 0.0  # hedging over several messages counts too
    missing = verifier.score_episode(snapshot(db), ["Order #W1 is processed."])
    assert missing.value == 0.0 and "missing output 'not on your account' or 'another account'" in missing.explanation
