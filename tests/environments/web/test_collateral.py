"""Doing nothing earns nothing, and doing everything fails: the collateral-change guard of web tasks.

Runs at the HTTP and DB level (no browser): the shipped tasks' final checks against the untouched
DB, and "touch every row" agents against the vote / comment / reassign templates.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from agentgym.environments.web.apps import forum, shop, tracker
from agentgym.environments.web.tasks import AllowedChange, WebTask
from agentgym.environments.web.verify import collateral, collateral_changes, run_check
from agentgym.verifiers.state_diff import RowChange

APPS = {"shop": shop, "forum": forum, "tracker": tracker}


def is_guard(task: WebTask, check: str) -> bool:
    """Checks that say what must NOT change (a no-op keeps them true): the other order, the kept cart item."""
    return check == "only_order_changed" or (task.id.startswith("shop.remove_from_cart") and check == "cart_contains")

ALL_TASKS = [task for module in APPS.values() for task in module.generate_tasks(0)]


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for name, module in APPS.items():
        out[name] = tmp_path_factory.mktemp(name) / "template.sqlite"
        module.build_db(str(out[name]), 0)
    return out


@pytest.mark.parametrize("task", [t for t in ALL_TASKS if t.final_checks], ids=lambda t: t.id)
def test_a_noop_fails_every_final_check(task: WebTask, templates):
    module = APPS[task.app]
    conn = sqlite3.connect(f"file:{templates[task.app]}?mode=ro", uri=True)
    try:
        url = task.allowed_origins[0] + task.start_url
        for spec in task.final_checks:
            if not is_guard(task, spec.check):
                assert not run_check(module.check, spec, conn, url), (task.id, spec)
        assert any(not is_guard(task, spec.check) for spec in task.final_checks), task.id
    finally:
        conn.close()


def test_every_task_declares_its_allowed_changes():
    for task in ALL_TASKS:
        assert task.allowed_changes is not None, task.id
        assert bool(task.allowed_changes) == bool(task.final_checks), task.id  # info tasks change nothing


async def _everything(task: WebTask, db: Path) -> None:
    """An agent that does the task's kind of change to every row it can reach."""
    app = APPS[task.app].create_app(str(db))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=task.allowed_origins[0]) as client:
        conn = sqlite3.connect(db)
        if task.app == "forum":
            value = next(s.args["value"] for s in task.final_checks if s.check == "vote_is")
            text = next((s.args["contains"] for s in task.final_checks if s.check == "comment_exists"), None)
            targets = [s.args["post_id"] for s in task.final_checks]
            forums = f"SELECT forum_id FROM posts WHERE id IN ({','.join('?' * len(targets))})"
            posts = conn.execute(f"SELECT id FROM posts WHERE forum_id IN ({forums}) ORDER BY id", targets).fetchall()
            for (post_id,) in posts:  # every thread of the forum(s) the task is about
                assert (await client.post(f"/p/{post_id}/vote", data={"value": str(value)})).status_code == 303
                if text:
                    assert (await client.post(f"/p/{post_id}/comment", data={"body": text})).status_code == 303
        else:
            who = task.final_checks[0].args["value"]
            project = task.final_checks[0].args["key"].split("-")[0]
            issues = conn.execute("SELECT p.key || '-' || i.number FROM issues i JOIN projects p ON p.id=i.project_id "
                                  "WHERE p.key=? ORDER BY i.id", (project,)).fetchall()
            for (key,) in issues:  # every issue of the project
                assert (await client.post(f"/issues/{key}/assign", data={"assignee": who})).status_code == 303
        conn.close()


EVERYTHING = [t for t in ALL_TASKS if t.difficulty == 2
              and t.id.split(".")[1] in ("vote", "downvote_member", "top_and_reply", "reassign_all")]


@pytest.mark.parametrize("task", EVERYTHING, ids=lambda t: t.id)
async def test_changing_everything_passes_the_checks_but_is_caught_as_collateral(task: WebTask, templates, tmp_path):
    db = tmp_path / "episode.sqlite"
    shutil.copy(templates[task.app], db)
    await _everything(task, db)
    conn = sqlite3.connect(db)
    try:
        url = task.allowed_origins[0] + task.start_url
        assert all(run_check(APPS[task.app].check, s, conn, url) for s in task.final_checks), task.id
    finally:
        conn.close()
    assert task.allowed_changes is not None
    extra = collateral_changes(templates[task.app], db, task.allowed_changes)
    assert len(extra) > 10, task.id


def _change(kind, before, after, table="t") -> RowChange:
    return RowChange(table, (1,), kind, before, after)


def test_allowed_change_rules_match_table_kind_where_and_columns():
    rules = [AllowedChange(table="t", where={"id": 1}, kinds=["changed"], columns=["a"]),
             AllowedChange(table="t", where={"id": 1}, kinds=["changed"], columns=["b"]),
             AllowedChange(table="c", where={"post": 7}, kinds=["inserted"])]
    ok_change = _change("changed", {"id": 1, "a": 0, "b": 0, "c": 0}, {"id": 1, "a": 1, "b": 1, "c": 0})
    wrong_column = _change("changed", {"id": 1, "a": 0, "c": 0}, {"id": 1, "a": 0, "c": 1})
    other_row = _change("changed", {"id": 2, "a": 0}, {"id": 2, "a": 1})
    moved_into_the_rule = _change("changed", {"id": 2, "a": 0}, {"id": 1, "a": 0})
    inserted = _change("inserted", None, {"post": 7}, "c")
    deleted = _change("deleted", {"post": 7}, None, "c")
    elsewhere = _change("inserted", None, {"post": 8}, "c")
    got = collateral([ok_change, wrong_column, other_row, moved_into_the_rule, inserted, deleted, elsewhere], rules)
    assert got == [wrong_column, other_row, moved_into_the_rule, deleted, elsewhere]
    assert collateral([inserted], []) == [inserted]
