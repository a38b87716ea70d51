"""The shop's seeded data: a catalogue, one signed-in customer, a cart and past orders."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field

CATEGORIES: dict[str, list[str]] = {
    "Electronics": ["Headphones", "Speaker", "Charger", "Keyboard", "Mouse", "Webcam"],
    "Home": ["Desk Lamp", "Kettle", "Blender", "Mug Set", "Pillow", "Clock"],
    "Outdoor": ["Tent", "Backpack", "Water Bottle", "Sleeping Bag", "Headlamp"],
    "Clothing": ["T-Shirt", "Rain Jacket", "Sneakers", "Wool Hat", "Hoodie"],
    "Books": ["Cookbook", "Travel Guide", "Novel", "Atlas", "Notebook"],
}
BRANDS = ["Acme", "Northwind", "Zephyr", "Orion", "Lumen", "Koda"]
ADJECTIVES = ["Classic", "Compact", "Deluxe", "Eco", "Pro", "Ultra", "Smart", "Urban", "Trail"]
PRICE_RANGE = {"Electronics": (15, 180), "Home": (8, 120), "Outdoor": (10, 260),
               "Clothing": (9, 140), "Books": (6, 45)}
SHIPPING = {"Standard": 499, "Express": 1299, "Overnight": 2499}
FIRST = ["Alex", "Sam", "Jordan", "Robin", "Taylor", "Morgan"]
LAST = ["Rivera", "Chen", "Okafor", "Lindqvist", "Moreau", "Tanaka"]
STREETS = ["Maple Street", "Harbor Road", "Elm Avenue", "Juniper Lane", "Cedar Way", "Lake Drive"]
CITIES = [("Springfield", "62704"), ("Riverton", "84065"), ("Fairview", "37062"), ("Lakewood", "80226")]

SCHEMA = """
create table products (id integer primary key, name text unique not null, category text not null,
  brand text not null, price_cents integer not null, rating real not null, stock integer not null,
  description text not null);
create table customer (id integer primary key, name text not null, email text not null,
  phone text not null, street text not null, city text not null, zip text not null,
  newsletter integer not null, default_shipping text not null);
create table cart_items (product_id integer primary key references products(id),
  qty integer not null check (qty > 0));
create table orders (id integer primary key, placed_on text not null, status text not null,
  shipping_method text not null, shipping_cents integer not null, total_cents integer not null,
  ship_name text not null, ship_street text not null, ship_city text not null, ship_zip text not null);
create table order_items (order_id integer references orders(id), product_id integer
  references products(id), qty integer not null, price_cents integer not null);
"""


@dataclass
class ShopData:
    products: list[dict] = field(default_factory=list)
    customer: dict = field(default_factory=dict)
    cart: list[tuple[int, int]] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)

    def product(self, product_id: int) -> dict:
        return next(p for p in self.products if p["id"] == product_id)


def generate(seed: int) -> ShopData:
    """The whole shop for `seed`, deterministic; prices are unique so "cheapest" has one answer."""
    rng = random.Random(seed)
    data = ShopData()
    used_prices: set[int] = set()
    names: set[str] = set()
    for category, nouns in CATEGORIES.items():
        lo, hi = PRICE_RANGE[category]
        for noun in nouns:
            for brand in rng.sample(BRANDS, 3):
                name = f"{brand} {rng.choice(ADJECTIVES)} {noun}"
                while name in names:
                    name = f"{brand} {rng.choice(ADJECTIVES)} {noun}"
                names.add(name)
                price = rng.randint(lo * 100, hi * 100) // 10 * 10 + 9
                while price in used_prices:
                    price += 10
                used_prices.add(price)
                data.products.append({
                    "id": len(data.products) + 1, "name": name, "category": category,
                    "brand": brand, "price_cents": price, "rating": round(rng.uniform(2.5, 5.0), 1),
                    "stock": rng.choice([0, 3, 7, 12, 25, 40, 64]),
                    "description": f"The {name.lower()} from {brand}: a {rng.choice(['sturdy', 'light', 'handy', 'popular'])} "
                    f"pick in {category.lower()}.",
                })
    city, zip_code = rng.choice(CITIES)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    data.customer = {
        "id": 1, "name": f"{first} {last}", "email": f"{first.lower()}.{last.lower()}@example.com",
        "phone": f"555-{rng.randint(1000, 9999)}", "street": f"{rng.randint(2, 999)} {rng.choice(STREETS)}",
        "city": city, "zip": zip_code, "newsletter": 1, "default_shipping": "Standard",
    }
    in_stock = [p for p in data.products if p["stock"] > 0]
    data.cart = [(p["id"], rng.randint(1, 2)) for p in rng.sample(in_stock, 2)]
    statuses = ["delivered", "delivered", "shipped", "processing", "delivered", "processing",
                "shipped", "processing", "delivered", "processing"]
    for i, status in enumerate(statuses):
        items = [(p["id"], rng.randint(1, 3), p["price_cents"]) for p in rng.sample(in_stock, rng.randint(1, 3))]
        method = rng.choice(list(SHIPPING))
        subtotal = sum(q * c for _, q, c in items)
        data.orders.append({
            "id": 1001 + i, "placed_on": f"2024-{1 + i:02d}-{rng.randint(1, 28):02d}", "status": status,
            "shipping_method": method, "shipping_cents": SHIPPING[method],
            "total_cents": subtotal + SHIPPING[method], "items": items,
        })
    return data


def build_db(path: str, seed: int) -> None:
    """Create the shop's SQLite DB at `path` from `seed`."""
    data = generate(seed)
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(SCHEMA)
        conn.executemany(
            "insert into products values (:id, :name, :category, :brand, :price_cents, :rating, :stock, :description)",
            data.products,
        )
        conn.execute(
            "insert into customer values (:id, :name, :email, :phone, :street, :city, :zip, :newsletter, :default_shipping)",
            data.customer,
        )
        conn.executemany("insert into cart_items values (?, ?)", data.cart)
        c = data.customer
        for o in data.orders:
            conn.execute(
                "insert into orders values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (o["id"], o["placed_on"], o["status"], o["shipping_method"], o["shipping_cents"],
                 o["total_cents"], c["name"], c["street"], c["city"], c["zip"]),
            )
            conn.executemany("insert into order_items values (?, ?, ?, ?)", [(o["id"], *it) for it in o["items"]])
    conn.close()


def money(cents: int) -> str:
    return f"${cents / 100:,.2f}"
