"""Write tools on existing reservations. Each enforces the policy's rules and raises
`ToolCallError` saying why when an action is not allowed; it writes nothing in that case.

Writes are deterministic (the clock is `NOW`, ids come from the data), so replaying the same calls
on the same starting database gives the identical database.
"""

from __future__ import annotations

import sqlite3
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agentgym.environments.tooluse.airline.data import BAG_FEE_CENTS, CABINS, NOW
from agentgym.environments.tooluse.airline.tools import (
    Session,
    flight_day,
    free_bags,
    load_reservation,
    load_user,
    require_user,
    reservation_view,
    segments,
)
from agentgym.environments.tooluse.tools import dollars, fetch_all, fetch_one
from agentgym.tools import ToolCallError, tool

CancelReason = Literal["change of plan", "airline cancelled flight", "health", "weather", "other"]
COVERED_REASONS = ("health", "weather")  # what travel insurance covers
CERTIFICATE_CENTS = {"cancelled flight": 10_000, "delayed flight": 5_000}  # per passenger


class FlightRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flight_number: str
    date: str


class PassengerInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: str
    last_name: str
    date_of_birth: str


# ---- shared rules ------------------------------------------------------------------------------


def owned_active(db: sqlite3.Connection, session: Session, reservation_id: str) -> dict:
    reservation = load_reservation(db, reservation_id)
    require_user(session, reservation["user_id"], f"reservation {reservation['reservation_id']}")
    if reservation["status"] != "active":
        raise ToolCallError(f"reservation {reservation['reservation_id']} is {reservation['status']}")
    return reservation


def require_not_flown(segs: list[dict], action: str) -> None:
    for s in segs:
        if s["status"] in ("landed", "flying"):
            raise ToolCallError(f"flight {s['flight_number']} on {s['date']} has already departed, so the "
                                f"reservation cannot be {action} by an agent")


def user_method(db: sqlite3.Connection, user_id: str, payment_method_id: str) -> dict:
    method = fetch_one(db, "SELECT * FROM payment_methods WHERE payment_method_id = ?", payment_method_id.strip())
    if method is None or method["user_id"] != user_id:
        raise ToolCallError(f"payment method {payment_method_id} is not one of the user's payment methods")
    return method


def change_payer(db: sqlite3.Connection, user_id: str, payment_method_id: str) -> dict:
    """The one method that settles a change: a credit card or a gift card, never a certificate."""
    method = user_method(db, user_id, payment_method_id)
    if method["source"] == "certificate":
        raise ToolCallError("a travel certificate cannot pay for a change; use a credit card or a gift card")
    return method


def record(db: sqlite3.Connection, reservation_id: str, method: dict, amount_cents: int) -> None:
    """Charge (amount > 0) or refund (amount < 0) a method; gift card and certificate balances move."""
    if amount_cents == 0:
        return
    if method["source"] != "credit_card":
        balance = db.execute("SELECT balance_cents FROM payment_methods WHERE payment_method_id = ?",
                             (method["payment_method_id"],)).fetchone()[0]
        if amount_cents > balance:
            raise ToolCallError(f"{method['source'].replace('_', ' ')} {method['payment_method_id']} has a balance "
                                f"of ${dollars(balance):.2f}, not enough to pay ${dollars(amount_cents):.2f}")
        db.execute("UPDATE payment_methods SET balance_cents = balance_cents - ? WHERE payment_method_id = ?",
                   (amount_cents, method["payment_method_id"]))
    seq = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM payments WHERE reservation_id = ?",
                     (reservation_id,)).fetchone()[0]
    db.execute("INSERT INTO payments (reservation_id, seq, kind, payment_method_id, amount_cents) VALUES (?, ?, ?, ?, ?)",
               (reservation_id, seq, "payment" if amount_cents > 0 else "refund", method["payment_method_id"],
                abs(amount_cents)))


def move_seats(db: sqlite3.Connection, flight_number: str, date: str, cabin: str, change: int) -> None:
    """Take (change < 0) or give back (change > 0) seats of a cabin on a flight date."""
    row = fetch_one(db, "SELECT available FROM seats WHERE flight_number = ? AND date = ? AND cabin = ?",
                    flight_number, date, cabin)
    if row is None or row["available"] + change < 0:
        left = 0 if row is None else row["available"]
        raise ToolCallError(f"flight {flight_number} on {date} has {left} {cabin.replace('_', ' ')} seat(s) left, "
                            f"not {-change}")
    assert cabin in CABINS  # a column name
    db.execute(f"UPDATE flight_dates SET {cabin}_seats = {cabin}_seats + ? WHERE flight_number = ? AND date = ?",
               (change, flight_number, date))


def seat_price(db: sqlite3.Connection, flight_number: str, date: str, cabin: str) -> int:
    return db.execute("SELECT price_cents FROM seats WHERE flight_number = ? AND date = ? AND cabin = ?",
                      (flight_number, date, cabin)).fetchone()[0]


def n_passengers(db: sqlite3.Connection, reservation_id: str) -> int:
    return db.execute("SELECT COUNT(*) FROM passengers WHERE reservation_id = ?", (reservation_id,)).fetchone()[0]


def hours_since(created_at: str) -> float:
    from datetime import datetime

    return (NOW - datetime.fromisoformat(created_at)).total_seconds() / 3600


# ---- the tools ---------------------------------------------------------------------------------


@tool
def cancel_reservation(reservation_id: str, reason: CancelReason, *, db: sqlite3.Connection, session: Session) -> dict:
    """Cancel a whole reservation and refund what was paid to the original payment methods.

    Args:
        reservation_id: The reservation id, such as "ZF3Q8B".
        reason: Why the user cancels: "change of plan", "airline cancelled flight", "health", "weather" or "other".
    """
    r = owned_active(db, session, reservation_id)
    rid = r["reservation_id"]
    segs = segments(db, rid)
    require_not_flown(segs, "cancelled")
    airline_cancelled = any(s["status"] == "cancelled" for s in segs)
    if reason == "airline cancelled flight" and not airline_cancelled:
        raise ToolCallError(f"no flight of reservation {rid} was cancelled by the airline")
    allowed = (hours_since(r["created_at"]) <= 24 or airline_cancelled and reason == "airline cancelled flight"
               or r["cabin"] == "business" or (r["insurance"] and reason in COVERED_REASONS))
    if not allowed:
        raise ToolCallError(f"reservation {rid} cannot be cancelled: it was booked more than 24 hours ago, it is "
                            f"{r['cabin'].replace('_', ' ')}, no flight was cancelled by the airline, and "
                            + ("its insurance does not cover the reason " + repr(reason) if r["insurance"]
                               else "it has no travel insurance"))
    net: dict[str, int] = {}
    for p in fetch_all(db, "SELECT * FROM payments WHERE reservation_id = ? ORDER BY seq", rid):
        net[p["payment_method_id"]] = net.get(p["payment_method_id"], 0) + (1 if p["kind"] == "payment" else -1) * p["amount_cents"]
    n = n_passengers(db, rid)
    with db:
        for method_id, paid in net.items():
            if paid > 0:
                record(db, rid, fetch_one(db, "SELECT * FROM payment_methods WHERE payment_method_id = ?", method_id), -paid)
        for s in segs:
            move_seats(db, s["flight_number"], s["date"], r["cabin"], n)
        db.execute("UPDATE reservations SET status = 'cancelled', cancel_reason = ? WHERE reservation_id = ?", (reason, rid))
    return reservation_view(db, rid)


@tool
def update_reservation_flights(reservation_id: str, flights: list[FlightRef], payment_method_id: str,
                               *, db: sqlite3.Connection, session: Session) -> dict:
    """Change the flights of a reservation (not basic economy) to other flights on the same route,
    in the same cabin. The fare difference for all passengers is charged or refunded to the one
    payment method given.

    Args:
        reservation_id: The reservation id, such as "ZF3Q8B".
        flights: Every flight of the reservation after the change, in trip order; unchanged ones too.
        payment_method_id: The credit card or gift card that pays or receives the fare difference.
    """
    r = owned_active(db, session, reservation_id)
    rid, cabin = r["reservation_id"], r["cabin"]
    if cabin == "basic_economy":
        raise ToolCallError("basic economy flights cannot be changed")
    old = segments(db, rid)
    require_not_flown(old, "changed")
    if len(flights) != len(old):
        raise ToolCallError(f"a {r['trip_type'].replace('_', ' ')} reservation has {len(old)} flight(s); list all "
                            f"{len(old)} in trip order, changed or not")
    method = change_payer(db, r["user_id"], payment_method_id)
    n = n_passengers(db, rid)
    new = []
    for seg, ref in zip(old, flights, strict=True):
        day = flight_day(db, ref.flight_number, ref.date)
        if (day["origin"], day["destination"]) != (seg["origin"], seg["destination"]):
            raise ToolCallError(f"flight {day['flight_number']} flies {day['origin']}-{day['destination']}, not "
                                f"{seg['origin']}-{seg['destination']}: changes keep the origin, destination and trip type")
        same = day["flight_number"] == seg["flight_number"] and day["date"] == seg["date"]
        if not same and day["status"] != "scheduled":
            raise ToolCallError(f"flight {day['flight_number']} on {day['date']} is {day['status']} and cannot be booked")
        new.append((seg, day, same))
    if all(same for _, _, same in new):
        raise ToolCallError("these are the reservation's current flights; nothing to change")
    if len(new) == 2 and new[1][1]["date"] < new[0][1]["date"]:
        raise ToolCallError("the return flight cannot be before the outbound flight")
    prices = [seg["price_cents"] if same else seat_price(db, day["flight_number"], day["date"], cabin)
              for seg, day, same in new]
    difference = sum(p - seg["price_cents"] for p, (seg, _, _) in zip(prices, new, strict=True)) * n
    with db:
        for (seg, day, same), price in zip(new, prices, strict=True):
            if same:
                continue
            move_seats(db, day["flight_number"], day["date"], cabin, -n)
            move_seats(db, seg["flight_number"], seg["date"], cabin, n)
            db.execute("UPDATE reservation_flights SET flight_number = ?, date = ?, price_cents = ? "
                       "WHERE reservation_id = ? AND seq = ?", (day["flight_number"], day["date"], price, rid, seg["seq"]))
        record(db, rid, method, difference)
    return reservation_view(db, rid)


@tool
def update_reservation_cabin(reservation_id: str, cabin: Literal["basic_economy", "economy", "business"],
                             payment_method_id: str, *, db: sqlite3.Connection, session: Session) -> dict:
    """Move every flight of a reservation to another cabin at today's fares. The difference for all
    passengers is charged or refunded to the one payment method given.

    Args:
        reservation_id: The reservation id, such as "ZF3Q8B".
        cabin: The new cabin: "basic_economy", "economy" or "business".
        payment_method_id: The credit card or gift card that pays or receives the difference.
    """
    r = owned_active(db, session, reservation_id)
    rid = r["reservation_id"]
    if cabin == r["cabin"]:
        raise ToolCallError(f"reservation {rid} is already in {cabin}")
    segs = segments(db, rid)
    require_not_flown(segs, "changed")
    method = change_payer(db, r["user_id"], payment_method_id)
    n = n_passengers(db, rid)
    prices = [seat_price(db, s["flight_number"], s["date"], cabin) for s in segs]
    difference = sum(p - s["price_cents"] for p, s in zip(prices, segs, strict=True)) * n
    with db:
        for s, price in zip(segs, prices, strict=True):
            move_seats(db, s["flight_number"], s["date"], cabin, -n)
            move_seats(db, s["flight_number"], s["date"], r["cabin"], n)
            db.execute("UPDATE reservation_flights SET price_cents = ? WHERE reservation_id = ? AND seq = ?",
                       (price, rid, s["seq"]))
        db.execute("UPDATE reservations SET cabin = ? WHERE reservation_id = ?", (cabin, rid))
        record(db, rid, method, difference)
    return reservation_view(db, rid)


@tool
def update_reservation_baggages(reservation_id: str, total_baggages: int, payment_method_id: str,
                                *, db: sqlite3.Connection, session: Session) -> dict:
    """Add checked bags to a reservation. Bags beyond the free allowance cost $50 each, charged to
    the one payment method given. Bags cannot be removed.

    Args:
        reservation_id: The reservation id, such as "ZF3Q8B".
        total_baggages: The total number of checked bags after the change (not the number added).
        payment_method_id: The credit card or gift card that pays for extra bags.
    """
    r = owned_active(db, session, reservation_id)
    rid = r["reservation_id"]
    if total_baggages <= r["total_baggages"]:
        raise ToolCallError(f"reservation {rid} already has {r['total_baggages']} checked bag(s); bags can only be "
                            "added, and total_baggages is the total after adding")
    require_not_flown(segments(db, rid), "changed")
    method = change_payer(db, r["user_id"], payment_method_id)
    free = free_bags(load_user(db, r["user_id"])["membership"], r["cabin"], n_passengers(db, rid))
    nonfree = max(r["nonfree_baggages"], total_baggages - free)
    with db:
        record(db, rid, method, (nonfree - r["nonfree_baggages"]) * BAG_FEE_CENTS)
        db.execute("UPDATE reservations SET total_baggages = ?, nonfree_baggages = ? WHERE reservation_id = ?",
                   (total_baggages, nonfree, rid))
    return reservation_view(db, rid)


@tool
def update_reservation_passengers(reservation_id: str, passengers: list[PassengerInfo],
                                  *, db: sqlite3.Connection, session: Session) -> dict:
    """Correct the passengers' details of a reservation; the number of passengers cannot change.

    Args:
        reservation_id: The reservation id, such as "ZF3Q8B".
        passengers: Every passenger after the change, in the reservation's order.
    """
    r = owned_active(db, session, reservation_id)
    rid = r["reservation_id"]
    n = n_passengers(db, rid)
    if len(passengers) != n:
        raise ToolCallError(f"reservation {rid} has {n} passenger(s); the number of passengers cannot change")
    require_not_flown(segments(db, rid), "changed")
    with db:
        for seq, p in enumerate(passengers):
            db.execute("UPDATE passengers SET first_name = ?, last_name = ?, date_of_birth = ? "
                       "WHERE reservation_id = ? AND seq = ?", (p.first_name.strip(), p.last_name.strip(),
                                                                p.date_of_birth.strip(), rid, seq))
    return reservation_view(db, rid)


@tool
def issue_compensation_certificate(reservation_id: str, reason: Literal["cancelled flight", "delayed flight"],
                                   *, db: sqlite3.Connection, session: Session) -> dict:
    """Give the user a travel certificate as compensation for a cancelled or delayed flight of a
    reservation: $100 per passenger for a cancelled flight, $50 per passenger for a delay.

    Args:
        reservation_id: The reservation whose flight was cancelled or delayed.
        reason: "cancelled flight" or "delayed flight".
    """
    r = load_reservation(db, reservation_id)
    rid = r["reservation_id"]
    require_user(session, r["user_id"], f"reservation {rid}")
    membership = load_user(db, r["user_id"])["membership"]
    if membership == "regular" and not r["insurance"] and r["cabin"] != "business":
        raise ToolCallError("not eligible: compensation is only for silver or gold members, reservations with "
                            "travel insurance, or business cabin")
    status = reason.split()[0]
    if not any(s["status"] == status for s in segments(db, rid)):
        raise ToolCallError(f"no flight of reservation {rid} is {status}")
    certificate_id = f"certificate_{rid.lower()}"
    if fetch_one(db, "SELECT 1 AS x FROM payment_methods WHERE payment_method_id = ?", certificate_id):
        raise ToolCallError(f"reservation {rid} was already compensated")
    amount = CERTIFICATE_CENTS[reason] * n_passengers(db, rid)
    with db:
        db.execute("INSERT INTO payment_methods (payment_method_id, user_id, source, balance_cents) "
                   "VALUES (?, ?, 'certificate', ?)", (certificate_id, r["user_id"], amount))
    return {"payment_method_id": certificate_id, "source": "certificate", "balance": dollars(amount)}


WRITE_TOOLS = [cancel_reservation, update_reservation_flights, update_reservation_cabin, update_reservation_baggages,
               update_reservation_passengers, issue_compensation_certificate]
