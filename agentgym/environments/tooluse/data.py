"""The retail store's database: schema, a seeded generator, and cheap per-episode copies.

Every episode gets its own in-memory SQLite database, copied with `Connection.backup` from a
template that is generated once per seed per process, so concurrent episodes never share state.
Money is stored in integer cents so that writes are exact and replays give identical databases.
"""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
import threading

SCHEMA = """
CREATE TABLE users (
    user_id TEXT PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE, address1 TEXT NOT NULL, address2 TEXT NOT NULL,
    city TEXT NOT NULL, state TEXT NOT NULL, country TEXT NOT NULL, zip TEXT NOT NULL
);
CREATE TABLE payment_methods (
    payment_method_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users,
    source TEXT NOT NULL CHECK (source IN ('credit_card', 'gift_card', 'paypal')),
    brand TEXT, last_four TEXT, balance_cents INTEGER
);
CREATE TABLE products (product_id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE items (
    item_id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products,
    options TEXT NOT NULL, price_cents INTEGER NOT NULL, available INTEGER NOT NULL
);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users, status TEXT NOT NULL,
    address1 TEXT NOT NULL, address2 TEXT NOT NULL, city TEXT NOT NULL, state TEXT NOT NULL,
    country TEXT NOT NULL, zip TEXT NOT NULL, cancel_reason TEXT
);
CREATE TABLE order_items (
    order_id TEXT NOT NULL REFERENCES orders, line INTEGER NOT NULL,
    item_id TEXT NOT NULL REFERENCES items, product_id TEXT NOT NULL REFERENCES products,
    price_cents INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'ordered', exchange_item_id TEXT,
    PRIMARY KEY (order_id, line)
);
CREATE TABLE payments (
    order_id TEXT NOT NULL REFERENCES orders, seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    payment_method_id TEXT NOT NULL REFERENCES payment_methods, amount_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, seq)
);
"""

ADDRESS_FIELDS = ("address1", "address2", "city", "state", "country", "zip")

FIRST_NAMES = (
    "Amara", "Bruno", "Chen", "Dalia", "Emil", "Farah", "Gideon", "Hana", "Ivo", "Jonah", "Kira",
    "Lars", "Mina", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tala", "Umar", "Vera",
    "Wren", "Xavi", "Yara", "Zane",
)
LAST_NAMES = (
    "Abbott", "Barros", "Castillo", "Dubois", "Eriksen", "Fontaine", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
    "Santos", "Tanaka", "Ueda", "Varga", "Weber", "Young",
)
STREETS = ("Maple", "Cedar", "Harbor", "Willow", "Sunset", "Granite", "Juniper", "Lake", "Orchard", "Ridge")
STREET_KINDS = ("Street", "Avenue", "Road", "Lane", "Drive")
# (city, state, zip prefix): places are real, street addresses are made up
CITIES = (
    ("Portland", "OR", "972"), ("Austin", "TX", "787"), ("Denver", "CO", "802"),
    ("Columbus", "OH", "432"), ("Madison", "WI", "537"), ("Raleigh", "NC", "276"),
    ("Phoenix", "AZ", "850"), ("Boston", "MA", "021"), ("Seattle", "WA", "981"),
    ("Nashville", "TN", "372"),
)
CARD_BRANDS = ("visa", "mastercard", "amex")

# product name -> option name -> possible values
CATALOG: dict[str, dict[str, tuple[str, ...]]] = {
    "T-Shirt": {"color": ("black", "white", "navy", "red"), "size": ("S", "M", "L", "XL")},
    "Running Shoes": {"color": ("grey", "blue", "black"), "size": ("8", "9", "10", "11")},
    "Backpack": {"color": ("black", "olive", "grey"), "capacity": ("20L", "30L", "40L")},
    "Water Bottle": {"capacity": ("500ml", "750ml", "1000ml"), "material": ("steel", "plastic", "glass")},
    "Desk Lamp": {"color": ("white", "black", "brass"), "bulb": ("LED", "halogen")},
    "Headphones": {"color": ("black", "white", "blue"), "connectivity": ("wired", "wireless")},
    "Coffee Maker": {"capacity": ("4 cups", "8 cups", "12 cups"), "type": ("drip", "espresso")},
    "Yoga Mat": {"thickness": ("4mm", "6mm", "8mm"), "color": ("green", "purple", "blue")},
    "Wall Clock": {"style": ("modern", "vintage", "minimal"), "diameter": ("25cm", "35cm")},
    "Notebook": {"pages": ("120", "200"), "cover": ("hard", "soft", "leather")},
    "Sunglasses": {"frame": ("metal", "plastic"), "lens": ("polarized", "tinted", "mirrored")},
    "Bluetooth Speaker": {"color": ("black", "red", "teal"), "battery": ("10h", "20h")},
}

N_USERS = 30
ORDER_STATUSES = ("pending", "processed", "delivered", "cancelled")
STATUS_WEIGHTS = (0.32, 0.18, 0.40, 0.10)
CANCEL_REASONS = ("no longer needed", "ordered by mistake")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def random_address(rng: random.Random) -> dict[str, str]:
    city, state, zip_prefix = rng.choice(CITIES)
    unit = f"Apt {rng.randint(1, 40)}" if rng.random() < 0.5 else ""
    return {
        "address1": f"{rng.randint(10, 999)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}",
        "address2": unit, "city": city, "state": state, "country": "USA",
        "zip": zip_prefix + _digits(rng, 2),
    }


def _insert(db: sqlite3.Connection, table: str, row: dict) -> None:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values()))


def _make_catalog(db: sqlite3.Connection, rng: random.Random) -> dict[str, list[dict]]:
    """Products with 4-8 variants each; some variants unavailable, at least two available."""
    variants_by_product: dict[str, list[dict]] = {}
    used_ids: set[str] = set()
    for name, options in CATALOG.items():
        product_id = _digits(rng, 10)
        _insert(db, "products", {"product_id": product_id, "name": name})
        combos = list(itertools.product(*options.values()))
        rng.shuffle(combos)
        base = rng.randint(15, 250) * 100
        variants = []
        for i, combo in enumerate(combos[: rng.randint(4, min(8, len(combos)))]):
            item_id = _digits(rng, 10)
            while item_id in used_ids:
                item_id = _digits(rng, 10)
            used_ids.add(item_id)
            row = {
                "item_id": item_id, "product_id": product_id,
                "options": json.dumps(dict(zip(options, combo, strict=True)), sort_keys=True),
                "price_cents": base + rng.randint(-900, 2500) + rng.choice((0, 50, 99)),
                "available": 1 if i < 2 or rng.random() < 0.7 else 0,
            }
            _insert(db, "items", row)
            variants.append(row)
        variants_by_product[product_id] = variants
    return variants_by_product


def _make_user(db: sqlite3.Connection, rng: random.Random, taken: set) -> tuple[dict, list[dict]]:
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        address = random_address(rng)
        if (first, last, address["zip"]) not in taken:
            break
    taken.add((first, last, address["zip"]))
    user_id = f"{first.lower()}_{last.lower()}_{_digits(rng, 4)}"
    email = f"{first.lower()}.{last.lower()}{_digits(rng, 3)}@example.com"
    _insert(db, "users", {"user_id": user_id, "first_name": first, "last_name": last, "email": email, **address})
    methods = []
    kinds = ["credit_card"] if rng.random() < 0.8 else ["paypal"]
    if rng.random() < 0.55:
        kinds.append("gift_card")
    if rng.random() < 0.25:
        kinds.append("paypal" if kinds[0] == "credit_card" else "credit_card")
    for kind in kinds:
        row = {"payment_method_id": f"{kind}_{_digits(rng, 7)}", "user_id": user_id, "source": kind,
               "brand": None, "last_four": None, "balance_cents": None}
        if kind == "credit_card":
            row.update(brand=rng.choice(CARD_BRANDS), last_four=_digits(rng, 4))
        elif kind == "gift_card":
            row["balance_cents"] = rng.randint(0, 400) * 100 + rng.choice((0, 25, 50))
        _insert(db, "payment_methods", row)
        methods.append(row)
    return {"user_id": user_id, **address}, methods


def _make_orders(db, rng, user, methods, variants_by_product, order_ids: set) -> None:
    for _ in range(rng.randint(1, 4)):
        order_id = "#W" + _digits(rng, 7)
        while order_id in order_ids:
            order_id = "#W" + _digits(rng, 7)
        order_ids.add(order_id)
        status = rng.choices(ORDER_STATUSES, STATUS_WEIGHTS)[0]
        ship_to = {k: user[k] for k in ADDRESS_FIELDS} if rng.random() < 0.85 else random_address(rng)
        _insert(db, "orders", {
            "order_id": order_id, "user_id": user["user_id"], "status": status, **ship_to,
            "cancel_reason": rng.choice(CANCEL_REASONS) if status == "cancelled" else None,
        })
        total = 0
        for line, product_id in enumerate(rng.sample(sorted(variants_by_product), rng.randint(1, 4))):
            item = rng.choice(variants_by_product[product_id])
            total += item["price_cents"]
            _insert(db, "order_items", {
                "order_id": order_id, "line": line, "item_id": item["item_id"],
                "product_id": product_id, "price_cents": item["price_cents"],
            })
        payer = rng.choice([m for m in methods if m["source"] != "gift_card"] or methods)
        _insert(db, "payments", {"order_id": order_id, "seq": 0, "kind": "payment",
                                 "payment_method_id": payer["payment_method_id"], "amount_cents": total})
        if status == "cancelled":
            _insert(db, "payments", {"order_id": order_id, "seq": 1, "kind": "refund",
                                     "payment_method_id": payer["payment_method_id"], "amount_cents": total})


def build_database(seed: int) -> sqlite3.Connection:
    """A new in-memory store generated from `seed` (same seed, same rows)."""
    rng = random.Random(f"retail-db-{seed}")
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.executescript(SCHEMA)
    variants_by_product = _make_catalog(db, rng)
    taken: set = set()
    order_ids: set[str] = set()
    for _ in range(N_USERS):
        user, methods = _make_user(db, rng, taken)
        _make_orders(db, rng, user, methods, variants_by_product, order_ids)
    db.commit()
    return db


_templates: dict[int, sqlite3.Connection] = {}
_templates_lock = threading.Lock()


def copy_database(source: sqlite3.Connection) -> sqlite3.Connection:
    """An independent in-memory copy of `source`."""
    db = sqlite3.connect(":memory:", check_same_thread=False)
    source.backup(db)
    return db


def fresh_database(seed: int) -> sqlite3.Connection:
    """A private copy of the store for `seed`; the template is generated once per process."""
    with _templates_lock:  # one lock also serialises backups that read the shared template
        if seed not in _templates:
            _templates[seed] = build_database(seed)
        return copy_database(_templates[seed])
