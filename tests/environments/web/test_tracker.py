"""The tracker app without a browser: pages, forms, and every task's checks and reference solution."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from agentgym.environments.web.apps import tracker
from agentgym.environments.web.tasks import dump_tasks, load_tasks
from tests.environments.web.helpers import assert_oracle_solves_all
from tests.environments.web.test_forum import _Page, replay_task

ROOT = Path(__file__).resolve().parents[3]
ORIGIN = "http://tracker.agentgym.test"
TASKS = tracker.generate_tasks(0)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tracker") / "template.sqlite"
    tracker.build_db(str(path), 0)
    return path


@pytest.fixture
async def site(template_db, tmp_path):
    db = tmp_path / "tracker.sqlite"
    shutil.copy(template_db, db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=tracker.create_app(str(db))),
                                 base_url=ORIGIN) as client:
        conn = sqlite3.connect(db)
        yield client, conn
        conn.close()


def _issue(conn, key: str) -> tuple:
    project, number = key.split("-")
    return conn.execute(
        "SELECT i.status, i.priority, u.username, (SELECT GROUP_CONCAT(l.name) FROM issue_labels il JOIN labels l "
        "ON l.id=il.label_id WHERE il.issue_id=i.id) FROM issues i JOIN projects p ON p.id=i.project_id "
        "LEFT JOIN users u ON u.id=i.assignee_id WHERE p.key=? AND i.number=?", (project, int(number))).fetchone()


def test_build_db_is_seeded(tmp_path):
    dumps = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        tracker.build_db(str(tmp_path / name), seed)
        conn = sqlite3.connect(tmp_path / name)
        dumps.append("\n".join(conn.iterdump()))
        conn.close()
    assert dumps[0] == dumps[1] != dumps[2]


async def test_pages_render_and_filters_narrow_the_list(site):
    client, conn = site
    for path in ("/", "/issues", "/issues?project=WEB&page=2", "/issues/WEB-1", "/issues/new", "/team",
                 "/issues?q=checkout&sort=oldest"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert _Page(r.text).title.endswith("Beacon Issues"), path
    everything = _Page((await client.get("/issues")).text)
    assert everything.find({"role": "link", "name": "Next page"})
    narrowed = (await client.get("/issues", params={"project": "OPS", "status": "Open", "priority": "High"})).text
    expected = conn.execute("SELECT COUNT(*) FROM issues i JOIN projects p ON p.id=i.project_id "
                            "WHERE p.key='OPS' AND status='Open' AND priority='High'").fetchone()[0]
    assert f"{expected} issues match" in narrowed
    assert narrowed.count('<tr data-issue="OPS-') == min(expected, 15)


async def test_forms_change_the_database(site):
    client, conn = site
    await client.post("/issues/WEB-1/status", data={"status": "Closed"})
    await client.post("/issues/WEB-1/priority", data={"priority": "Urgent"})
    await client.post("/issues/WEB-1/assign", data={"assignee": ""})
    await client.post("/issues/WEB-1/labels/add", data={"label": "security"})
    status, priority, assignee, labels = _issue(conn, "WEB-1")
    assert (status, priority, assignee) == ("Closed", "Urgent", None) and "security" in labels
    await client.post("/issues/WEB-1/labels/remove", data={"label": "security"})
    assert "security" not in (_issue(conn, "WEB-1")[3] or "")
    user = conn.execute("SELECT username FROM users WHERE id=3").fetchone()[0]
    await client.post("/issues/WEB-1/assign", data={"assignee": user})
    assert _issue(conn, "WEB-1")[2] == user
    await client.post("/issues/WEB-1/comment", data={"body": "On it"})
    assert "On it" in (await client.get("/issues/WEB-1")).text
    r = await client.post("/issues/new", data={"project": "OPS", "title": "Disk full", "description": "",
                                               "priority": "High", "assignee": user})
    key = r.headers["location"].rsplit("/", 1)[1]
    assert _issue(conn, key)[:3] == ("Open", "High", user)


async def test_bad_input_is_refused_without_changes(site):
    client, conn = site
    dump = lambda: "\n".join(conn.iterdump())  # noqa: E731
    before = dump()
    for action, data in (("status", {"status": "Done"}), ("priority", {"priority": "Meh"}),
                         ("assign", {"assignee": "nobody"}), ("labels/add", {"label": "nope"}),
                         ("labels/remove", {"label": ""}), ("comment", {"body": "  "}), ("explode", {})):
        r = await client.post(f"/issues/WEB-1/{action}", data=data)
        assert r.status_code == 400 and 'role="alert"' in r.text, action
    for data in ({"project": "NOPE", "title": "x", "priority": "Low"}, {"project": "OPS", "title": "", "priority": "Low"},
                 {"project": "OPS", "title": "x", "priority": "Low", "assignee": "ghost"}):
        assert (await client.post("/issues/new", data=data)).status_code == 400
    assert dump() == before
    for path in ("/issues/WEB-999", "/issues/garbage", "/nowhere"):
        r = await client.get(path)
        assert r.status_code == 404 and "<title>Not found" in r.text
    assert (await client.post("/issues/ZZZ-1/status", data={"status": "Open"})).status_code == 404
    with pytest.raises(KeyError):
        tracker.check("no_such_check", conn, ORIGIN, {})
    with pytest.raises(LookupError):
        tracker.check("issue_field_is", conn, ORIGIN, {"key": "WEB-999", "field": "status", "value": "Open"})


def test_task_suite_shape_and_file_is_regenerated_identically():
    assert len(TASKS) >= 30
    assert {t.difficulty for t in TASKS} == {1, 2, 3}
    assert sum(t.answer is not None for t in TASKS) >= 10 and sum(bool(t.final_checks) for t in TASKS) >= 10
    assert len({t.prompt for t in TASKS}) == len(TASKS)
    shipped = ROOT / "tasks" / "web" / "tracker.jsonl"
    assert shipped.read_text() == dump_tasks(TASKS)
    assert dump_tasks(load_tasks(shipped)) == dump_tasks(TASKS)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
async def test_reference_solution_over_http(task, template_db, tmp_path):
    await replay_task(task, tracker, template_db, tmp_path)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_oracle_solves_every_tracker_task(browser):
    await assert_oracle_solves_all("tracker")
