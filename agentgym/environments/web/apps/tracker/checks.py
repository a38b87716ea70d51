"""Checks of the tracker's state for sub-goals and final checks (never shown to the agent).

Page checks (`url_is`, on the parsed URL) are the web family's generic ones. Issues are named by key ("WEB-12").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from agentgym.environments.web.apps.tracker import queries as q
from agentgym.environments.web.apps.tracker.data import AGENT_ID


def norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _issue(conn: sqlite3.Connection, key: str):
    old, conn.row_factory = conn.row_factory, sqlite3.Row
    try:
        row = q.issue(conn, key)
    finally:
        conn.row_factory = old
    if row is None:
        raise LookupError(f"no issue {key}")
    return row


def issue_field_is(conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    """Issue `key` has `field` (status, priority or assignee username; None = unassigned) equal to `value`."""
    if args["field"] not in {"status", "priority", "assignee"}:
        raise ValueError(f"unknown issue field {args['field']!r}")
    return _issue(conn, args["key"])[args["field"]] == args["value"]


def issue_has_label(conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    """Issue `key` carries `label` if `present` (default true), or not if false."""
    labels = (_issue(conn, args["key"])["labels"] or "").split(", ")
    return (args["label"] in labels) == args.get("present", True)


def comment_exists(conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    """The agent commented on issue `key` with text containing `contains`."""
    bodies = conn.execute("SELECT body FROM comments WHERE author_id=? AND issue_id=?",
                          (AGENT_ID, _issue(conn, args["key"])["id"])).fetchall()
    return any(norm(args["contains"]) in norm(b[0]) for b in bodies)


def issue_created(conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    """The agent filed an issue in `project` titled `title`, with `priority` and `assignee` if given."""
    rows = conn.execute("SELECT i.title, i.priority, u.username FROM issues i JOIN projects p ON p.id=i.project_id "
                        "LEFT JOIN users u ON u.id=i.assignee_id WHERE i.reporter_id=? AND p.key=?",
                        (AGENT_ID, args["project"])).fetchall()
    return any(norm(title) == norm(args["title"]) and args.get("priority", priority) == priority
               and args.get("assignee", assignee) == assignee for title, priority, assignee in rows)


CHECKS: dict[str, Callable[[sqlite3.Connection, str, dict], bool]] = {
    "issue_field_is": issue_field_is,
    "issue_has_label": issue_has_label,
    "comment_exists": comment_exists,
    "issue_created": issue_created,
}


def check(name: str, conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    """Run the named check; an unknown name is a bug in the task file, so it raises."""
    try:
        fn = CHECKS[name]
    except KeyError:
        raise KeyError(f"the tracker has no check named {name!r}") from None
    return fn(conn, page_url, args)
