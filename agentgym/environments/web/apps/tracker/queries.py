"""Read queries shared by the pages and the task generator, so both see the same order and pages."""

from __future__ import annotations

import sqlite3

PAGE_SIZE = 15

ISSUE_ROW = """
SELECT i.*, p.key || '-' || i.number AS key, p.key AS project_key, p.name AS project_name,
       a.name AS assignee_name, a.username AS assignee, r.name AS reporter_name,
       (SELECT GROUP_CONCAT(name, ', ') FROM (SELECT l.name FROM issue_labels il JOIN labels l
           ON l.id = il.label_id WHERE il.issue_id = i.id ORDER BY l.name)) AS labels
FROM issues i JOIN projects p ON p.id = i.project_id LEFT JOIN users a ON a.id = i.assignee_id
JOIN users r ON r.id = i.reporter_id
"""

SORTS = {
    "newest": ("Newest", "i.created DESC, i.id DESC"),
    "oldest": ("Oldest", "i.created ASC, i.id ASC"),
    "priority": ("Highest priority",
                 "CASE i.priority WHEN 'Urgent' THEN 0 WHEN 'High' THEN 1 WHEN 'Medium' THEN 2 ELSE 3 END, "
                 "i.created DESC, i.id DESC"),
    "updated": ("Recently updated", "i.updated DESC, i.id DESC"),
}
FILTERS = ("project", "status", "priority", "assignee", "label", "q", "sort")


def list_issues(conn: sqlite3.Connection, filters: dict, page: int) -> tuple[list, int, int]:
    """One page of issues matching `filters` (see FILTERS), the number matching, and the page count."""
    where, params = [], []
    for column, field in (("p.key", "project"), ("i.status", "status"), ("i.priority", "priority")):
        if filters.get(field):
            where.append(f"{column} = ?")
            params.append(filters[field])
    if filters.get("assignee") == "none":
        where.append("i.assignee_id IS NULL")
    elif filters.get("assignee"):
        where.append("a.username = ?")
        params.append(filters["assignee"])
    if filters.get("label"):
        where.append("EXISTS (SELECT 1 FROM issue_labels il JOIN labels l ON l.id=il.label_id "
                     "WHERE il.issue_id=i.id AND l.name=?)")
        params.append(filters["label"])
    if filters.get("q"):
        where.append("(i.title LIKE ? OR i.description LIKE ?)")
        params.extend([f"%{filters['q']}%"] * 2)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    total = conn.execute(
        f"SELECT COUNT(*) FROM issues i JOIN projects p ON p.id=i.project_id LEFT JOIN users a "
        f"ON a.id=i.assignee_id {clause}", params).fetchone()[0]
    order = SORTS.get(filters.get("sort") or "newest", SORTS["newest"])[1]
    rows = conn.execute(f"{ISSUE_ROW} {clause} ORDER BY {order} LIMIT ? OFFSET ?",
                        [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE]).fetchall()
    return rows, total, max(1, -(-total // PAGE_SIZE))


def issue(conn: sqlite3.Connection, key: str):
    project, _, number = key.upper().partition("-")
    if not number.isdigit():
        return None
    return conn.execute(f"{ISSUE_ROW} WHERE p.key=? AND i.number=?", (project, int(number))).fetchone()
