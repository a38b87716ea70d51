"""The shop's pages: catalogue with search and filters, product pages, cart, checkout, orders, account.

Server-rendered HTML with plain forms and links (no JS), so every control has a role and a name.
The visitor is always the one seeded customer; all state lives in the episode's SQLite DB.
"""

from __future__ import annotations

import sqlite3
from html import escape
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import Route

from agentgym.environments.web.apps.shop.data import CATEGORIES, SHIPPING, money

PAGE_SIZE = 10
SORTS = {"relevance": "name", "price-asc": "price_cents asc", "price-desc": "price_cents desc",
         "rating": "rating desc, name"}
SORT_LABELS = {"relevance": "Name", "price-asc": "Price: low to high",
               "price-desc": "Price: high to low", "rating": "Customer rating"}
_STYLE = ("body{font-family:sans-serif;max-width:900px;margin:auto}nav a{margin-right:1em}"
          ".flash{background:#dfd;padding:.5em}.error{background:#fdd;padding:.5em}"
          "td,th{padding:.2em .6em;text-align:left}")


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _options(choices: list[tuple[str, str]], selected: str) -> str:
    return "".join(
        f'<option value="{_e(v)}"{" selected" if v == selected else ""}>{_e(label)}</option>'
        for v, label in choices
    )


def create_app(db_path: str) -> Starlette:
    """The shop over the SQLite DB at `db_path` (one per episode)."""

    def db() -> sqlite3.Connection:
        conn = sqlite3.connect(db_path)
        conn.row_factory = sqlite3.Row
        return conn

    def page(title: str, body: str, request: Request) -> HTMLResponse:
        with db() as conn:
            count = conn.execute("select coalesce(sum(qty), 0) from cart_items").fetchone()[0]
            name = conn.execute("select name from customer").fetchone()[0]
        flash = request.query_params.get("msg")
        note = f'<p class="flash" role="status">{_e(flash)}</p>' if flash else ""
        return HTMLResponse(
            f"<!doctype html><html><head><title>{_e(title)} | Koda Shop</title><style>{_STYLE}</style>"
            f'</head><body><header><nav><a href="/">Home</a><a href="/search">Catalogue</a>'
            f'<a href="/cart">Cart ({count})</a><a href="/orders">My orders</a>'
            f'<a href="/account">Account</a></nav>'
            f'<form action="/search" method="get" role="search"><input type="search" name="q" '
            f'aria-label="Search products" placeholder="Search products"> <button>Search</button></form>'
            f"<p>Signed in as {_e(name)}</p></header><main>{note}{body}</main></body></html>"
        )

    def go(path: str, msg: str | None = None) -> RedirectResponse:
        return RedirectResponse(path + (f"?{urlencode({'msg': msg})}" if msg else ""), status_code=303)

    async def home(request: Request) -> HTMLResponse:
        cats = "".join(
            f'<li><a href="/search?{urlencode({"category": c})}">{_e(c)}</a></li>' for c in CATEGORIES
        )
        with db() as conn:
            top = conn.execute("select id, name, price_cents from products order by rating desc, id limit 5").fetchall()
        picks = "".join(f'<li><a href="/product/{p["id"]}">{_e(p["name"])}</a> {money(p["price_cents"])}</li>' for p in top)
        body = f"<h1>Welcome to Koda Shop</h1><h2>Shop by category</h2><ul>{cats}</ul><h2>Top rated</h2><ul>{picks}</ul>"
        return page("Home", body, request)

    async def search(request: Request) -> HTMLResponse:
        q = request.query_params
        where, args = [], []
        if q.get("q"):
            where.append("(name like ? or description like ?)")
            args += [f"%{q['q']}%"] * 2
        for key in ("category", "brand"):
            if q.get(key):
                where.append(f"{key} = ?")
                args.append(q[key])
        for key, op in (("min_price", ">="), ("max_price", "<=")):
            try:
                bound = float(q.get(key) or "")
            except ValueError:
                continue
            where.append(f"price_cents {op} ?")
            args.append(round(bound * 100))
        if q.get("in_stock"):
            where.append("stock > 0")
        sort = q.get("sort") if q.get("sort") in SORTS else "relevance"
        try:
            number = max(1, int(q.get("page") or 1))
        except ValueError:
            number = 1
        clause = f"where {' and '.join(where)}" if where else ""
        with db() as conn:
            total = conn.execute(f"select count(*) from products {clause}", args).fetchone()[0]
            rows = conn.execute(
                f"select * from products {clause} order by {SORTS[sort]} limit ? offset ?",
                [*args, PAGE_SIZE, (number - 1) * PAGE_SIZE],
            ).fetchall()
            brands = [r[0] for r in conn.execute("select distinct brand from products order by brand")]
        filters = (
            '<form action="/search" method="get"><fieldset><legend>Filters</legend>'
            f'<label>Keywords <input name="q" value="{_e(q.get("q", ""))}"></label> '
            f'<label>Category <select name="category">{_options([("", "All categories")] + [(c, c) for c in CATEGORIES], q.get("category", ""))}</select></label> '
            f'<label>Brand <select name="brand">{_options([("", "All brands")] + [(b, b) for b in brands], q.get("brand", ""))}</select></label> '
            f'<label>Min price <input name="min_price" type="number" step="0.01" value="{_e(q.get("min_price", ""))}"></label> '
            f'<label>Max price <input name="max_price" type="number" step="0.01" value="{_e(q.get("max_price", ""))}"></label> '
            f'<label><input type="checkbox" name="in_stock" value="1"{" checked" if q.get("in_stock") else ""}> In stock only</label> '
            f'<label>Sort by <select name="sort">{_options(list(SORT_LABELS.items()), sort)}</select></label> '
            "<button>Apply filters</button></fieldset></form>"
        )
        items = "".join(
            f'<tr><td><a href="/product/{r["id"]}">{_e(r["name"])}</a></td><td>{_e(r["brand"])}</td>'
            f'<td>{money(r["price_cents"])}</td><td>{r["rating"]} stars</td>'
            f'<td>{"In stock" if r["stock"] else "Out of stock"}</td></tr>'
            for r in rows
        )
        pages = -(-total // PAGE_SIZE)
        params = {k: v for k, v in q.items() if k != "page"}
        nav = "".join(
            f'<a href="/search?{urlencode({**params, "page": n})}" aria-label="Page {n}">{n}</a> '
            if n != number else f"<strong>{n}</strong> "
            for n in range(1, pages + 1)
        )
        table = (
            f"<table><tr><th>Product</th><th>Brand</th><th>Price</th><th>Rating</th><th>Availability</th></tr>{items}</table>"
            if rows else "<p>No products match.</p>"
        )
        body = f"<h1>Catalogue</h1>{filters}<p>{total} results</p>{table}<p>Pages: {nav}</p>"
        return page("Catalogue", body, request)

    async def product(request: Request) -> HTMLResponse:
        with db() as conn:
            p = conn.execute("select * from products where id = ?", (request.path_params["id"],)).fetchone()
        if p is None:
            return HTMLResponse(status_code=404, content="<title>Not found</title><h1>No such product</h1><a href='/'>Home</a>")
        buy = (
            f'<form action="/cart/add" method="post"><input type="hidden" name="product_id" value="{p["id"]}">'
            '<label>Quantity <input type="number" name="qty" value="1" min="1" max="10"></label> '
            "<button>Add to cart</button></form>"
            if p["stock"] else "<p><strong>Out of stock</strong></p>"
        )
        body = (
            f'<h1>{_e(p["name"])}</h1><p>{_e(p["description"])}</p><dl><dt>Price</dt><dd>{money(p["price_cents"])}</dd>'
            f'<dt>Brand</dt><dd>{_e(p["brand"])}</dd><dt>Category</dt><dd>{_e(p["category"])}</dd>'
            f'<dt>Rating</dt><dd>{p["rating"]} out of 5</dd><dt>In stock</dt><dd>{p["stock"]} units</dd></dl>{buy}'
        )
        return page(p["name"], body, request)

    async def cart_add(request: Request) -> RedirectResponse:
        form = await request.form()
        try:
            pid, qty = int(form.get("product_id", "")), int(form.get("qty") or 1)
        except ValueError:
            return go("/cart", "Could not add: bad quantity")
        if not 1 <= qty <= 10:
            return go(f"/product/{pid}", "Quantity must be between 1 and 10")
        with db() as conn:
            if conn.execute("select stock from products where id = ?", (pid,)).fetchone() is None:
                return go("/cart", "No such product")
            conn.execute(
                "insert into cart_items values (?, ?) on conflict(product_id) do update set qty = qty + excluded.qty",
                (pid, qty),
            )
        return go("/cart", "Added to your cart")

    def cart_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
        return conn.execute(
            "select p.id, p.name, p.price_cents, c.qty from cart_items c join products p on p.id = c.product_id order by p.name"
        ).fetchall()

    async def cart(request: Request) -> HTMLResponse:
        with db() as conn:
            rows = cart_rows(conn)
        if not rows:
            return page("Cart", '<h1>Your cart</h1><p>Your cart is empty.</p><a href="/search">Browse the catalogue</a>', request)
        lines = "".join(
            f'<tr><td><a href="/product/{r["id"]}">{_e(r["name"])}</a></td><td>{money(r["price_cents"])}</td>'
            f'<td><form action="/cart/update" method="post"><input type="hidden" name="product_id" value="{r["id"]}">'
            f'<input type="number" name="qty" value="{r["qty"]}" min="0" max="10" aria-label="Quantity of {_e(r["name"])}"> '
            f'<button aria-label="Update {_e(r["name"])}">Update</button></form></td>'
            f'<td>{money(r["qty"] * r["price_cents"])}</td>'
            f'<td><form action="/cart/update" method="post"><input type="hidden" name="product_id" value="{r["id"]}">'
            f'<input type="hidden" name="qty" value="0"><button aria-label="Remove {_e(r["name"])}">Remove</button></form></td></tr>'
            for r in rows
        )
        subtotal = sum(r["qty"] * r["price_cents"] for r in rows)
        body = (
            "<h1>Your cart</h1><table><tr><th>Product</th><th>Price</th><th>Quantity</th><th>Line total</th><th></th></tr>"
            f'{lines}</table><p>Subtotal: {money(subtotal)}</p><a href="/checkout">Proceed to checkout</a>'
        )
        return page("Cart", body, request)

    async def cart_update(request: Request) -> RedirectResponse:
        form = await request.form()
        try:
            pid, qty = int(form.get("product_id", "")), int(form.get("qty", ""))
        except ValueError:
            return go("/cart", "Quantity must be a number")
        if not 0 <= qty <= 10:
            return go("/cart", "Quantity must be between 0 and 10")
        with db() as conn:
            if qty == 0:
                conn.execute("delete from cart_items where product_id = ?", (pid,))
            else:
                conn.execute("update cart_items set qty = ? where product_id = ?", (qty, pid))
        return go("/cart", "Cart updated" if qty else "Item removed")

    async def checkout(request: Request) -> HTMLResponse | RedirectResponse:
        with db() as conn:
            rows = cart_rows(conn)
            c = conn.execute("select * from customer").fetchone()
        if not rows:
            return go("/cart", "Your cart is empty")
        summary = "".join(f'<li>{r["qty"]} x {_e(r["name"])}: {money(r["qty"] * r["price_cents"])}</li>' for r in rows)
        methods = [(m, f"{m} ({money(cents)})") for m, cents in SHIPPING.items()]
        body = (
            f"<h1>Checkout</h1><h2>Items</h2><ul>{summary}</ul>"
            '<form action="/checkout" method="post"><h2>Shipping address</h2>'
            f'<label>Full name <input name="name" value="{_e(c["name"])}" required></label><br>'
            f'<label>Street <input name="street" value="{_e(c["street"])}" required></label><br>'
            f'<label>City <input name="city" value="{_e(c["city"])}" required></label><br>'
            f'<label>ZIP code <input name="zip" value="{_e(c["zip"])}" required></label><br>'
            f'<label>Shipping method <select name="shipping">{_options(methods, c["default_shipping"])}</select></label><br>'
            "<button>Place order</button></form>"
        )
        return page("Checkout", body, request)

    async def place_order(request: Request) -> RedirectResponse:
        form = await request.form()
        fields = {k: str(form.get(k, "")).strip() for k in ("name", "street", "city", "zip", "shipping")}
        if not all(fields.values()) or fields["shipping"] not in SHIPPING:
            return go("/checkout", "Please fill in every field of the address")
        with db() as conn:
            rows = cart_rows(conn)
            if not rows:
                return go("/cart", "Your cart is empty")
            ship = SHIPPING[fields["shipping"]]
            total = sum(r["qty"] * r["price_cents"] for r in rows) + ship
            oid = conn.execute("select max(id) + 1 from orders").fetchone()[0]
            conn.execute(
                "insert into orders values (?, date('now'), 'processing', ?, ?, ?, ?, ?, ?, ?)",
                (oid, fields["shipping"], ship, total, fields["name"], fields["street"], fields["city"], fields["zip"]),
            )
            conn.executemany("insert into order_items values (?, ?, ?, ?)",
                             [(oid, r["id"], r["qty"], r["price_cents"]) for r in rows])
            conn.execute("delete from cart_items")
        return go(f"/orders/{oid}", f"Thank you! Order #{oid} is placed")

    async def orders(request: Request) -> HTMLResponse:
        with db() as conn:
            rows = conn.execute("select * from orders order by id desc").fetchall()
        lines = "".join(
            f'<tr><td><a href="/orders/{o["id"]}">Order #{o["id"]}</a></td><td>{o["placed_on"]}</td>'
            f'<td>{_e(o["status"])}</td><td>{money(o["total_cents"])}</td></tr>'
            for o in rows
        )
        body = f"<h1>My orders</h1><table><tr><th>Order</th><th>Placed on</th><th>Status</th><th>Total</th></tr>{lines}</table>"
        return page("My orders", body, request)

    async def order(request: Request) -> HTMLResponse:
        oid = request.path_params["id"]
        with db() as conn:
            o = conn.execute("select * from orders where id = ?", (oid,)).fetchone()
            items = conn.execute(
                "select p.id, p.name, i.qty, i.price_cents from order_items i join products p on p.id = i.product_id "
                "where i.order_id = ? order by p.name", (oid,)
            ).fetchall()
        if o is None:
            return HTMLResponse(status_code=404, content="<title>Not found</title><h1>No such order</h1><a href='/orders'>My orders</a>")
        lines = "".join(
            f'<li><a href="/product/{i["id"]}">{_e(i["name"])}</a>: {i["qty"]} x {money(i["price_cents"])}</li>' for i in items
        )
        cancel = (
            f'<form action="/orders/{oid}/cancel" method="post"><button>Cancel order</button></form>'
            if o["status"] == "processing" else ""
        )
        body = (
            f'<h1>Order #{oid}</h1><p>Status: {_e(o["status"])}</p><p>Placed on {o["placed_on"]}</p><ul>{lines}</ul>'
            f'<p>Shipping: {_e(o["shipping_method"])} ({money(o["shipping_cents"])})</p>'
            f'<p>Ship to: {_e(o["ship_name"])}, {_e(o["ship_street"])}, {_e(o["ship_city"])} {_e(o["ship_zip"])}</p>'
            f'<p>Order total: {money(o["total_cents"])}</p>{cancel}'
        )
        return page(f"Order #{oid}", body, request)

    async def cancel(request: Request) -> RedirectResponse:
        oid = request.path_params["id"]
        with db() as conn:
            changed = conn.execute(
                "update orders set status = 'cancelled' where id = ? and status = 'processing'", (oid,)
            ).rowcount
        return go(f"/orders/{oid}", "Order cancelled" if changed else "Only orders still processing can be cancelled")

    async def account(request: Request) -> HTMLResponse:
        with db() as conn:
            c = conn.execute("select * from customer").fetchone()

        def text(label: str, key: str, kind: str = "text") -> str:
            return f'<label>{label} <input type="{kind}" name="{key}" value="{_e(c[key])}"></label><br>'

        body = (
            '<h1>Account settings</h1><form action="/account" method="post">'
            + text("Name", "name") + text("Email", "email", "email") + text("Phone", "phone", "tel")
            + "<h2>Address</h2>" + text("Street", "street") + text("City", "city") + text("ZIP code", "zip")
            + f'<label>Default shipping <select name="default_shipping">{_options([(m, m) for m in SHIPPING], c["default_shipping"])}</select></label><br>'
            + f'<label><input type="checkbox" name="newsletter" value="1"{" checked" if c["newsletter"] else ""}> Subscribe to newsletter</label><br>'
            + "<button>Save settings</button></form>"
        )
        return page("Account", body, request)

    async def save_account(request: Request) -> RedirectResponse:
        form = await request.form()
        values = {k: str(form.get(k, "")).strip() for k in ("name", "email", "phone", "street", "city", "zip", "default_shipping")}
        if not all(values[k] for k in ("name", "email", "street", "city", "zip")) or "@" not in values["email"]:
            return go("/account", "Not saved: name, a valid email and the address are required")
        if values["default_shipping"] not in SHIPPING:
            values["default_shipping"] = "Standard"
        with db() as conn:
            conn.execute(
                "update customer set name=:name, email=:email, phone=:phone, street=:street, city=:city, zip=:zip, "
                "default_shipping=:default_shipping, newsletter=:newsletter",
                {**values, "newsletter": 1 if form.get("newsletter") else 0},
            )
        return go("/account", "Settings saved")

    return Starlette(routes=[
        Route("/", home), Route("/search", search), Route("/product/{id:int}", product),
        Route("/cart", cart), Route("/cart/add", cart_add, methods=["POST"]),
        Route("/cart/update", cart_update, methods=["POST"]),
        Route("/checkout", checkout), Route("/checkout", place_order, methods=["POST"]),
        Route("/orders", orders), Route("/orders/{id:int}", order),
        Route("/orders/{id:int}/cancel", cancel, methods=["POST"]),
        Route("/account", account), Route("/account", save_account, methods=["POST"]),
    ])
