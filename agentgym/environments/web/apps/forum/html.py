"""Page layout for the forum: plain server-rendered HTML, every control with an accessible name."""

from __future__ import annotations

from html import escape

SITE = "Hobbyhub"

_STYLE = """
body{font-family:sans-serif;max-width:60rem;margin:0 auto;padding:0 1rem;color:#222}
header{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #ccc;padding:.5rem 0}
article{border-bottom:1px solid #eee;padding:.4rem 0} .meta{color:#666;font-size:.9rem}
.error{color:#b00} nav.pager{margin:1rem 0;display:flex;gap:.6rem} textarea{width:100%;min-height:6rem}
"""


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def layout(title: str, body: str, me: str, query: str = "") -> str:
    """A whole page: header with navigation and search, then `body` under an <h1> of `title`."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)} · {SITE}</title>
<style>{_STYLE}</style></head>
<body><header>
<strong>{SITE}</strong>
<nav aria-label="Main"><a href="/">Home</a> <a href="/members">Members</a>
<a href="/u/{esc(me)}">My profile</a> <a href="/settings">Settings</a></nav>
<form action="/search" method="get" role="search">
<label for="search-q">Search posts</label>
<input id="search-q" name="q" type="text" value="{esc(query)}">
<button type="submit">Search</button></form>
<span class="meta">Logged in as {esc(me)}</span>
</header>
<main><h1>{esc(title)}</h1>
{body}
</main></body></html>"""


def pager(base: str, page: int, n_pages: int) -> str:
    """Previous/next and numbered page links; `base` already carries any other query parameters."""
    if n_pages <= 1:
        return ""
    sep = "&" if "?" in base else "?"
    links = []
    if page > 1:
        links.append(f'<a href="{esc(base)}{sep}page={page - 1}">Previous page</a>')
    for n in range(1, n_pages + 1):
        if n == page:
            links.append(f'<span aria-current="page">Page {n}</span>')
        else:
            links.append(f'<a href="{esc(base)}{sep}page={n}">Page {n}</a>')
    if page < n_pages:
        links.append(f'<a href="{esc(base)}{sep}page={page + 1}">Next page</a>')
    return f'<nav class="pager" aria-label="Pages">{" ".join(links)}</nav>'


def post_rows(rows, show_forum: bool = False) -> str:
    """A list of threads: title link, author, score, comment count, date."""
    if not rows:
        return "<p>No posts found.</p>"
    out = []
    for r in rows:
        where = f' in <a href="/f/{esc(r["forum_slug"])}">{esc(r["forum_name"])}</a>' if show_forum else ""
        out.append(
            f'<article data-post-id="{r["id"]}"><h3><a href="/p/{r["id"]}">{esc(r["title"])}</a></h3>'
            f'<p class="meta">by <a href="/u/{esc(r["author"])}">{esc(r["author"])}</a>{where} · '
            f'{r["score"]} points · {r["n_comments"]} comments · {esc(r["created"])}</p></article>'
        )
    return "\n".join(out)
