"""Read queries shared by the pages and the task generator, so both see the same order and pages."""

from __future__ import annotations

import sqlite3

PAGE_SIZE = 10

_POST_ROW = """
SELECT p.id, p.title, p.created, p.forum_id, f.slug AS forum_slug, f.name AS forum_name,
       u.username AS author,
       (SELECT COALESCE(SUM(value), 0) FROM votes v WHERE v.post_id = p.id) AS score,
       (SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id) AS n_comments
FROM posts p JOIN users u ON u.id = p.author_id JOIN forums f ON f.id = p.forum_id
"""

SORTS = {"new": "p.created DESC, p.id DESC", "top": "score DESC, p.created DESC, p.id DESC"}


def pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def forum_posts(conn: sqlite3.Connection, forum_id: int, sort: str, page: int) -> tuple[list, int]:
    """One page of a sub-forum's threads and the number of pages."""
    total = conn.execute("SELECT COUNT(*) FROM posts WHERE forum_id=?", (forum_id,)).fetchone()[0]
    rows = conn.execute(
        f"{_POST_ROW} WHERE p.forum_id=? ORDER BY {SORTS[sort]} LIMIT ? OFFSET ?",
        (forum_id, PAGE_SIZE, (page - 1) * PAGE_SIZE),
    ).fetchall()
    return rows, pages(total)


def search_posts(conn: sqlite3.Connection, q: str, page: int) -> tuple[list, int]:
    """Threads whose title or body contains `q` (case-insensitive), newest first."""
    like = f"%{q}%"
    where = "WHERE p.title LIKE ? OR p.body LIKE ?"
    total = conn.execute(f"SELECT COUNT(*) FROM posts p {where}", (like, like)).fetchone()[0]
    rows = conn.execute(
        f"{_POST_ROW} {where} ORDER BY {SORTS['new']} LIMIT ? OFFSET ?",
        (like, like, PAGE_SIZE, (page - 1) * PAGE_SIZE),
    ).fetchall()
    return rows, pages(total)


def user_posts(conn: sqlite3.Connection, user_id: int) -> list:
    return conn.execute(f"{_POST_ROW} WHERE p.author_id=? ORDER BY {SORTS['new']}", (user_id,)).fetchall()


def post(conn: sqlite3.Connection, post_id: int):
    return conn.execute(f"{_POST_ROW} WHERE p.id=?", (post_id,)).fetchone()


def members(conn: sqlite3.Connection, page: int) -> tuple[list, int]:
    total = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    rows = conn.execute(
        "SELECT u.*, (SELECT COUNT(*) FROM posts p WHERE p.author_id=u.id) AS n_posts FROM users u "
        "ORDER BY u.username LIMIT ? OFFSET ?", (PAGE_SIZE * 2, (page - 1) * PAGE_SIZE * 2),
    ).fetchall()
    return rows, max(1, -(-total // (PAGE_SIZE * 2)))


def karma(conn: sqlite3.Connection, user_id: int) -> int:
    return conn.execute(
        "SELECT COALESCE(SUM(v.value), 0) FROM votes v JOIN posts p ON p.id=v.post_id WHERE p.author_id=?",
        (user_id,),
    ).fetchone()[0]
