"""The forum's pages and forms (Starlette), over one SQLite file per episode."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from urllib.parse import quote_plus

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import Route

from agentgym.environments.web.apps.forum import queries as q
from agentgym.environments.web.apps.forum.data import AGENT_ID
from agentgym.environments.web.apps.forum.html import esc, layout, pager, post_rows

MAX_TEXT = 5000


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M")


def _page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def create_app(db_path: str) -> Starlette:
    """The forum as an ASGI app over the DB at `db_path`; user AGENT_ID is logged in."""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(db_path)
        conn.row_factory = sqlite3.Row
        return conn

    def me(conn) -> sqlite3.Row:
        return conn.execute("SELECT * FROM users WHERE id=?", (AGENT_ID,)).fetchone()

    def render(conn, title: str, body: str, status: int = 200, query: str = "") -> HTMLResponse:
        return HTMLResponse(layout(title, body, me(conn)["username"], query), status_code=status)

    def not_found(conn, what: str) -> HTMLResponse:
        return render(conn, "Not found", f"<p>No such {esc(what)}.</p>", 404)

    async def home(request: Request):
        with closing(connect()) as conn:
            rows = conn.execute(
                "SELECT f.*, (SELECT COUNT(*) FROM posts p WHERE p.forum_id=f.id) AS n FROM forums f ORDER BY f.id"
            ).fetchall()
            items = "".join(
                f'<li><a href="/f/{esc(r["slug"])}">{esc(r["name"])}</a> — {esc(r["description"])} '
                f'<span class="meta">({r["n"]} posts)</span></li>' for r in rows
            )
            return render(conn, "Forums", f"<ul>{items}</ul>")

    async def forum(request: Request):
        slug = request.path_params["slug"]
        sort = request.query_params.get("sort", "new")
        sort = sort if sort in q.SORTS else "new"
        page = _page_number(request)
        with closing(connect()) as conn:
            f = conn.execute("SELECT * FROM forums WHERE slug=?", (slug,)).fetchone()
            if f is None:
                return not_found(conn, "forum")
            rows, n_pages = q.forum_posts(conn, f["id"], sort, page)
            sorts = " ".join(
                f'<span aria-current="true">{label}</span>' if key == sort
                else f'<a href="/f/{esc(slug)}?sort={key}">{label}</a>'
                for key, label in (("new", "Sort by newest"), ("top", "Sort by top score"))
            )
            body = (f'<p>{esc(f["description"])}</p><p><a href="/f/{esc(slug)}/new">New post</a></p>'
                    f'<p>{sorts}</p>{post_rows(rows)}{pager(f"/f/{slug}?sort={sort}", page, n_pages)}')
            return render(conn, f["name"], body)

    async def show_post(request: Request):
        post_id = request.path_params["post_id"]
        with closing(connect()) as conn:
            return _post_page(conn, post_id)

    def _post_page(conn, post_id: int, error: str = "", status: int = 200) -> HTMLResponse:
        p = q.post(conn, post_id)
        if p is None:
            return not_found(conn, "post")
        full = conn.execute("SELECT * FROM posts WHERE id=?", (post_id,)).fetchone()
        mine = conn.execute("SELECT value FROM votes WHERE user_id=? AND post_id=?", (AGENT_ID, post_id)).fetchone()
        vote_note = {1: "You upvoted this post.", -1: "You downvoted this post."}.get(mine[0] if mine else 0, "")
        comments = conn.execute(
            "SELECT c.*, u.username FROM comments c JOIN users u ON u.id=c.author_id WHERE post_id=? "
            "ORDER BY c.created, c.id", (post_id,)).fetchall()
        items = "".join(
            f'<li data-comment-id="{c["id"]}"><p class="meta"><a href="/u/{esc(c["username"])}">'
            f'{esc(c["username"])}</a> · {esc(c["created"])}</p><p>{esc(c["body"])}</p></li>' for c in comments
        )
        edit = f'<p><a href="/p/{post_id}/edit">Edit post</a></p>' if full["author_id"] == AGENT_ID else ""
        edited = f' · edited {esc(full["edited"])}' if full["edited"] else ""
        err = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        body = f"""<p class="meta">Posted by <a id="post-author" href="/u/{esc(p['author'])}">{esc(p['author'])}</a>
in <a href="/f/{esc(p['forum_slug'])}">{esc(p['forum_name'])}</a> · {esc(p['created'])}{edited}</p>
<div class="post-body">{esc(full['body'])}</div>{edit}
<p><span id="score">{p['score']} points</span> {vote_note}</p>
<form method="post" action="/p/{post_id}/vote">
<button type="submit" name="value" value="1">Upvote</button>
<button type="submit" name="value" value="-1">Downvote</button>
<button type="submit" name="value" value="0">Clear vote</button></form>
<h2>{p['n_comments']} comments</h2><ol class="comments">{items}</ol>
<form method="post" action="/p/{post_id}/comment">{err}
<label for="comment-body">Write a comment</label><textarea id="comment-body" name="body"></textarea>
<button type="submit">Post comment</button></form>"""
        return render(conn, p["title"], body, status)

    async def vote(request: Request):
        post_id = request.path_params["post_id"]
        form = await request.form()
        with closing(connect()) as conn:
            if q.post(conn, post_id) is None:
                return not_found(conn, "post")
            value = str(form.get("value", ""))
            if value not in {"1", "-1", "0"}:
                return _post_page(conn, post_id, "Unknown vote.", 400)
            conn.execute("DELETE FROM votes WHERE user_id=? AND post_id=?", (AGENT_ID, post_id))
            if value != "0":
                conn.execute("INSERT INTO votes VALUES (?,?,?)", (AGENT_ID, post_id, int(value)))
            conn.commit()
        return RedirectResponse(f"/p/{post_id}", status_code=303)

    async def comment(request: Request):
        post_id = request.path_params["post_id"]
        text = str((await request.form()).get("body", "")).strip()
        with closing(connect()) as conn:
            if q.post(conn, post_id) is None:
                return not_found(conn, "post")
            if not text or len(text) > MAX_TEXT:
                return _post_page(conn, post_id, "A comment needs some text (at most 5000 characters).", 400)
            conn.execute("INSERT INTO comments (post_id, author_id, body, created) VALUES (?,?,?,?)",
                         (post_id, AGENT_ID, text, _now()))
            conn.commit()
        return RedirectResponse(f"/p/{post_id}", status_code=303)

    def _post_form(conn, title: str, action: str, values: dict, button: str, error: str = "", status=200):
        err = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        body = f"""<form method="post" action="{esc(action)}">{err}
<p><label for="post-title">Title</label> <input id="post-title" name="title" type="text" value="{esc(values.get('title', ''))}"></p>
<p><label for="post-body">Body</label><textarea id="post-body" name="body">{esc(values.get('body', ''))}</textarea></p>
<button type="submit">{esc(button)}</button></form>"""
        return render(conn, title, body, status)

    def _valid(title: str, body: str) -> str:
        if not title or not body:
            return "Both a title and a body are required."
        if len(title) > 200 or len(body) > MAX_TEXT:
            return "The title (200) or body (5000 characters) is too long."
        return ""

    async def new_post(request: Request):
        slug = request.path_params["slug"]
        with closing(connect()) as conn:
            f = conn.execute("SELECT * FROM forums WHERE slug=?", (slug,)).fetchone()
            if f is None:
                return not_found(conn, "forum")
            title = f"New post in {f['name']}"
            if request.method == "GET":
                return _post_form(conn, title, f"/f/{slug}/new", {}, "Publish post")
            form = await request.form()
            values = {k: str(form.get(k, "")).strip() for k in ("title", "body")}
            error = _valid(values["title"], values["body"])
            if error:
                return _post_form(conn, title, f"/f/{slug}/new", values, "Publish post", error, 400)
            cur = conn.execute("INSERT INTO posts (forum_id, author_id, title, body, created) VALUES (?,?,?,?,?)",
                               (f["id"], AGENT_ID, values["title"], values["body"], _now()))
            conn.commit()
            return RedirectResponse(f"/p/{cur.lastrowid}", status_code=303)

    async def edit_post(request: Request):
        post_id = request.path_params["post_id"]
        with closing(connect()) as conn:
            p = conn.execute("SELECT * FROM posts WHERE id=?", (post_id,)).fetchone()
            if p is None:
                return not_found(conn, "post")
            if p["author_id"] != AGENT_ID:
                return render(conn, "Not allowed", "<p>You can only edit your own posts.</p>", 403)
            action = f"/p/{post_id}/edit"
            if request.method == "GET":
                return _post_form(conn, "Edit post", action, dict(p), "Save changes")
            form = await request.form()
            values = {k: str(form.get(k, "")).strip() for k in ("title", "body")}
            error = _valid(values["title"], values["body"])
            if error:
                return _post_form(conn, "Edit post", action, values, "Save changes", error, 400)
            conn.execute("UPDATE posts SET title=?, body=?, edited=? WHERE id=?",
                         (values["title"], values["body"], _now(), post_id))
            conn.commit()
        return RedirectResponse(f"/p/{post_id}", status_code=303)

    async def profile(request: Request):
        name = request.path_params["username"]
        with closing(connect()) as conn:
            u = conn.execute("SELECT * FROM users WHERE username=?", (name,)).fetchone()
            if u is None:
                return not_found(conn, "user")
            posts = q.user_posts(conn, u["id"])
            n_comments = conn.execute("SELECT COUNT(*) FROM comments WHERE author_id=?", (u["id"],)).fetchone()[0]
            body = (f'<dl><dt>Display name</dt><dd id="display-name">{esc(u["display_name"])}</dd>'
                    f'<dt>About</dt><dd id="bio">{esc(u["bio"])}</dd><dt>Joined</dt><dd id="joined">{esc(u["joined"])}</dd>'
                    f'<dt>Karma</dt><dd id="karma">{q.karma(conn, u["id"])}</dd>'
                    f'<dt>Comments</dt><dd id="comment-count">{n_comments}</dd></dl>'
                    f'<h2>{len(posts)} posts</h2>{post_rows(posts, show_forum=True)}')
            return render(conn, u["username"], body)

    async def members(request: Request):
        page = _page_number(request)
        with closing(connect()) as conn:
            rows, n_pages = q.members(conn, page)
            items = "".join(
                f'<tr><td><a href="/u/{esc(r["username"])}">{esc(r["username"])}</a></td>'
                f'<td>{esc(r["display_name"])}</td><td>{esc(r["joined"])}</td><td>{r["n_posts"]}</td></tr>'
                for r in rows)
            body = (f"<table><thead><tr><th>Username</th><th>Name</th><th>Joined</th><th>Posts</th></tr></thead>"
                    f"<tbody>{items}</tbody></table>{pager('/members', page, n_pages)}")
            return render(conn, "Members", body)

    async def search(request: Request):
        text = request.query_params.get("q", "").strip()
        page = _page_number(request)
        with closing(connect()) as conn:
            if not text:
                return render(conn, "Search", "<p>Type words to look for in post titles and bodies.</p>")
            rows, n_pages = q.search_posts(conn, text, page)
            body = post_rows(rows, show_forum=True) + pager(f"/search?q={quote_plus(text)}", page, n_pages)
            return render(conn, f"Search results for {text}", body, query=text)

    async def settings(request: Request):
        with closing(connect()) as conn:
            message = ""
            if request.method == "POST":
                form = await request.form()
                name, bio = str(form.get("display_name", "")).strip(), str(form.get("bio", "")).strip()
                if not name or len(name) > 80 or len(bio) > 500:
                    message = '<p class="error" role="alert">A display name (at most 80) is required; a bio has at most 500 characters.</p>'
                else:
                    conn.execute("UPDATE users SET display_name=?, bio=? WHERE id=?", (name, bio, AGENT_ID))
                    conn.commit()
                    message = '<p role="status">Profile saved.</p>'
            u = me(conn)
            body = f"""<form method="post" action="/settings">{message}
<p><label for="display-name-input">Display name</label> <input id="display-name-input" name="display_name" type="text" value="{esc(u['display_name'])}"></p>
<p><label for="bio-input">Bio</label> <textarea id="bio-input" name="bio">{esc(u['bio'])}</textarea></p>
<button type="submit">Save profile</button></form>"""
            return render(conn, "Settings", body, 400 if "error" in message else 200)

    async def missing(request: Request, exc: Exception):
        with closing(connect()) as conn:
            return not_found(conn, "page")

    return Starlette(exception_handlers={404: missing}, routes=[
        Route("/", home),
        Route("/f/{slug}", forum),
        Route("/f/{slug}/new", new_post, methods=["GET", "POST"]),
        Route("/p/{post_id:int}", show_post),
        Route("/p/{post_id:int}/vote", vote, methods=["POST"]),
        Route("/p/{post_id:int}/comment", comment, methods=["POST"]),
        Route("/p/{post_id:int}/edit", edit_post, methods=["GET", "POST"]),
        Route("/u/{username}", profile),
        Route("/members", members),
        Route("/search", search),
        Route("/settings", settings, methods=["GET", "POST"]),
    ])
