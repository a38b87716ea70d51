"""The airline tools enforce the policy: a forbidden action is an error saying why, and writes nothing."""

import json

import pytest

from agentgym.environments.tooluse.airline.data import build_database, fresh_database
from agentgym.environments.tooluse.airline.tools import Session
from agentgym.environments.tooluse.tools import fetch_all, fetch_one
from agentgym.verifiers import diff, snapshot

from .helpers import card_of, login, open_reservations, run


@pytest.fixture
def db():
    conn = fresh_database(0)
    yield conn
    conn.close()


async def refused(db, session, name, **arguments) -> str:
    """Run a call that must be refused; check it changed nothing and return the message."""
    before = snapshot(db)
    content, ok = await run(db, session, name, **arguments)
    assert not ok and content.startswith("Error: "), content
    assert diff(before, snapshot(db)) == []
    return content


def owner(db, reservation_id: str) -> Session:
    user = fetch_one(db, "SELECT user_id FROM reservations WHERE reservation_id = ?", reservation_id)["user_id"]
    return login(Session(), user)


def one(rows: list[dict]) -> dict:
    assert rows, "the seed-0 airline has a reservation for this rule"
    return rows[0]


def test_same_seed_same_airline_other_seed_other_airline():
    assert snapshot(build_database(3)) == snapshot(build_database(3))
    assert diff(snapshot(build_database(3)), snapshot(build_database(4)))


def test_airline_has_what_the_policy_talks_about(db):
    def values(sql):
        return {r[0] for r in db.execute(sql)}

    assert values("SELECT DISTINCT status FROM flight_dates") == {"landed", "flying", "delayed", "scheduled", "cancelled"}
    assert values("SELECT DISTINCT membership FROM users") == {"regular", "silver", "gold"}
    assert values("SELECT DISTINCT source FROM payment_methods") == {"credit_card", "gift_card", "certificate"}
    assert values("SELECT DISTINCT cabin FROM reservations") == {"basic_economy", "economy", "business"}
    assert values("SELECT DISTINCT trip_type FROM reservations") == {"one_way", "round_trip"}
    assert values("SELECT DISTINCT insurance FROM reservations") == {0, 1}
    assert db.execute("SELECT COUNT(*) FROM reservations WHERE created_at > '2024-05-14 15:00'").fetchone()[0] > 0


async def test_authentication_needs_the_date_of_birth_and_guards_every_read(db):
    user = fetch_one(db, "SELECT * FROM users ORDER BY user_id LIMIT 1")
    session = Session()
    assert "not authenticated" in await refused(db, session, "get_user_details", user_id=user["user_id"])
    assert "no user with that" in await refused(db, session, "authenticate_user", user_id=user["user_id"],
                                                date_of_birth="1900-01-01")
    content, ok = await run(db, session, "authenticate_user", user_id=user["user_id"], date_of_birth=user["date_of_birth"])
    assert ok and session.user_id == user["user_id"]
    details = json.loads((await run(db, session, "get_user_details", user_id=user["user_id"]))[0])
    assert details["membership"] == user["membership"] and details["reservations"]
    other = fetch_one(db, "SELECT * FROM reservations WHERE user_id != ? LIMIT 1", user["user_id"])
    assert "does not belong to the authenticated user" in await refused(
        db, session, "get_reservation_details", reservation_id=other["reservation_id"])
    assert "does not belong" in await refused(db, session, "get_user_details", user_id=other["user_id"])


async def test_cancel_rules(db):
    # booked days ago, not business, no insurance, no airline cancellation: refused for any reason
    plain = one(open_reservations(db, where="cabin != 'business' AND insurance = 0 AND created_at < '2024-05-14 15:00' "
                                            "AND NOT EXISTS (SELECT 1 FROM reservation_flights rf JOIN flight_dates fd "
                                            "USING (flight_number, date) WHERE rf.reservation_id = r.reservation_id "
                                            "AND fd.status = 'cancelled')"))
    session = owner(db, plain["reservation_id"])
    for reason in ("change of plan", "health"):
        assert "cannot be cancelled" in await refused(db, session, "cancel_reservation",
                                                      reservation_id=plain["reservation_id"], reason=reason)
    assert "no flight of reservation" in await refused(db, session, "cancel_reservation",
                                                       reservation_id=plain["reservation_id"],
                                                       reason="airline cancelled flight")
    # insured: health is covered, a change of plan is not
    insured = one(open_reservations(db, where="cabin != 'business' AND insurance = 1 AND created_at < '2024-05-14 15:00'"))
    session = owner(db, insured["reservation_id"])
    assert "does not cover" in await refused(db, session, "cancel_reservation", reservation_id=insured["reservation_id"],
                                             reason="change of plan")
    content, ok = await run(db, session, "cancel_reservation", reservation_id=insured["reservation_id"], reason="health")
    view = json.loads(content)
    assert ok and view["status"] == "cancelled" and view["cancel_reason"] == "health"
    paid = sum(p["amount"] for p in view["payment_history"] if p["transaction_type"] == "payment")
    assert sum(p["amount"] for p in view["payment_history"] if p["transaction_type"] == "refund") == pytest.approx(paid)
    assert "is cancelled" in await refused(db, session, "cancel_reservation", reservation_id=insured["reservation_id"],
                                           reason="health")
    # within 24 hours: any reason
    recent = one(open_reservations(db, where="created_at > '2024-05-14 15:00'"))
    content, ok = await run(db, owner(db, recent["reservation_id"]), "cancel_reservation",
                            reservation_id=recent["reservation_id"], reason="other")
    assert ok


async def test_a_departed_reservation_cannot_be_cancelled_or_changed(db):
    departed = one(fetch_all(db, "SELECT DISTINCT r.* FROM reservations r JOIN reservation_flights rf USING (reservation_id) "
                                 "JOIN flight_dates fd USING (flight_number, date) WHERE r.status = 'active' "
                                 "AND r.cabin = 'business' AND fd.status = 'landed' ORDER BY reservation_id"))
    session = owner(db, departed["reservation_id"])
    rid = departed["reservation_id"]
    assert "already departed" in await refused(db, session, "cancel_reservation", reservation_id=rid, reason="other")
    card = card_of(db, session.user_id)
    assert "already departed" in await refused(db, session, "update_reservation_baggages", reservation_id=rid,
                                               total_baggages=departed["total_baggages"] + 1, payment_method_id=card)


async def test_change_rules(db):
    basic = one(open_reservations(db, where="cabin = 'basic_economy'"))
    session = owner(db, basic["reservation_id"])
    flight = fetch_one(db, "SELECT * FROM reservation_flights WHERE reservation_id = ? AND seq = 0", basic["reservation_id"])
    text = await refused(db, session, "update_reservation_flights", reservation_id=basic["reservation_id"],
                         flights=[{"flight_number": flight["flight_number"], "date": "2024-05-30"}],
                         payment_method_id=card_of(db, session.user_id))
    assert "basic economy flights cannot be changed" in text

    economy = one(open_reservations(db, where="cabin = 'economy' AND trip_type = 'one_way' AND EXISTS (SELECT 1 FROM "
                                              "payment_methods m WHERE m.user_id = r.user_id AND m.source = 'certificate')"))
    rid, session = economy["reservation_id"], owner(db, economy["reservation_id"])
    other_route = fetch_one(db, "SELECT f.flight_number FROM flights f WHERE NOT (origin = ? AND destination = ?) LIMIT 1",
                            economy["origin"], economy["destination"])["flight_number"]
    card = card_of(db, session.user_id)
    assert "changes keep the origin, destination" in await refused(
        db, session, "update_reservation_flights", reservation_id=rid,
        flights=[{"flight_number": other_route, "date": "2024-05-30"}], payment_method_id=card)
    certificate = fetch_one(db, "SELECT payment_method_id FROM payment_methods WHERE user_id = ? AND source = 'certificate'",
                            session.user_id)["payment_method_id"]
    assert "certificate cannot pay for a change" in await refused(
        db, session, "update_reservation_cabin", reservation_id=rid, cabin="business", payment_method_id=certificate)
    assert "list all 1 in trip order" in await refused(db, session, "update_reservation_flights", reservation_id=rid,
                                                       flights=[], payment_method_id=card)
    someone_else = fetch_one(db, "SELECT payment_method_id FROM payment_methods WHERE user_id != ? LIMIT 1",
                             session.user_id)["payment_method_id"]
    assert "not one of the user's payment methods" in await refused(
        db, session, "update_reservation_cabin", reservation_id=rid, cabin="business", payment_method_id=someone_else)


async def test_baggage_allowance_and_fee(db):
    gold = one(open_reservations(db, where="cabin = 'economy' AND user_id IN (SELECT user_id FROM users WHERE "
                                           "membership = 'gold')"))
    rid, session = gold["reservation_id"], owner(db, gold["reservation_id"])
    card = card_of(db, session.user_id)
    n = db.execute("SELECT COUNT(*) FROM passengers WHERE reservation_id = ?", (rid,)).fetchone()[0]
    assert "can only be added" in await refused(db, session, "update_reservation_baggages", reservation_id=rid,
                                                total_baggages=gold["total_baggages"], payment_method_id=card)
    free = 3 * n  # gold, economy: 3 free bags per passenger
    content, ok = await run(db, session, "update_reservation_baggages", reservation_id=rid,
                            total_baggages=free + 2, payment_method_id=card)
    view = json.loads(content)
    assert ok and view["total_baggages"] == free + 2 and view["nonfree_baggages"] == 2
    charged = view["payment_history"][-1]
    assert charged["transaction_type"] == "payment" and charged["amount"] == 50.0 * (2 - gold["nonfree_baggages"])


async def test_compensation_rules(db):
    regular = one(fetch_all(db, "SELECT DISTINCT r.* FROM reservations r JOIN users u USING (user_id) "
                                "JOIN reservation_flights rf USING (reservation_id) JOIN flight_dates fd USING "
                                "(flight_number, date) WHERE u.membership = 'regular' AND r.insurance = 0 AND "
                                "r.cabin != 'business' AND fd.status IN ('cancelled', 'delayed') ORDER BY reservation_id"))
    session = owner(db, regular["reservation_id"])
    for reason in ("cancelled flight", "delayed flight"):
        assert "not eligible" in await refused(db, session, "issue_compensation_certificate",
                                               reservation_id=regular["reservation_id"], reason=reason)
    eligible = one(fetch_all(db, "SELECT DISTINCT r.*, fd.status FROM reservations r JOIN users u USING (user_id) "
                                 "JOIN reservation_flights rf USING (reservation_id) JOIN flight_dates fd USING "
                                 "(flight_number, date) WHERE u.membership != 'regular' AND fd.status = 'cancelled' "
                                 "ORDER BY reservation_id"))
    session = owner(db, eligible["reservation_id"])
    rid = eligible["reservation_id"]
    content, ok = await run(db, session, "issue_compensation_certificate", reservation_id=rid, reason="cancelled flight")
    n = db.execute("SELECT COUNT(*) FROM passengers WHERE reservation_id = ?", (rid,)).fetchone()[0]
    assert ok and json.loads(content)["balance"] == 100.0 * n
    assert "already compensated" in await refused(db, session, "issue_compensation_certificate", reservation_id=rid,
                                                  reason="cancelled flight")


async def test_booking_rules(db):
    user = fetch_one(db, "SELECT * FROM users WHERE user_id IN (SELECT user_id FROM payment_methods WHERE source = "
                         "'gift_card') ORDER BY user_id")
    session = login(Session(), user["user_id"])
    flight = fetch_one(db, "SELECT f.flight_number, fd.date, s.price_cents FROM flights f JOIN flight_dates fd USING "
                           "(flight_number) JOIN seats s ON s.flight_number = f.flight_number AND s.date = fd.date "
                           "WHERE fd.status = 'scheduled' AND fd.date > '2024-05-16' AND s.cabin = 'economy' "
                           "AND s.available >= 2 ORDER BY f.flight_number, fd.date LIMIT 1")
    route = fetch_one(db, "SELECT origin, destination FROM flights WHERE flight_number = ?", flight["flight_number"])
    card, gift = card_of(db, user["user_id"]), fetch_one(
        db, "SELECT * FROM payment_methods WHERE user_id = ? AND source = 'gift_card'", user["user_id"])
    me = {"first_name": user["first_name"], "last_name": user["last_name"], "date_of_birth": user["date_of_birth"]}
    total = flight["price_cents"] / 100 + 30  # one passenger, insurance, no bags
    args = dict(**route, trip_type="one_way", cabin="economy",
                flights=[{"flight_number": flight["flight_number"], "date": flight["date"]}],
                passengers=[me], total_baggages=0, insurance=True)
    text = await refused(db, session, "book_reservation", **args,
                         payment_methods=[{"payment_method_id": card, "amount": total - 1}])
    assert f"the total is ${total:.2f}" in text
    text = await refused(db, session, "book_reservation", **args, payment_methods=[
        {"payment_method_id": gift["payment_method_id"], "amount": gift["balance_cents"] / 100 + 1},
        {"payment_method_id": card, "amount": total - gift["balance_cents"] / 100 - 1}])
    assert "not enough" in text or "must be positive" in text
    assert "1 to 5 passengers" in await refused(db, session, "book_reservation", **{**args, "passengers": [me] * 6},
                                                payment_methods=[{"payment_method_id": card, "amount": total * 6}])
    content, ok = await run(db, session, "book_reservation", **args,
                            payment_methods=[{"payment_method_id": card, "amount": total}])
    view = json.loads(content)
    assert ok and view["insurance"] and view["created_at"] == "2024-05-15 15:00"
    seats = fetch_one(db, "SELECT available FROM seats WHERE flight_number = ? AND date = ? AND cabin = 'economy'",
                      flight["flight_number"], flight["date"])["available"]
    assert seats == fresh_database(0).execute(
        "SELECT available FROM seats WHERE flight_number = ? AND date = ? AND cabin = 'economy'",
        (flight["flight_number"], flight["date"])).fetchone()[0] - 1


async def test_transfer_is_recorded_for_the_authenticated_user(db):
    session = Session()
    content, ok = await run(db, session, "transfer_to_human_agents", summary="wants a human")
    assert ok and content == "Transfer successful"
    assert fetch_all(db, "SELECT * FROM transfers") == [{"seq": 1, "user_id": None}]


async def test_writes_are_deterministic():
    async def upgrade():
        db = fresh_database(1)
        r = one(open_reservations(db, where="cabin = 'economy'"))
        session = owner(db, r["reservation_id"])
        await run(db, session, "update_reservation_cabin", reservation_id=r["reservation_id"], cabin="business",
                  payment_method_id=card_of(db, session.user_id))
        return snapshot(db)

    first, second = await upgrade(), await upgrade()
    assert diff(first, second) == [] and first == second
