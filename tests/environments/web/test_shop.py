"""The shop: its pages and forms over HTTP, its task file, and the oracle in the real browser."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from agentgym.environments.web.apps import shop
from agentgym.environments.web.apps.shop.checks import FIRST_NEW_ORDER
from agentgym.environments.web.tasks import dump_tasks, load_tasks
from tests.environments.web.helpers import assert_oracle_solves_all

ROOT = Path(__file__).resolve().parents[3]
ORIGIN = "http://shop.agentgym.test"


@pytest.fixture
async def client(tmp_path):
    db = tmp_path / "shop.sqlite"
    shop.build_db(str(db), 0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shop.create_app(str(db))), base_url=ORIGIN) as c:
        c.db = db
        yield c


def _query(db: Path, sql: str, *args):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_build_db_is_deterministic(tmp_path):
    shop.build_db(str(tmp_path / "a"), 3)
    shop.build_db(str(tmp_path / "b"), 3)
    shop.build_db(str(tmp_path / "c"), 4)
    rows = [_query(tmp_path / n, "select name, price_cents from products order by id") for n in "abc"]
    assert rows[0] == rows[1] != rows[2]
    assert len(rows[0]) >= 60


async def test_search_filters_and_pages(client):
    page = await client.get("/search", params={"category": "Books", "sort": "price-asc"})
    assert page.status_code == 200 and "<title>Catalogue" in page.text
    cheapest = _query(client.db, "select name from products where category='Books' order by price_cents limit 1")[0][0]
    assert page.text.index(cheapest) < page.text.index("</table>")
    assert 'aria-label="Page 2"' in (await client.get("/search")).text
    none = await client.get("/search", params={"q": "no such thing", "max_price": "abc"})
    assert "No products match." in none.text


async def test_cart_checkout_and_cancel_change_the_db(client):
    pid = _query(client.db, "select id from products where stock > 0 and id not in (select product_id from cart_items)")[0][0]
    r = await client.post("/cart/add", data={"product_id": str(pid), "qty": "2"})
    assert r.status_code == 303 and r.headers["location"].startswith("/cart")
    assert _query(client.db, "select qty from cart_items where product_id=?", pid) == [(2,)]
    bad = await client.post("/cart/add", data={"product_id": str(pid), "qty": "99"})
    assert "Quantity" in bad.headers["location"]
    r = await client.post("/checkout", data={"name": "A B", "street": "1 Road", "city": "X", "zip": "1", "shipping": "Express"})
    assert r.headers["location"].startswith(f"/orders/{FIRST_NEW_ORDER}")
    assert _query(client.db, "select count(*) from cart_items") == [(0,)]
    assert "processing" in (await client.get(f"/orders/{FIRST_NEW_ORDER}")).text
    await client.post(f"/orders/{FIRST_NEW_ORDER}/cancel")
    assert _query(client.db, "select status from orders where id=?", FIRST_NEW_ORDER) == [("cancelled",)]
    missing = await client.post("/checkout", data={"name": "", "shipping": "Express"})
    assert "Please fill" in httpx.URL(missing.headers["location"]).params["msg"]


async def test_account_settings_validate_and_save(client):
    r = await client.post("/account", data={"name": "N", "email": "not-an-email", "street": "s", "city": "c", "zip": "z"})
    assert "Not saved" in httpx.URL(r.headers["location"]).params["msg"]
    await client.post("/account", data={"name": "N", "email": "n@x.test", "street": "s", "city": "c", "zip": "z",
                                        "default_shipping": "Express"})
    assert _query(client.db, "select email, newsletter, default_shipping from customer") == [("n@x.test", 0, "Express")]
    assert (await client.get("/product/99999")).status_code == 404


def test_shipped_tasks_match_the_generator():
    path = ROOT / "tasks" / "web" / "shop.jsonl"
    assert path.read_text() == dump_tasks(shop.generate_tasks(0)), "run: python -m agentgym.environments.web.apps.shop"
    tasks = load_tasks(path)
    assert len(tasks) >= 30
    assert {t.difficulty for t in tasks} == {1, 2, 3}
    assert all(t.solution and (t.answer or t.final_checks) and t.subgoals for t in tasks)
    assert any(t.answer for t in tasks) and any(t.final_checks for t in tasks)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_oracle_solves_every_shop_task(browser):
    await assert_oracle_solves_all("shop")
