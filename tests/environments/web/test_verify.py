"""Answer matching, checks and sub-goal shares, on a real SQLite DB."""

from __future__ import annotations

import sqlite3

import pytest

from agentgym.core.errors import VerifierError
from agentgym.environments.web.tasks import CheckSpec, SubGoal
from agentgym.environments.web.verify import SubgoalTracker, answer_matches, normalize, run_check


@pytest.mark.parametrize(
    ("given", "expected", "how", "ok"),
    [
        ("$1,299.50", "1299.5", "normalized", True),
        ("  Zephyr Urban Tent. ", "zephyr urban tent", "normalized", True),
        ("Café", "cafe", "normalized", True),
        ("12", "13", "normalized", False),
        ("It costs $10.29 today", "$10.29", "contains", True),
        ("abc", "ABC", "exact", False),
        (None, "x", "normalized", False),
    ],
)
def test_answer_matching(given, expected, how, ok):
    assert answer_matches(given, expected, how) is ok


def test_normalize_keeps_decimals():
    assert normalize("Total: $285.25!") == "total 285.25"


@pytest.fixture
def conn():
    c = sqlite3.connect(":memory:")
    c.execute("create table t(x)")
    yield c
    c.close()


def test_checks_from_a_dict_a_function_and_the_generic_ones(conn):
    table = {"rows": lambda conn, url, args: conn.execute("select count(*) from t").fetchone()[0] >= args["n"]}
    assert not run_check(table, CheckSpec(check="rows", args={"n": 1}), conn, "http://x/")
    conn.execute("insert into t values (1)")
    assert run_check(table, CheckSpec(check="rows", args={"n": 1}), conn, "http://x/")
    assert run_check(lambda name, c, url, args: name == "any", CheckSpec(check="any"), conn, "")
    assert run_check(None, CheckSpec(check="url_is", args={"path": "/cart"}), conn, "http://s/cart")
    assert not run_check(None, CheckSpec(check="url_is", args={"path": "/cart", "query": {"q": "x"}}), conn,
                         "http://s/cart")


def test_unknown_or_crashing_checks_are_verifier_errors(conn):
    with pytest.raises(VerifierError, match="unknown check 'nope'"):
        run_check({"rows": lambda *a: True}, CheckSpec(check="nope"), conn, "")
    with pytest.raises(VerifierError, match="failed to run"):
        run_check({"bad": lambda c, u, a: a["missing"]}, CheckSpec(check="bad"), conn, "")


def test_subgoals_pay_their_share_once(conn):
    goals = [SubGoal(check="url_is", args={"path": "/a"}, weight=1),
             SubGoal(check="url_is", args={"path": "/b"}, weight=3)]
    tracker = SubgoalTracker(goals)
    assert tracker.update(None, conn, "http://s/?next=/a") == {}
    assert tracker.update(None, conn, "http://s/b") == {"subgoal_1:url_is": 0.75}
    assert tracker.update(None, conn, "http://s/b") == {}
    assert tracker.update(None, conn, "http://s/a") == {"subgoal_0:url_is": 0.25}
