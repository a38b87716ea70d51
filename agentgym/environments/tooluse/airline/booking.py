"""Booking a new reservation: the write with the most rules (route, seats, price, how to pay).

The new reservation's id comes from the number of reservations, so a replay gives the same id.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agentgym.environments.tooluse.airline.data import AIRPORTS, BAG_FEE_CENTS, INSURANCE_CENTS, NOW
from agentgym.environments.tooluse.airline.tools import (
    Session,
    flight_day,
    free_bags,
    load_user,
    require_user,
    reservation_view,
)
from agentgym.environments.tooluse.airline.writes import (
    FlightRef,
    PassengerInfo,
    move_seats,
    record,
    seat_price,
    user_method,
)
from agentgym.environments.tooluse.tools import dollars
from agentgym.tools import ToolCallError, tool

MAX_PASSENGERS = 5
#: how many methods of each kind one booking may use
PAYMENT_LIMITS = {"credit_card": 1, "gift_card": 3, "certificate": 1}


class PaymentPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_method_id: str
    amount: float


def new_reservation_id(db: sqlite3.Connection) -> str:
    count = db.execute("SELECT COUNT(*) FROM reservations").fetchone()[0]
    return f"N{count + 1:05d}"


def booking_total(fares: list[int], n: int, insurance: bool, nonfree_bags: int) -> int:
    return sum(fares) * n + (INSURANCE_CENTS * n if insurance else 0) + nonfree_bags * BAG_FEE_CENTS


@tool
def book_reservation(
    origin: str, destination: str, trip_type: Literal["one_way", "round_trip"],
    cabin: Literal["basic_economy", "economy", "business"], flights: list[FlightRef],
    passengers: list[PassengerInfo], payment_methods: list[PaymentPart], total_baggages: int, insurance: bool,
    *, db: sqlite3.Connection, session: Session,
) -> dict:
    """Book a new reservation for the authenticated user. The total is every flight's fare in the
    cabin times the passengers, plus $30 per passenger for insurance, plus $50 per checked bag
    beyond the free allowance; the payments must add up to it exactly.

    Args:
        origin: Airport code the trip starts from, such as "JFK".
        destination: Airport code of the trip's destination, such as "LAX".
        trip_type: "one_way" (one flight) or "round_trip" (out and back).
        cabin: "basic_economy", "economy" or "business", the same for every flight.
        flights: The flights in trip order (outbound, then return for a round trip).
        passengers: 1 to 5 passengers.
        payment_methods: The user's methods and the amount each pays (at most one credit card,
            one certificate and three gift cards).
        total_baggages: Checked bags for the whole reservation.
        insurance: Whether to add travel insurance ($30 per passenger).
    """
    user_id = require_user(session)
    origin, destination = origin.strip().upper(), destination.strip().upper()
    if origin not in AIRPORTS or destination not in AIRPORTS or origin == destination:
        raise ToolCallError(f"{origin}-{destination} is not a trip between two of our airports")
    legs = [(origin, destination)] + ([(destination, origin)] if trip_type == "round_trip" else [])
    if len(flights) != len(legs):
        raise ToolCallError(f"a {trip_type.replace('_', ' ')} trip has {len(legs)} flight(s), not {len(flights)}")
    days = []
    for (o, d), ref in zip(legs, flights, strict=True):
        day = flight_day(db, ref.flight_number, ref.date)
        if (day["origin"], day["destination"]) != (o, d):
            raise ToolCallError(f"flight {day['flight_number']} flies {day['origin']}-{day['destination']}, not {o}-{d}")
        if day["status"] != "scheduled" or (day["date"], day["departure_time"]) <= (NOW.date().isoformat(), NOW.strftime("%H:%M")):
            raise ToolCallError(f"flight {day['flight_number']} on {day['date']} is {day['status']} and cannot be booked")
        days.append(day)
    if len(days) == 2 and days[1]["date"] < days[0]["date"]:
        raise ToolCallError("the return flight cannot be before the outbound flight")
    n = len(passengers)
    if not 1 <= n <= MAX_PASSENGERS:
        raise ToolCallError(f"a reservation has 1 to {MAX_PASSENGERS} passengers, not {n}")
    if total_baggages < 0:
        raise ToolCallError("total_baggages cannot be negative")
    membership = load_user(db, user_id)["membership"]
    nonfree = max(0, total_baggages - free_bags(membership, cabin, n))
    fares = [seat_price(db, day["flight_number"], day["date"], cabin) for day in days]
    total = booking_total(fares, n, insurance, nonfree)
    methods = [(user_method(db, user_id, part.payment_method_id), round(part.amount * 100)) for part in payment_methods]
    kinds = Counter(m["source"] for m, _ in methods)
    for kind, limit in PAYMENT_LIMITS.items():
        if kinds[kind] > limit:
            raise ToolCallError(f"a booking can use at most {limit} {kind.replace('_', ' ')}(s)")
    if len({m["payment_method_id"] for m, _ in methods}) != len(methods):
        raise ToolCallError("each payment method can appear only once")
    if any(amount <= 0 for _, amount in methods):
        raise ToolCallError("every payment amount must be positive")
    paid = sum(amount for _, amount in methods)
    if paid != total:
        raise ToolCallError(f"the payments add up to ${dollars(paid):.2f}, but the total is ${dollars(total):.2f}")
    rid = new_reservation_id(db)
    with db:
        db.execute("INSERT INTO reservations (reservation_id, user_id, origin, destination, trip_type, cabin, created_at, "
                   "status, cancel_reason, insurance, total_baggages, nonfree_baggages) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', NULL, ?, ?, ?)",
                   (rid, user_id, origin, destination, trip_type, cabin, NOW.strftime("%Y-%m-%d %H:%M"),
                    int(insurance), total_baggages, nonfree))
        for seq, (day, fare) in enumerate(zip(days, fares, strict=True)):
            move_seats(db, day["flight_number"], day["date"], cabin, -n)
            db.execute("INSERT INTO reservation_flights VALUES (?, ?, ?, ?, ?)",
                       (rid, seq, day["flight_number"], day["date"], fare))
        for seq, p in enumerate(passengers):
            db.execute("INSERT INTO passengers VALUES (?, ?, ?, ?, ?)",
                       (rid, seq, p.first_name.strip(), p.last_name.strip(), p.date_of_birth.strip()))
        for method, amount in methods:
            record(db, rid, method, amount)
    return reservation_view(db, rid)
