"""The airline's database: schema, a seeded generator, and cheap per-episode copies.

The world stands still at `NOW` (the policy tells the agent so): flights before it have flown,
flights after it can be booked unless the airline cancelled them. Flights run every day of
`DATES`; each date has its own status, seats per cabin and prices (one row per flight and date,
read per cabin through the `seats` view). Money is in integer cents.
Every episode gets its own in-memory copy of a template generated once per seed per process.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import string
import threading

from agentgym.environments.tooluse.data import FIRST_NAMES, LAST_NAMES, copy_database

SCHEMA = """
CREATE TABLE users (
    user_id TEXT PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE, date_of_birth TEXT NOT NULL,
    membership TEXT NOT NULL CHECK (membership IN ('regular', 'silver', 'gold'))
);
CREATE TABLE payment_methods (
    payment_method_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users,
    source TEXT NOT NULL CHECK (source IN ('credit_card', 'gift_card', 'certificate')),
    brand TEXT, last_four TEXT, balance_cents INTEGER
);
CREATE TABLE flights (
    flight_number TEXT PRIMARY KEY, origin TEXT NOT NULL, destination TEXT NOT NULL,
    departure_time TEXT NOT NULL, arrival_time TEXT NOT NULL
);
CREATE TABLE flight_dates (
    flight_number TEXT NOT NULL REFERENCES flights, date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('landed', 'flying', 'delayed', 'scheduled', 'cancelled')),
    basic_economy_seats INTEGER NOT NULL, basic_economy_price_cents INTEGER NOT NULL,
    economy_seats INTEGER NOT NULL, economy_price_cents INTEGER NOT NULL,
    business_seats INTEGER NOT NULL, business_price_cents INTEGER NOT NULL,
    PRIMARY KEY (flight_number, date)
);
-- one row per cabin, for reading (a view: snapshots and diffs see only the table)
CREATE VIEW seats (flight_number, date, cabin, available, price_cents) AS
    SELECT flight_number, date, 'basic_economy', basic_economy_seats, basic_economy_price_cents FROM flight_dates
    UNION ALL SELECT flight_number, date, 'economy', economy_seats, economy_price_cents FROM flight_dates
    UNION ALL SELECT flight_number, date, 'business', business_seats, business_price_cents FROM flight_dates;
CREATE TABLE reservations (
    reservation_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users,
    origin TEXT NOT NULL, destination TEXT NOT NULL,
    trip_type TEXT NOT NULL CHECK (trip_type IN ('one_way', 'round_trip')),
    cabin TEXT NOT NULL, created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'cancelled')), cancel_reason TEXT,
    insurance INTEGER NOT NULL, total_baggages INTEGER NOT NULL, nonfree_baggages INTEGER NOT NULL
);
CREATE TABLE reservation_flights (
    reservation_id TEXT NOT NULL REFERENCES reservations, seq INTEGER NOT NULL,
    flight_number TEXT NOT NULL, date TEXT NOT NULL, price_cents INTEGER NOT NULL,
    PRIMARY KEY (reservation_id, seq)
);
CREATE TABLE passengers (
    reservation_id TEXT NOT NULL REFERENCES reservations, seq INTEGER NOT NULL,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, date_of_birth TEXT NOT NULL,
    PRIMARY KEY (reservation_id, seq)
);
CREATE TABLE payments (
    reservation_id TEXT NOT NULL REFERENCES reservations, seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    payment_method_id TEXT NOT NULL REFERENCES payment_methods, amount_cents INTEGER NOT NULL,
    PRIMARY KEY (reservation_id, seq)
);
CREATE TABLE transfers (
    seq INTEGER PRIMARY KEY, user_id TEXT
);
"""

#: the moment the conversation happens (the policy states it)
NOW = dt.datetime(2024, 5, 15, 15, 0)
TODAY = NOW.date().isoformat()
TOMORROW = (NOW.date() + dt.timedelta(days=1)).isoformat()
DATES = [(dt.date(2024, 5, 10) + dt.timedelta(days=i)).isoformat() for i in range(22)]  # May 10-31
CABINS = ("basic_economy", "economy", "business")
MEMBERSHIPS = ("regular", "silver", "gold")
#: free checked bags per passenger, by membership and cabin
FREE_BAGS = {
    "regular": {"basic_economy": 0, "economy": 1, "business": 2},
    "silver": {"basic_economy": 1, "economy": 2, "business": 3},
    "gold": {"basic_economy": 2, "economy": 3, "business": 4},
}
BAG_FEE_CENTS = 5_000
INSURANCE_CENTS = 3_000  # per passenger
CANCEL_REASONS = ("change of plan", "airline cancelled flight", "health", "weather", "other")
#: real airports; flight numbers, times and prices are made up
AIRPORTS = {
    "ATL": "Atlanta", "BOS": "Boston", "DEN": "Denver", "DFW": "Dallas", "JFK": "New York",
    "LAX": "Los Angeles", "MIA": "Miami", "ORD": "Chicago", "PHX": "Phoenix", "SEA": "Seattle",
    "SFO": "San Francisco", "MSP": "Minneapolis",
}
ROUTES = (
    ("BOS", "JFK"), ("BOS", "ORD"), ("JFK", "LAX"), ("JFK", "MIA"), ("ORD", "DEN"), ("DEN", "SEA"),
    ("SFO", "SEA"), ("LAX", "PHX"), ("ATL", "MIA"), ("DFW", "ATL"), ("MSP", "ORD"), ("SFO", "DFW"),
)
N_USERS = 36
CARD_BRANDS = ("visa", "mastercard", "amex")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _insert(db: sqlite3.Connection, table: str, row: dict) -> None:
    db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
               tuple(row.values()))


def _make_flights(db: sqlite3.Connection, rng: random.Random) -> dict[tuple[str, str], list[dict]]:
    """Two flights a day each way on every route, each date with its status, seats and prices."""
    by_route: dict[tuple[str, str], list[dict]] = {}
    numbers = iter(rng.sample(range(100, 1000), 4 * len(ROUTES)))
    for a, b in ROUTES:
        economy = rng.randint(9, 38) * 1000  # a route's usual economy fare
        hours = rng.randint(1, 5)
        for origin, destination in ((a, b), (b, a)):
            for depart_hour in sorted(rng.sample(range(6, 21), 2)):
                depart = dt.datetime(2024, 1, 1, depart_hour, rng.choice((0, 15, 30, 45)))
                arrive = min(depart + dt.timedelta(hours=hours, minutes=rng.choice((0, 20, 40))),
                             dt.datetime(2024, 1, 1, 23, 55))
                flight = {"flight_number": f"AG{next(numbers)}", "origin": origin, "destination": destination,
                          "departure_time": depart.strftime("%H:%M"), "arrival_time": arrive.strftime("%H:%M")}
                _insert(db, "flights", flight)
                by_route.setdefault((origin, destination), []).append(flight)
                for date in DATES:
                    factor = rng.uniform(0.75, 1.45)
                    fares = {"basic_economy": economy * 0.7, "economy": economy, "business": economy * 2.8}
                    limits = {"basic_economy": 12, "economy": 24, "business": 8}
                    row = {"flight_number": flight["flight_number"], "date": date, "status": _status(rng, date, flight)}
                    for cabin in CABINS:
                        row[f"{cabin}_seats"] = rng.randint(1, limits[cabin]) if rng.random() < 0.9 else 0
                        row[f"{cabin}_price_cents"] = int(fares[cabin] * factor) // 100 * 100
                    _insert(db, "flight_dates", row)
    return by_route


def _status(rng: random.Random, date: str, flight: dict) -> str:
    if date < TODAY:
        return "landed"
    if date == TODAY:
        now = NOW.strftime("%H:%M")
        if flight["departure_time"] < now:
            return "landed" if flight["arrival_time"] < now else "flying"
        return "delayed" if rng.random() < 0.5 else "scheduled"
    if date == TOMORROW:
        return "delayed" if rng.random() < 0.3 else "scheduled"
    return "cancelled" if rng.random() < 0.08 else "scheduled"


def _make_user(db: sqlite3.Connection, rng: random.Random, taken: set[str]) -> dict:
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        user_id = f"{first.lower()}_{last.lower()}_{_digits(rng, 4)}"
        if user_id not in taken:
            break
    taken.add(user_id)
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 20000))
    user = {"user_id": user_id, "first_name": first, "last_name": last,
            "email": f"{first.lower()}.{last.lower()}{_digits(rng, 3)}@example.com",
            "date_of_birth": born.isoformat(), "membership": rng.choices(MEMBERSHIPS, (0.5, 0.3, 0.2))[0]}
    _insert(db, "users", user)
    kinds = ["credit_card"] + (["credit_card"] if rng.random() < 0.2 else [])
    kinds += ["gift_card"] if rng.random() < 0.55 else []
    kinds += ["certificate"] if rng.random() < 0.35 else []
    for kind in kinds:
        row = {"payment_method_id": f"{kind}_{_digits(rng, 7)}", "user_id": user_id, "source": kind,
               "brand": None, "last_four": None, "balance_cents": None}
        if kind == "credit_card":
            row.update(brand=rng.choice(CARD_BRANDS), last_four=_digits(rng, 4))
        elif kind == "gift_card":
            row["balance_cents"] = rng.randint(20, 600) * 100 + rng.choice((0, 0, 25, 50))
        else:
            row["balance_cents"] = rng.choice((50, 100, 150, 200, 250)) * 100
        _insert(db, "payment_methods", row)
    return user


def _reservation_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        rid = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        if rid not in taken and not rid.isdigit():
            taken.add(rid)
            return rid


def _make_reservation(db, rng: random.Random, user: dict, by_route, ids: set[str]) -> None:
    origin, destination = rng.choice(sorted(by_route))
    trip = "round_trip" if rng.random() < 0.5 else "one_way"
    cabin = rng.choices(CABINS, (0.3, 0.5, 0.2))[0]
    recent = rng.random() < 0.15  # booked within the last day: outbound in the future
    first_day = DATES.index(TODAY) + 1 if recent else 0
    out_index = rng.randint(first_day, len(DATES) - 3)
    if rng.random() < 0.15:
        out_index = DATES.index(TODAY) + rng.randint(0, 1)  # some trips leave today or tomorrow (delays)
    legs = [(origin, destination, DATES[out_index])]
    if trip == "round_trip":
        legs.append((destination, origin, DATES[min(len(DATES) - 1, out_index + rng.randint(1, 5))]))
    rid = _reservation_id(rng, ids)
    flight_rows = []
    for seq, (o, d, date) in enumerate(legs):
        flight = rng.choice(by_route[(o, d)])
        price = db.execute("SELECT price_cents FROM seats WHERE flight_number = ? AND date = ? AND cabin = ?",
                           (flight["flight_number"], date, cabin)).fetchone()[0]
        flight_rows.append({"reservation_id": rid, "seq": seq, "flight_number": flight["flight_number"],
                            "date": date, "price_cents": price})
    if recent:
        created = NOW - dt.timedelta(hours=rng.randint(1, 20), minutes=rng.randint(0, 59))
    else:
        departs = dt.datetime.fromisoformat(legs[0][2])
        created = min(departs, NOW) - dt.timedelta(days=rng.randint(2, 40), hours=rng.randint(0, 23))
    n = rng.choices((1, 2, 3), (0.55, 0.3, 0.15))[0]
    people = [(user["first_name"], user["last_name"], user["date_of_birth"])] if rng.random() < 0.8 else []
    while len(people) < n:
        born = dt.date(1945, 1, 1) + dt.timedelta(days=rng.randint(0, 28000))
        people.append((rng.choice(FIRST_NAMES), rng.choice((user["last_name"], rng.choice(LAST_NAMES))),
                       born.isoformat()))
    insurance = int(rng.random() < 0.3)
    free = FREE_BAGS[user["membership"]][cabin] * n
    total_bags = rng.randint(0, free + 2)
    nonfree = max(0, total_bags - free)
    total = sum(f["price_cents"] for f in flight_rows) * n + insurance * INSURANCE_CENTS * n + nonfree * BAG_FEE_CENTS
    cancelled = rng.random() < 0.06 and not recent
    _insert(db, "reservations", {
        "reservation_id": rid, "user_id": user["user_id"], "origin": origin, "destination": destination,
        "trip_type": trip, "cabin": cabin, "created_at": created.strftime("%Y-%m-%d %H:%M"),
        "status": "cancelled" if cancelled else "active",
        "cancel_reason": "change of plan" if cancelled else None, "insurance": insurance,
        "total_baggages": total_bags, "nonfree_baggages": nonfree,
    })
    for row in flight_rows:
        _insert(db, "reservation_flights", row)
    for seq, (first, last, born) in enumerate(people):
        _insert(db, "passengers", {"reservation_id": rid, "seq": seq, "first_name": first,
                                   "last_name": last, "date_of_birth": born})
    for seq, (method_id, amount) in enumerate(_pay(db, rng, user["user_id"], total)):
        _insert(db, "payments", {"reservation_id": rid, "seq": seq, "kind": "payment",
                                 "payment_method_id": method_id, "amount_cents": amount})
    if cancelled:
        paid = db.execute("SELECT payment_method_id, amount_cents FROM payments WHERE reservation_id = ? "
                          "ORDER BY seq", (rid,)).fetchall()
        for seq, (method_id, amount) in enumerate(paid, start=len(paid)):
            _insert(db, "payments", {"reservation_id": rid, "seq": seq, "kind": "refund",
                                     "payment_method_id": method_id, "amount_cents": amount})


def _pay(db: sqlite3.Connection, rng: random.Random, user_id: str, total: int) -> list[tuple[str, int]]:
    """How a seeded booking was paid: a card, a gift card, or a certificate topped up by a card."""
    methods = {source: [(m, b) for m, s, b in db.execute(
        "SELECT payment_method_id, source, balance_cents FROM payment_methods WHERE user_id = ? "
        "ORDER BY payment_method_id", (user_id,)) if s == source] for source in ("credit_card", "gift_card", "certificate")}
    card = rng.choice(methods["credit_card"])[0]
    roll = rng.random()
    if methods["certificate"] and roll < 0.3 and methods["certificate"][0][1] < total:
        certificate, balance = methods["certificate"][0]
        used = min(balance, rng.choice((50, 100)) * 100)
        db.execute("UPDATE payment_methods SET balance_cents = balance_cents - ? WHERE payment_method_id = ?",
                   (used, certificate))
        return [(certificate, used), (card, total - used)] if used else [(card, total)]
    if methods["gift_card"] and roll > 0.75:
        return [(methods["gift_card"][0][0], total)]
    return [(card, total)]


def build_database(seed: int) -> sqlite3.Connection:
    """A new in-memory airline generated from `seed` (same seed, same rows)."""
    rng = random.Random(f"airline-db-{seed}")
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.executescript(SCHEMA)
    by_route = _make_flights(db, rng)
    taken: set[str] = set()
    reservation_ids: set[str] = set()
    for _ in range(N_USERS):
        user = _make_user(db, rng, taken)
        for _ in range(rng.randint(2, 5)):
            _make_reservation(db, rng, user, by_route, reservation_ids)
    db.commit()
    return db


_templates: dict[int, sqlite3.Connection] = {}
_templates_lock = threading.Lock()


def fresh_database(seed: int) -> sqlite3.Connection:
    """A private copy of the airline for `seed`; the template is generated once per process."""
    with _templates_lock:  # one lock also serialises backups that read the shared template
        if seed not in _templates:
            _templates[seed] = build_database(seed)
        return copy_database(_templates[seed])
