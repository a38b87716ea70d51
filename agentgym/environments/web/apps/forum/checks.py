"""Checks of the forum's state for sub-goals and final checks (never shown to the agent).

Page checks (`url_is`, on the parsed URL) are the web family's generic ones.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from agentgym.environments.web.apps.forum.data import AGENT_ID


def norm(text: str) -> str:
    """Case- and whitespace-insensitive form used to compare what the agent typed."""
    return " ".join(str(text).split()).casefold()


def vote_is(conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    """The agent's vote on `post_id` is `value` (1 or -1)."""
    row = conn.execute("SELECT value FROM votes WHERE user_id=? AND post_id=?",
                       (AGENT_ID, args["post_id"])).fetchone()
    return row is not None and row[0] == args["value"]


def comment_exists(conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    """The agent commented on `post_id` with text containing `contains`."""
    bodies = conn.execute("SELECT body FROM comments WHERE author_id=? AND post_id=?",
                          (AGENT_ID, args["post_id"])).fetchall()
    return any(norm(args["contains"]) in norm(b) for (b,) in bodies)


def post_exists(conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    """The agent posted in forum `forum` a thread titled `title` whose body contains `body_contains`."""
    rows = conn.execute(
        "SELECT p.title, p.body FROM posts p JOIN forums f ON f.id=p.forum_id WHERE p.author_id=? AND f.slug=?",
        (AGENT_ID, args["forum"])).fetchall()
    return any(norm(t) == norm(args["title"]) and norm(args.get("body_contains", "")) in norm(b)
               for t, b in rows)


def post_title_is(conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    row = conn.execute("SELECT title FROM posts WHERE id=?", (args["post_id"],)).fetchone()
    return row is not None and norm(row[0]) == norm(args["title"])


def profile_field_is(conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    """The agent's `field` (display_name or bio) equals `value`."""
    if args["field"] not in {"display_name", "bio"}:
        raise ValueError(f"unknown profile field {args['field']!r}")
    row = conn.execute(f"SELECT {args['field']} FROM users WHERE id=?", (AGENT_ID,)).fetchone()
    return norm(row[0]) == norm(args["value"])


CHECKS: dict[str, Callable[[sqlite3.Connection, str, dict], bool]] = {
    "vote_is": vote_is,
    "comment_exists": comment_exists,
    "post_exists": post_exists,
    "post_title_is": post_title_is,
    "profile_field_is": profile_field_is,
}


def check(name: str, conn: sqlite3.Connection, page_url: str, args: dict) -> bool:
    """Run the named check; an unknown name is a bug in the task file, so it raises."""
    try:
        fn = CHECKS[name]
    except KeyError:
        raise KeyError(f"the forum has no check named {name!r}") from None
    return fn(conn, page_url, args)
