"""The tracker's pages and forms (Starlette), over one SQLite file per episode."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import Route

from agentgym.environments.web.apps.tracker import queries as q
from agentgym.environments.web.apps.tracker.data import AGENT_ID, PRIORITIES, STATUSES
from agentgym.environments.web.apps.tracker.html import esc, issue_table, layout, pager, select

MAX_TEXT = 5000


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M")


def create_app(db_path: str) -> Starlette:
    """The tracker as an ASGI app over the DB at `db_path`; user AGENT_ID is signed in."""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(db_path)
        conn.row_factory = sqlite3.Row
        return conn

    def render(conn, title: str, body: str, status: int = 200) -> HTMLResponse:
        me, my_name = conn.execute("SELECT username, name FROM users WHERE id=?", (AGENT_ID,)).fetchone()
        return HTMLResponse(layout(title, body, me, my_name), status_code=status)

    def not_found(conn, what: str) -> HTMLResponse:
        return render(conn, "Not found", f"<p>No such {esc(what)}.</p>", 404)

    def people(conn) -> list:
        return conn.execute("SELECT * FROM users ORDER BY name").fetchall()

    async def dashboard(request: Request):
        with closing(connect()) as conn:
            rows = conn.execute(
                "SELECT p.*, (SELECT COUNT(*) FROM issues i WHERE i.project_id=p.id AND i.status IN "
                "('Open', 'In progress')) AS n_open FROM projects p ORDER BY p.key").fetchall()
            items = "".join(f'<li><a href="/issues?project={esc(r["key"])}">{esc(r["name"])}</a> ({esc(r["key"])}) — '
                            f'{esc(r["description"])} <span>{r["n_open"]} open</span></li>' for r in rows)
            return render(conn, "Dashboard", f"<h2>Projects</h2><ul>{items}</ul>")

    async def issues(request: Request):
        filters = {k: request.query_params.get(k, "").strip() for k in q.FILTERS}
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        with closing(connect()) as conn:
            rows, total, n_pages = q.list_issues(conn, filters, page)
            projects = [("", "Any project")] + [(r["key"], r["name"]) for r in
                                                conn.execute("SELECT * FROM projects ORDER BY key")]
            labels = [("", "Any label")] + [(r[0], r[0]) for r in conn.execute("SELECT name FROM labels ORDER BY name")]
            assignees = [("", "Anyone"), ("none", "Unassigned")] + [(u["username"], u["name"]) for u in people(conn)]
            form = " ".join([
                select("f-project", "project", "Project", projects, filters["project"]),
                select("f-status", "status", "Status", [("", "Any status")] + [(s, s) for s in STATUSES], filters["status"]),
                select("f-priority", "priority", "Priority", [("", "Any priority")] + [(p, p) for p in PRIORITIES],
                       filters["priority"]),
                select("f-assignee", "assignee", "Assignee", assignees, filters["assignee"]),
                select("f-label", "label", "Label", labels, filters["label"]),
                f'<label for="f-q">Keywords</label> <input id="f-q" name="q" type="text" value="{esc(filters["q"])}">',
                select("f-sort", "sort", "Sort by", [(k, v[0]) for k, v in q.SORTS.items()], filters["sort"] or "newest"),
            ])
            kept = urlencode({k: v for k, v in filters.items() if v})
            body = (f'<form method="get" action="/issues" aria-label="Filters">{form} '
                    f'<button type="submit">Apply filters</button></form>'
                    f'<p id="result-count">{total} issues match</p>{issue_table(rows)}'
                    f'{pager("/issues" + (f"?{kept}" if kept else ""), page, n_pages)}')
            return render(conn, "Issues", body)

    def issue_page(conn, key: str, error: str = "", status: int = 200) -> HTMLResponse:
        r = q.issue(conn, key)
        if r is None:
            return not_found(conn, "issue")
        key = r["key"]
        on = conn.execute("SELECT l.name FROM issue_labels il JOIN labels l ON l.id=il.label_id "
                          "WHERE il.issue_id=? ORDER BY l.name", (r["id"],)).fetchall()
        off = conn.execute("SELECT name FROM labels WHERE id NOT IN (SELECT label_id FROM issue_labels "
                           "WHERE issue_id=?) ORDER BY name", (r["id"],)).fetchall()
        comments = conn.execute("SELECT c.*, u.name FROM comments c JOIN users u ON u.id=c.author_id "
                                "WHERE issue_id=? ORDER BY c.created, c.id", (r["id"],)).fetchall()
        label_items = "".join(
            f'<li>{esc(n)} <form class="inline" method="post" action="/issues/{key}/labels/remove">'
            f'<input type="hidden" name="label" value="{esc(n)}">'
            f'<button type="submit" aria-label="Remove label {esc(n)}">×</button></form></li>' for (n,) in on)
        comment_items = "".join(f'<li data-comment-id="{c["id"]}"><p><strong>{esc(c["name"])}</strong> · '
                                f'{esc(c["created"])}</p><p>{esc(c["body"])}</p></li>' for c in comments)
        users = [("", "Unassigned")] + [(u["username"], u["name"]) for u in people(conn)]
        err = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        body = f"""{err}<dl><dt>Key</dt><dd id="issue-key">{esc(key)}</dd>
<dt>Project</dt><dd>{esc(r['project_name'])}</dd><dt>Status</dt><dd id="issue-status">{esc(r['status'])}</dd>
<dt>Priority</dt><dd id="issue-priority">{esc(r['priority'])}</dd>
<dt>Assignee</dt><dd id="issue-assignee">{esc(r['assignee_name'] or 'Unassigned')}</dd>
<dt>Reporter</dt><dd id="issue-reporter">{esc(r['reporter_name'])}</dd>
<dt>Created</dt><dd>{esc(r['created'])}</dd><dt>Updated</dt><dd>{esc(r['updated'])}</dd></dl>
<div class="description">{esc(r['description'])}</div>
<h2>Labels</h2><ul class="labels">{label_items or '<li>No labels</li>'}</ul>
<form class="inline" method="post" action="/issues/{key}/labels/add">
{select("add-label", "label", "Label to add", [(n, n) for (n,) in off], "")} <button type="submit">Add label</button></form>
<h2>Change</h2>
<form class="inline" method="post" action="/issues/{key}/status">
{select("set-status", "status", "Status", [(s, s) for s in STATUSES], r['status'])} <button type="submit">Update status</button></form>
<form class="inline" method="post" action="/issues/{key}/priority">
{select("set-priority", "priority", "Priority", [(p, p) for p in PRIORITIES], r['priority'])} <button type="submit">Update priority</button></form>
<form class="inline" method="post" action="/issues/{key}/assign">
{select("set-assignee", "assignee", "Assignee", users, r['assignee'] or '')} <button type="submit">Assign</button></form>
<h2>{len(comments)} comments</h2><ol class="comments">{comment_items}</ol>
<form method="post" action="/issues/{key}/comment"><label for="comment-body">Comment</label>
<textarea id="comment-body" name="body"></textarea><button type="submit">Add comment</button></form>"""
        return render(conn, f"{key}: {r['title']}", body, status)

    async def show_issue(request: Request):
        with closing(connect()) as conn:
            return issue_page(conn, request.path_params["key"])

    async def change(request: Request):
        """Every POST on an issue: status, priority, assign, labels/add, labels/remove, comment."""
        key, action = request.path_params["key"], request.path_params["action"]
        form = await request.form()
        value = str(form.get({"assign": "assignee", "labels/add": "label", "labels/remove": "label",
                              "comment": "body"}.get(action, action), "")).strip()
        with closing(connect()) as conn:
            r = q.issue(conn, key)
            if r is None:
                return not_found(conn, "issue")
            error = ""
            if action == "status" and value in STATUSES or action == "priority" and value in PRIORITIES:
                conn.execute(f"UPDATE issues SET {action}=? WHERE id=?", (value, r["id"]))
            elif action == "assign":
                user = conn.execute("SELECT id FROM users WHERE username=?", (value,)).fetchone()
                if value and user is None:
                    error = f"No team member is called {value}."
                else:
                    conn.execute("UPDATE issues SET assignee_id=? WHERE id=?", (user[0] if user else None, r["id"]))
            elif action in ("labels/add", "labels/remove"):
                label = conn.execute("SELECT id FROM labels WHERE name=?", (value,)).fetchone()
                if label is None:
                    error = "Choose a label."
                elif action == "labels/add":
                    conn.execute("INSERT OR IGNORE INTO issue_labels VALUES (?,?)", (r["id"], label[0]))
                else:
                    conn.execute("DELETE FROM issue_labels WHERE issue_id=? AND label_id=?", (r["id"], label[0]))
            elif action == "comment" and 0 < len(value) <= MAX_TEXT:
                conn.execute("INSERT INTO comments (issue_id, author_id, body, created) VALUES (?,?,?,?)",
                             (r["id"], AGENT_ID, value, _now()))
            else:
                error = "That value is not allowed here." if action != "comment" else "A comment needs some text."
            if error:
                return issue_page(conn, key, error, 400)
            conn.execute("UPDATE issues SET updated=? WHERE id=?", (_now(), r["id"]))
            conn.commit()
            return RedirectResponse(f"/issues/{r['key']}", status_code=303)

    def new_form(conn, values: dict, error: str = "", status: int = 200) -> HTMLResponse:
        projects = [(r["key"], r["name"]) for r in conn.execute("SELECT * FROM projects ORDER BY key")]
        users = [("", "Unassigned")] + [(u["username"], u["name"]) for u in people(conn)]
        err = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        body = f"""<form method="post" action="/issues/new">{err}
<p>{select("new-project", "project", "Project", projects, values.get("project", ""))}</p>
<p><label for="new-title">Title</label> <input id="new-title" name="title" type="text" value="{esc(values.get('title', ''))}"></p>
<p><label for="new-description">Description</label><textarea id="new-description" name="description">{esc(values.get('description', ''))}</textarea></p>
<p>{select("new-priority", "priority", "Priority", [(p, p) for p in PRIORITIES], values.get("priority", "Medium"))}</p>
<p>{select("new-assignee", "assignee", "Assignee", users, values.get("assignee", ""))}</p>
<button type="submit">Create issue</button></form>"""
        return render(conn, "New issue", body, status)

    async def new_issue(request: Request):
        with closing(connect()) as conn:
            if request.method == "GET":
                return new_form(conn, {})
            form = await request.form()
            v = {k: str(form.get(k, "")).strip() for k in ("project", "title", "description", "priority", "assignee")}
            project = conn.execute("SELECT id, key FROM projects WHERE key=?", (v["project"],)).fetchone()
            assignee = conn.execute("SELECT id FROM users WHERE username=?", (v["assignee"],)).fetchone()
            if project is None or v["priority"] not in PRIORITIES or (v["assignee"] and assignee is None):
                return new_form(conn, v, "Choose a project, a priority and an assignee from the lists.", 400)
            if not v["title"] or len(v["title"]) > 200 or len(v["description"]) > MAX_TEXT:
                return new_form(conn, v, "A title (at most 200 characters) is required.", 400)
            number = conn.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM issues WHERE project_id=?",
                                  (project[0],)).fetchone()[0]
            conn.execute("INSERT INTO issues (project_id, number, title, description, status, priority, assignee_id, "
                         "reporter_id, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (project[0], number, v["title"], v["description"], "Open", v["priority"],
                          assignee[0] if assignee else None, AGENT_ID, _now(), _now()))
            conn.commit()
            return RedirectResponse(f"/issues/{project[1]}-{number}", status_code=303)

    async def team(request: Request):
        with closing(connect()) as conn:
            rows = conn.execute(
                "SELECT u.*, (SELECT COUNT(*) FROM issues i WHERE i.assignee_id=u.id AND i.status IN "
                "('Open', 'In progress')) AS n_open FROM users u ORDER BY u.name").fetchall()
            items = "".join(f'<tr><td><a href="/issues?assignee={esc(u["username"])}">{esc(u["name"])}</a></td>'
                            f'<td>{esc(u["username"])}</td><td>{esc(u["email"])}</td><td>{esc(u["team"])}</td>'
                            f'<td>{u["n_open"]}</td></tr>' for u in rows)
            return render(conn, "Team", "<table><thead><tr><th>Name</th><th>Username</th><th>Email</th>"
                          f"<th>Team</th><th>Open issues</th></tr></thead><tbody>{items}</tbody></table>")

    async def missing(request: Request, exc: Exception):
        with closing(connect()) as conn:
            return not_found(conn, "page")

    return Starlette(exception_handlers={404: missing}, routes=[
        Route("/", dashboard),
        Route("/issues", issues),
        Route("/issues/new", new_issue, methods=["GET", "POST"]),
        Route("/issues/{key}", show_issue),
        Route("/issues/{key}/{action:path}", change, methods=["POST"]),
        Route("/team", team),
    ])
