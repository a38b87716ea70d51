"""Look-up tools of the airline, and the helpers the write tools share.

Every tool takes the episode's database (and session) as keyword-only arguments that the env
binds; the agent sees only the other parameters. A user's profile and reservations are shown
only to the agent that authenticated that user (user id and date of birth). Money goes out in
dollars and is kept in cents.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from agentgym.environments.tooluse.airline.data import AIRPORTS, FREE_BAGS
from agentgym.environments.tooluse.tools import dollars, fetch_all, fetch_one
from agentgym.tools import ToolCallError, tool


@dataclass
class Session:
    """Who the agent has authenticated in this episode (set by `authenticate_user`)."""

    user_id: str | None = None


def require_user(session: Session, owner_id: str | None = None, what: str = "") -> str:
    """The authenticated user's id; with `owner_id`, also that the record is theirs."""
    if session.user_id is None:
        raise ToolCallError("the user is not authenticated: call authenticate_user with their user id "
                            "and date of birth first")
    if owner_id is not None and owner_id != session.user_id:
        raise ToolCallError(f"{what} does not belong to the authenticated user {session.user_id}")
    return session.user_id


def load_user(db: sqlite3.Connection, user_id: str) -> dict[str, Any]:
    user = fetch_one(db, "SELECT * FROM users WHERE user_id = ?", user_id)
    if user is None:
        raise ToolCallError(f"user {user_id!r} not found")
    return user


def load_reservation(db: sqlite3.Connection, reservation_id: str) -> dict[str, Any]:
    reservation = fetch_one(db, "SELECT * FROM reservations WHERE reservation_id = ?", reservation_id.strip().upper())
    if reservation is None:
        raise ToolCallError(f"reservation {reservation_id!r} not found (reservation ids look like 'ZF3Q8B')")
    return reservation


def segments(db: sqlite3.Connection, reservation_id: str) -> list[dict[str, Any]]:
    """The reservation's flights, in order, with origin, destination and today's status."""
    return fetch_all(
        db, "SELECT rf.seq, rf.flight_number, rf.date, rf.price_cents, f.origin, f.destination, fd.status "
            "FROM reservation_flights rf JOIN flights f USING (flight_number) "
            "JOIN flight_dates fd ON fd.flight_number = rf.flight_number AND fd.date = rf.date "
            "WHERE rf.reservation_id = ? ORDER BY rf.seq", reservation_id)


def passengers(db: sqlite3.Connection, reservation_id: str) -> list[dict[str, Any]]:
    return fetch_all(db, "SELECT first_name, last_name, date_of_birth FROM passengers WHERE reservation_id = ? "
                         "ORDER BY seq", reservation_id)


def free_bags(membership: str, cabin: str, n_passengers: int) -> int:
    return FREE_BAGS[membership][cabin] * n_passengers


def describe_method(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"source": m["source"]}
    if m["source"] == "credit_card":
        out.update(brand=m["brand"], last_four=m["last_four"])
    else:
        out["balance"] = dollars(m["balance_cents"])
    return out


def reservation_view(db: sqlite3.Connection, reservation_id: str) -> dict[str, Any]:
    """A reservation as the agent sees it."""
    r = load_reservation(db, reservation_id)
    rid = r["reservation_id"]
    view: dict[str, Any] = {
        "reservation_id": rid, "user_id": r["user_id"], "status": r["status"],
        "origin": r["origin"], "destination": r["destination"], "trip_type": r["trip_type"],
        "cabin": r["cabin"], "created_at": r["created_at"], "insurance": bool(r["insurance"]),
        "total_baggages": r["total_baggages"], "nonfree_baggages": r["nonfree_baggages"],
        "flights": [{"flight_number": s["flight_number"], "origin": s["origin"], "destination": s["destination"],
                     "date": s["date"], "status": s["status"], "price": dollars(s["price_cents"])}
                    for s in segments(db, rid)],
        "passengers": passengers(db, rid),
        "payment_history": [
            {"transaction_type": p["kind"], "payment_method_id": p["payment_method_id"],
             "amount": dollars(p["amount_cents"])}
            for p in fetch_all(db, "SELECT * FROM payments WHERE reservation_id = ? ORDER BY seq", rid)
        ],
    }
    if r["cancel_reason"]:
        view["cancel_reason"] = r["cancel_reason"]
    return view


def flight_day(db: sqlite3.Connection, flight_number: str, date: str) -> dict[str, Any]:
    row = fetch_one(db, "SELECT f.*, fd.date, fd.status FROM flights f JOIN flight_dates fd USING (flight_number) "
                        "WHERE f.flight_number = ? AND fd.date = ?", flight_number.strip().upper(), date.strip())
    if row is None:
        raise ToolCallError(f"flight {flight_number} does not fly on {date!r} (dates look like '2024-05-20')")
    return row


def cabin_offer(db: sqlite3.Connection, flight_number: str, date: str) -> dict[str, Any]:
    rows = fetch_all(db, "SELECT cabin, available, price_cents FROM seats WHERE flight_number = ? AND date = ?",
                     flight_number, date)
    return {r["cabin"]: {"available_seats": r["available"], "price": dollars(r["price_cents"])} for r in rows}


# ---- look-ups ----------------------------------------------------------------------------------


@tool
def authenticate_user(user_id: str, date_of_birth: str, *, db: sqlite3.Connection, session: Session) -> str:
    """Authenticate the user you are talking to by their user id and date of birth.

    Args:
        user_id: The user's id, such as "mina_ito_1234".
        date_of_birth: The user's date of birth as YYYY-MM-DD, such as "1987-04-12".
    """
    user = fetch_one(db, "SELECT * FROM users WHERE user_id = ?", user_id.strip())
    if user is None or user["date_of_birth"] != date_of_birth.strip():
        raise ToolCallError("no user with that user id and date of birth")
    session.user_id = user["user_id"]
    return f"authenticated {user['user_id']}"


@tool
def get_user_details(user_id: str, *, db: sqlite3.Connection, session: Session) -> dict:
    """Get the authenticated user's profile: name, membership, payment methods, reservation ids.

    Args:
        user_id: The authenticated user's id.
    """
    user = load_user(db, user_id.strip())
    require_user(session, user["user_id"], f"user {user_id}")
    methods = fetch_all(db, "SELECT * FROM payment_methods WHERE user_id = ? ORDER BY payment_method_id", user["user_id"])
    reservations = fetch_all(db, "SELECT reservation_id FROM reservations WHERE user_id = ? ORDER BY reservation_id",
                             user["user_id"])
    return {
        "user_id": user["user_id"], "name": f"{user['first_name']} {user['last_name']}", "email": user["email"],
        "date_of_birth": user["date_of_birth"], "membership": user["membership"],
        "payment_methods": {m["payment_method_id"]: describe_method(m) for m in methods},
        "reservations": [r["reservation_id"] for r in reservations],
    }


@tool
def get_reservation_details(reservation_id: str, *, db: sqlite3.Connection, session: Session) -> dict:
    """Get a reservation of the authenticated user: flights (with today's status), cabin,
    passengers, baggage, insurance and payment history.

    Args:
        reservation_id: The reservation id, such as "ZF3Q8B".
    """
    reservation = load_reservation(db, reservation_id)
    require_user(session, reservation["user_id"], f"reservation {reservation['reservation_id']}")
    return reservation_view(db, reservation["reservation_id"])


@tool
def search_direct_flights(origin: str, destination: str, date: str, *, db: sqlite3.Connection) -> list:
    """Find the direct flights between two airports on a date, with status, seats and price per cabin.

    Args:
        origin: Airport code of departure, such as "JFK".
        destination: Airport code of arrival, such as "LAX".
        date: The date as YYYY-MM-DD, such as "2024-05-20".
    """
    origin, destination = origin.strip().upper(), destination.strip().upper()
    for code in (origin, destination):
        if code not in AIRPORTS:
            raise ToolCallError(f"unknown airport {code!r}; list_airports gives the codes")
    rows = fetch_all(db, "SELECT f.*, fd.date, fd.status FROM flights f JOIN flight_dates fd USING (flight_number) "
                         "WHERE f.origin = ? AND f.destination = ? AND fd.date = ? ORDER BY f.departure_time",
                     origin, destination, date.strip())
    return [{"flight_number": r["flight_number"], "origin": origin, "destination": destination, "date": r["date"],
             "departure_time": r["departure_time"], "arrival_time": r["arrival_time"], "status": r["status"],
             "cabins": cabin_offer(db, r["flight_number"], r["date"])} for r in rows]


@tool
def get_flight_status(flight_number: str, date: str, *, db: sqlite3.Connection) -> dict:
    """Get a flight's status on a date: landed, flying, delayed, scheduled or cancelled.

    Args:
        flight_number: The flight number, such as "AG123".
        date: The date as YYYY-MM-DD, such as "2024-05-20".
    """
    row = flight_day(db, flight_number, date)
    return {"flight_number": row["flight_number"], "date": row["date"], "status": row["status"],
            "origin": row["origin"], "destination": row["destination"],
            "departure_time": row["departure_time"], "arrival_time": row["arrival_time"]}


@tool
def list_airports() -> dict:
    """List the airports the airline flies to, as {code: city}."""
    return dict(AIRPORTS)


@tool
def transfer_to_human_agents(summary: str, *, db: sqlite3.Connection, session: Session) -> str:
    """Hand the authenticated user over to a human agent, with a summary of their issue. This ends
    the conversation. Only do this when the user asks for a human and the policy allows it.

    Args:
        summary: A short summary of the user's issue.
    """
    seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM transfers").fetchone()[0]
    with db:  # recorded, so a transfer the task did not call for is a difference like any write
        db.execute("INSERT INTO transfers (seq, user_id) VALUES (?, ?)", (seq, session.user_id))
    return "Transfer successful"


LOOKUP_TOOLS = [authenticate_user, get_user_details, get_reservation_details, search_direct_flights,
                get_flight_status, list_airports]
