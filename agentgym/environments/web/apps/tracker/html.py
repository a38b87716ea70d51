"""Page layout for the tracker: plain server-rendered HTML, every control with an accessible name."""

from __future__ import annotations

from html import escape

SITE = "Beacon Issues"

_STYLE = """
body{font-family:sans-serif;max-width:70rem;margin:0 auto;padding:0 1rem;color:#222}
header{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #ccc;padding:.5rem 0}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #eee;padding:.3rem;text-align:left}
.error{color:#b00} nav.pager{margin:1rem 0;display:flex;gap:.6rem} textarea{width:100%;min-height:5rem}
form.inline{display:inline-block;margin:.3rem 1rem .3rem 0}
"""


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def layout(title: str, body: str, me: str, my_name: str) -> str:
    """A whole page: header with navigation and quick search, then `body` under an <h1> of `title`."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)} · {SITE}</title>
<style>{_STYLE}</style></head>
<body><header>
<strong>{SITE}</strong>
<nav aria-label="Main"><a href="/">Dashboard</a> <a href="/issues">All issues</a>
<a href="/issues?assignee={esc(me)}">My issues</a> <a href="/issues/new">New issue</a> <a href="/team">Team</a></nav>
<form action="/issues" method="get" role="search">
<label for="quick-search">Search issues</label> <input id="quick-search" name="q" type="text">
<button type="submit">Search</button></form>
<span>Signed in as {esc(my_name)} ({esc(me)})</span>
</header>
<main><h1>{esc(title)}</h1>
{body}
</main></body></html>"""


def select(field_id: str, name: str, label: str, options: list[tuple[str, str]], chosen: str) -> str:
    """A labelled <select>; options are (value, visible text)."""
    opts = "".join(
        f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(text)}</option>' for v, text in options
    )
    return f'<label for="{field_id}">{esc(label)}</label> <select id="{field_id}" name="{name}">{opts}</select>'


def pager(base: str, page: int, n_pages: int) -> str:
    if n_pages <= 1:
        return ""
    sep = "&" if "?" in base else "?"
    links = []
    if page > 1:
        links.append(f'<a href="{esc(base)}{sep}page={page - 1}">Previous page</a>')
    for n in range(1, n_pages + 1):
        links.append(f'<span aria-current="page">Page {n}</span>' if n == page
                     else f'<a href="{esc(base)}{sep}page={n}">Page {n}</a>')
    if page < n_pages:
        links.append(f'<a href="{esc(base)}{sep}page={page + 1}">Next page</a>')
    return f'<nav class="pager" aria-label="Pages">{" ".join(links)}</nav>'


def issue_table(rows) -> str:
    if not rows:
        return "<p>No issues match.</p>"
    body = "".join(
        f'<tr data-issue="{esc(r["key"])}"><td><a href="/issues/{esc(r["key"])}">{esc(r["key"])}</a></td>'
        f'<td><a href="/issues/{esc(r["key"])}">{esc(r["title"])}</a></td><td>{esc(r["status"])}</td>'
        f'<td>{esc(r["priority"])}</td><td>{esc(r["assignee_name"] or "Unassigned")}</td>'
        f'<td>{esc(r["labels"] or "")}</td><td>{esc(r["updated"])}</td></tr>' for r in rows
    )
    return ("<table><thead><tr><th>Key</th><th>Title</th><th>Status</th><th>Priority</th><th>Assignee</th>"
            f"<th>Labels</th><th>Updated</th></tr></thead><tbody>{body}</tbody></table>")
