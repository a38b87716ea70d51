"""One user of one airline database, as the task generator sees them: queries for the request
makers (`requests.py`), the user's opening, and the working copy each request is applied to."""

from __future__ import annotations

import random
import sqlite3
from typing import Any

from agentgym.core.types import Action
from agentgym.environments.tooluse.airline.data import AIRPORTS, TODAY
from agentgym.environments.tooluse.airline.tools import Session, passengers, segments
from agentgym.environments.tooluse.airline.toolset import run_call_sync
from agentgym.environments.tooluse.airline.writes import hours_since
from agentgym.environments.tooluse.drafting import NoCandidate
from agentgym.environments.tooluse.levels import Maker, Request
from agentgym.environments.tooluse.tools import fetch_all, fetch_one

CABIN_WORDS = {"basic_economy": "basic economy", "economy": "economy", "business": "business"}
DOB_QUESTION = "Could you tell me your date of birth, so that I can authenticate you?"


def place(code: str) -> str:
    return f"{AIRPORTS[code]} ({code})"


def method_text(m: dict[str, Any]) -> str:
    if m["source"] == "credit_card":
        return f"{m['brand'].title()} credit card ending in {m['last_four']}"
    return "gift card" if m["source"] == "gift_card" else "travel certificate"


class AirlineBench:
    """Requests for `user_id` on a working copy `db`; `taken` holds reservations already used by
    the generator (shared across the tasks of one seed, so tasks differ)."""

    def __init__(self, db: sqlite3.Connection, rng: random.Random, user_id: str, taken: set[str]):
        self.db, self.rng, self.taken = db, rng, taken
        self.user = fetch_one(db, "SELECT * FROM users WHERE user_id = ?", user_id)
        self.session = Session(user_id)

    # ---- the Workbench protocol ----------------------------------------------------------------

    def opening(self) -> tuple[str, list[Action], dict[str, str]]:
        u = self.user
        hello = f"Hi, I'm {u['first_name']} {u['last_name']}, user id {u['user_id']}."
        auth = [Action(content=DOB_QUESTION), _call("authenticate_user", user_id=u["user_id"],
                                                   date_of_birth=u["date_of_birth"])]
        return hello, auth, {"date of birth": u["date_of_birth"]}

    def makers(self, category: str) -> dict[str, Maker]:
        from agentgym.environments.tooluse.airline.requests import KINDS

        return {kind: (lambda fn=fn: fn(self)) for kind, (fn, categories) in KINDS.items() if category in categories}

    def apply(self, request: Request) -> None:
        for action in request.steps:
            for call in action.tool_calls:
                _, error = run_call_sync(call, self.db, self.session)
                if error:
                    raise RuntimeError(f"the reference of a {request.kind} request fails at {call.name}: {error}")

    # ---- queries -------------------------------------------------------------------------------

    def reservations(self, where: str = "1", *params: Any) -> list[dict]:
        """The user's active reservations not used yet, with their segments and passengers."""
        rows = fetch_all(self.db, f"SELECT * FROM reservations WHERE user_id = ? AND status = 'active' AND {where} "
                                  "ORDER BY reservation_id", self.user["user_id"], *params)
        out = []
        for r in rows:
            if r["reservation_id"] in self.taken:
                continue
            r["segments"] = segments(self.db, r["reservation_id"])
            r["passengers"] = passengers(self.db, r["reservation_id"])
            r["flown"] = any(s["status"] in ("landed", "flying") for s in r["segments"])
            r["recent"] = hours_since(r["created_at"]) <= 24
            out.append(r)
        return out

    def take(self, rows: list[dict]) -> dict:
        if not rows:
            raise NoCandidate
        row = self.rng.choice(rows)
        self.taken.add(row["reservation_id"])
        return row

    def methods(self, source: str | None = None) -> list[dict]:
        rows = fetch_all(self.db, "SELECT * FROM payment_methods WHERE user_id = ? ORDER BY payment_method_id",
                         self.user["user_id"])
        return [m for m in rows if source is None or m["source"] == source]

    def payer(self, charge_cents: int) -> dict:
        """A credit card, or now and then a gift card that can pay `charge_cents`."""
        cards = [m for m in self.methods("gift_card") if m["balance_cents"] >= charge_cents]
        if cards and self.rng.random() < 0.35:
            return self.rng.choice(cards)
        return self.rng.choice(self.methods("credit_card"))

    def bookable(self, origin: str, destination: str, date: str, cabin: str, seats: int) -> list[dict]:
        """Flights on the route and date that can be booked in `cabin` for `seats` passengers."""
        return fetch_all(self.db, "SELECT f.flight_number, s.price_cents FROM flights f "
                                  "JOIN flight_dates fd USING (flight_number) JOIN seats s ON s.flight_number = "
                                  "f.flight_number AND s.date = fd.date WHERE f.origin = ? AND f.destination = ? "
                                  "AND fd.date = ? AND fd.status = 'scheduled' AND s.cabin = ? AND s.available >= ? "
                                  "AND fd.date > ? ORDER BY f.flight_number",
                         origin, destination, date, cabin, seats, TODAY)

    def compensated(self, reservation_id: str) -> bool:
        return fetch_one(self.db, "SELECT 1 AS x FROM payment_methods WHERE payment_method_id = ?",
                         f"certificate_{reservation_id.lower()}") is not None

    def net_paid(self, reservation_id: str) -> int:
        return sum((1 if p["kind"] == "payment" else -1) * p["amount_cents"] for p in fetch_all(
            self.db, "SELECT kind, amount_cents FROM payments WHERE reservation_id = ?", reservation_id))


def _call(name: str, **arguments: Any) -> Action:
    request = Request("", "")
    request.call(name, **arguments)
    return request.steps[0]
