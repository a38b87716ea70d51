"""Forum task templates: each makes one task per difficulty (1..3) from the seeded DB.

Difficulty mostly sets how far the agent must travel: 1 starts next to the goal, 2 starts at the
home page with the target a few pages deep, 3 needs search, a profile detour or several changes.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable

from agentgym.environments.web.apps.forum import queries as q
from agentgym.environments.web.apps.forum.data import AGENT_ID, populate
from agentgym.environments.web.tasks import WebTask
from agentgym.environments.web.urls import visited

ORIGIN = "http://forum.agentgym.test"
COMMENTS = ["Thanks for posting this, it answered my question.", "I tried this last month and it worked well.",
            "Could you share a photo of the result?", "Bookmarking this thread for the weekend.",
            "Great write-up, the second point was new to me.", "I had the same issue and fixed it slowly."]
NEW_TITLES = ["Monthly meetup: who is coming?", "Share your progress this week", "Beginner questions thread",
              "What got you started in this hobby?", "Favourite resources for newcomers"]
BIOS = ["Happy to help newcomers.", "Learning by breaking things.", "Here for the long threads.",
        "Slow and steady hobbyist."]


def link(name: str) -> dict:
    return {"tool": "click", "target": {"role": "link", "name": name}, "args": {}}


def button(name: str) -> dict:
    return {"tool": "click", "target": {"role": "button", "name": name}, "args": {}}


def fill(label: str, text: str) -> dict:
    return {"tool": "fill", "target": {"role": "textbox", "name": label}, "args": {"text": text}}


def css(selector: str) -> dict:
    return {"tool": "click", "target": {"css": selector}, "args": {}}


def answer(text: str) -> dict:
    return {"tool": "answer", "target": None, "args": {"text": text}}


def on_post(post_id: int) -> dict:
    return visited(f"/p/{post_id}")


def _forum_page_of(conn, row, sort: str = "new") -> int:
    """Which page of its sub-forum (in `sort` order) lists the thread."""
    for page in range(1, 20):
        rows, n_pages = q.forum_posts(conn, row["forum_id"], sort, page)
        if any(r["id"] == row["id"] for r in rows):
            return page
        if page >= n_pages:
            break
    raise LookupError(row["id"])


def _searchable(conn, row) -> bool:
    rows, _ = q.search_posts(conn, row["title"], 1)
    return any(r["id"] == row["id"] for r in rows)


def pick_post(conn, rng: random.Random, difficulty: int, author: int | None = None):
    """A thread whose place suits the difficulty; returns (row, start_url, steps to open it)."""
    where = "WHERE p.author_id=?" if author else "WHERE p.author_id<>?"
    ids = [r[0] for r in conn.execute(f"SELECT p.id FROM posts p {where} ORDER BY p.id", (author or AGENT_ID,))]
    rng.shuffle(ids)
    for post_id in ids:
        row = q.post(conn, post_id)
        page = _forum_page_of(conn, row)
        if difficulty == 1 and page == 1:
            return row, f"/f/{row['forum_slug']}", [link(row["title"])]
        if difficulty == 2 and page in (2, 3):
            return row, "/", [link(row["forum_name"])] + [link("Next page")] * (page - 1) + [link(row["title"])]
        if difficulty == 3 and page >= 2 and _searchable(conn, row):
            return row, "/", [fill("Search posts", row["title"]), button("Search"), link(row["title"])]
    raise LookupError(f"no thread fits difficulty {difficulty}")


def info_author(conn, rng, d):
    row, start, steps = pick_post(conn, rng, d)
    return dict(prompt=f'Who started the thread "{row["title"]}"? Answer with their username only.',
                start_url=start, answer=row["author"], subgoals=[dict(on_post(row["id"]), weight=1)],
                solution=steps + [answer(row["author"])])


def info_comments(conn, rng, d):
    row, start, steps = pick_post(conn, rng, d)
    n = str(row["n_comments"])
    return dict(prompt=f'How many comments does the thread "{row["title"]}" have? Answer with a number.',
                start_url=start, answer=n, answer_match="exact",
                subgoals=[dict(on_post(row["id"]), weight=1)], solution=steps + [answer(n)])


def info_score(conn, rng, d):
    row, start, steps = pick_post(conn, rng, d)
    n = str(row["score"])
    return dict(prompt=f'How many points does the thread "{row["title"]}" have? Answer with a number.',
                start_url=start, answer=n, answer_match="exact",
                subgoals=[dict(on_post(row["id"]), weight=1)], solution=steps + [answer(n)])


def info_joined(conn, rng, d):
    row, start, steps = pick_post(conn, rng, d)
    joined = conn.execute("SELECT joined FROM users WHERE username=?", (row["author"],)).fetchone()[0]
    return dict(prompt=f'When did the author of the thread "{row["title"]}" join the forum? '
                       "Answer with the date as YYYY-MM-DD.",
                start_url=start, answer=joined, answer_match="exact",
                subgoals=[dict(on_post(row["id"]), weight=1),
                          visited(f"/u/{row['author']}", weight=1)],
                solution=steps + [css("#post-author"), answer(joined)])


def _forums(conn, rng):
    rows = conn.execute("SELECT * FROM forums ORDER BY id").fetchall()
    return rng.sample(rows, len(rows))


def info_top(conn, rng, d):
    """d1/d2: the top-scored thread (sort by score); d3: the most-commented one (read every page)."""
    for f in _forums(conn, rng):
        if d < 3:
            rows, _ = q.forum_posts(conn, f["id"], "top", 1)
            if rows[0]["score"] == rows[1]["score"]:
                continue
            best = rows[0]["title"]
            steps = ([] if d == 1 else [link(f["name"])]) + [link("Sort by top score"), answer(best)]
            prompt = f'Which thread in {f["name"]} has the highest score? Answer with its title.'
            seen = visited(f"/f/{f['slug']}", weight=1, sort="top")
        else:
            rows, n_pages = [], 1
            page = 0
            while page < n_pages:
                page += 1
                got, n_pages = q.forum_posts(conn, f["id"], "new", page)
                rows += got
            rows.sort(key=lambda r: -r["n_comments"])  # stable: the newest of a tie stays first
            best = rows[0]["title"]
            steps = [link(f["name"])] + [link("Next page")] * (n_pages - 1) + [answer(best)]
            seen = visited(f"/f/{f['slug']}", weight=1, sort="new", page=str(n_pages))  # read to the last page
            prompt = (f'Which thread in {f["name"]} has the most comments? '
                      "If several are tied, pick the newest of them. Answer with its title.")
        return dict(prompt=prompt, start_url=f"/f/{f['slug']}" if d == 1 else "/", answer=best,
                    subgoals=[seen],
                    solution=steps)
    raise LookupError("no forum has a clear winner")


def info_member(conn, rng, d):
    """d1: karma of a member on the first members page; d2: second page; d3: posts in one forum."""
    rows, _ = q.members(conn, 1 if d == 1 else 2)
    user = rng.choice([r for r in rows if r["id"] != AGENT_ID and r["n_posts"] > 0])
    steps = [link("Members")] + ([link("Next page")] if d > 1 else []) + [link(user["username"])]
    if d < 3:
        value = str(q.karma(conn, user["id"]))
        prompt = f"How much karma does the member {user['username']} have? Answer with a number."
    else:
        forum = conn.execute("SELECT f.name, COUNT(*) FROM posts p JOIN forums f ON f.id=p.forum_id "
                             "WHERE p.author_id=? GROUP BY f.id ORDER BY 2 DESC, f.id", (user["id"],)).fetchone()
        value = str(forum[1])
        prompt = f"How many threads has the member {user['username']} started in {forum[0]}? Answer with a number."
    return dict(prompt=prompt, start_url="/", answer=value, answer_match="exact",
                subgoals=[visited(f"/u/{user['username']}", weight=1)],
                solution=steps + [answer(value)])


def vote(conn, rng, d):
    row, start, steps = pick_post(conn, rng, d)
    up = rng.random() < 0.6
    goal = {"check": "vote_is", "args": {"post_id": row["id"], "value": 1 if up else -1}}
    return dict(prompt=f'{"Upvote" if up else "Downvote"} the thread "{row["title"]}".', start_url=start,
                final_checks=[goal], subgoals=[dict(on_post(row["id"]), weight=1), dict(goal, weight=2)],
                solution=steps + [button("Upvote" if up else "Downvote")])


def comment(conn, rng, d):
    row, start, steps = pick_post(conn, rng, d)
    text = rng.choice(COMMENTS)
    goal = {"check": "comment_exists", "args": {"post_id": row["id"], "contains": text}}
    return dict(prompt=f'Reply to the thread "{row["title"]}" with the comment: {text}', start_url=start,
                final_checks=[goal], subgoals=[dict(on_post(row["id"]), weight=1), dict(goal, weight=2)],
                solution=steps + [fill("Write a comment", text), button("Post comment")])


def new_post(conn, rng, d):
    f = _forums(conn, rng)[0]
    title = rng.choice(NEW_TITLES)
    body = rng.choice(COMMENTS)
    goal = {"check": "post_exists", "args": {"forum": f["slug"], "title": title, "body_contains": body}}
    where = f["name"] if d < 3 else f'the sub-forum described as "{f["description"]}"'
    return dict(prompt=f'Start a new thread in {where} titled "{title}" with the text: {body}',
                start_url=f"/f/{f['slug']}" if d == 1 else "/", final_checks=[goal],
                subgoals=[visited(f"/f/{f['slug']}/new", weight=1),
                          dict(goal, weight=2)],
                solution=([] if d == 1 else [link(f["name"])]) + [link("New post"), fill("Title", title),
                                                                   fill("Body", body), button("Publish post")])


def rename(conn, rng, d):
    """Rename one of the agent's own threads; d1 starts on its forum page, others go via the profile."""
    mine = conn.execute("SELECT id FROM posts WHERE author_id=? ORDER BY id", (AGENT_ID,)).fetchall()
    row = q.post(conn, rng.choice(mine)[0])
    if d == 1:
        start, steps = f"/p/{row['id']}", []
    else:
        start, steps = "/", [link("My profile"), link(row["title"])]
    new_title = row["title"].rstrip("?!") + (" (solved)" if d < 3 else " - update inside")
    goal = {"check": "post_title_is", "args": {"post_id": row["id"], "title": new_title}}
    return dict(prompt=f'Rename your thread "{row["title"]}" to "{new_title}".', start_url=start,
                final_checks=[goal],
                subgoals=[visited(f"/p/{row['id']}/edit", weight=1),
                          dict(goal, weight=2)],
                solution=steps + [link("Edit post"), fill("Title", new_title), button("Save changes")])


def profile(conn, rng, d):
    bio = rng.choice(BIOS)
    goals = [{"check": "profile_field_is", "args": {"field": "bio", "value": bio}}]
    steps = [fill("Bio", bio)]
    prompt = f"Set the bio on your profile to: {bio}"
    if d > 1:
        name = f"{rng.choice(['Sam', 'Alex', 'Robin', 'Kai'])} {rng.choice(['Moss', 'Reed', 'Hale'])}"
        goals.append({"check": "profile_field_is", "args": {"field": "display_name", "value": name}})
        steps.insert(0, fill("Display name", name))
        prompt = f'Change your display name to "{name}" and the bio on your profile to: {bio}'
    return dict(prompt=prompt, start_url="/settings" if d == 1 else "/", final_checks=goals,
                subgoals=[dict(g, weight=1) for g in goals],
                solution=([] if d == 1 else [link("Settings")]) + steps + [button("Save profile")])


def top_and_reply(conn, rng, d):
    """Upvote the top thread of a forum and comment on it (two changes after a sorted listing)."""
    f = next(f for f in _forums(conn, rng) if len({r["score"] for r in q.forum_posts(conn, f["id"], "top", 1)[0][:2]}) == 2)
    best = q.forum_posts(conn, f["id"], "top", 1)[0][0]
    text = rng.choice(COMMENTS)
    goals = [{"check": "vote_is", "args": {"post_id": best["id"], "value": 1}},
             {"check": "comment_exists", "args": {"post_id": best["id"], "contains": text}}]
    return dict(prompt=f'Find the highest-scoring thread in {f["name"]}, upvote it, and reply with: {text}',
                start_url=f"/f/{f['slug']}" if d == 1 else "/", final_checks=goals,
                subgoals=[dict(on_post(best["id"]), weight=1)] + [dict(g, weight=1) for g in goals],
                solution=([] if d == 1 else [link(f["name"])]) + [
                    link("Sort by top score"), link(best["title"]), button("Upvote"),
                    fill("Write a comment", text), button("Post comment")])


def downvote_member(conn, rng, d):
    """Downvote all threads a member started in one forum: d threads, found through their profile."""
    rows = conn.execute("SELECT p.author_id, p.forum_id, COUNT(*) FROM posts p WHERE p.author_id<>? "
                        "GROUP BY 1, 2 HAVING COUNT(*)=? ORDER BY 1, 2", (AGENT_ID, d)).fetchall()
    author_id, forum_id, _ = rng.choice(rows)
    user = conn.execute("SELECT username FROM users WHERE id=?", (author_id,)).fetchone()[0]
    fname = conn.execute("SELECT name FROM forums WHERE id=?", (forum_id,)).fetchone()[0]
    posts = conn.execute("SELECT id, title FROM posts WHERE author_id=? AND forum_id=? ORDER BY id",
                         (author_id, forum_id)).fetchall()
    goals = [{"check": "vote_is", "args": {"post_id": pid, "value": -1}} for pid, _ in posts]
    steps = [link("Members")]
    page = next(p for p in (1, 2, 3) if any(r["username"] == user for r in q.members(conn, p)[0]))
    steps += [link("Next page")] * (page - 1) + [link(user)]
    for _, title in posts:
        steps += [link(title), button("Downvote"), css("#post-author")]  # back to their profile
    return dict(prompt=f"Downvote every thread the member {user} started in {fname}.", start_url="/",
                final_checks=goals,
                subgoals=[visited(f"/u/{user}", weight=1)]
                + [dict(g, weight=1) for g in goals], solution=steps[:-1])


def allowed_changes(conn, final_checks: list[dict]) -> list[dict]:
    """The rows the task's final checks are about: the only ones an episode may change."""
    out = []
    for spec in final_checks:
        name, a = spec["check"], spec["args"]
        if name == "vote_is":
            out.append({"table": "votes", "where": {"user_id": AGENT_ID, "post_id": a["post_id"]}})
        elif name == "comment_exists":
            out.append({"table": "comments", "where": {"post_id": a["post_id"], "author_id": AGENT_ID},
                        "kinds": ["inserted"]})
        elif name == "post_exists":
            forum_id = conn.execute("SELECT id FROM forums WHERE slug=?", (a["forum"],)).fetchone()[0]
            out.append({"table": "posts", "where": {"forum_id": forum_id, "author_id": AGENT_ID},
                        "kinds": ["inserted"]})
        elif name == "post_title_is":
            out.append({"table": "posts", "where": {"id": a["post_id"]}, "kinds": ["changed"],
                        "columns": ["title", "edited"]})
        elif name == "profile_field_is":
            out.append({"table": "users", "where": {"id": AGENT_ID}, "kinds": ["changed"], "columns": [a["field"]]})
        else:
            raise ValueError(f"no allowed changes known for the check {name!r}")
    return out


TEMPLATES: dict[str, Callable] = {
    "info_author": info_author, "info_comments": info_comments, "info_score": info_score,
    "info_joined": info_joined, "info_top": info_top, "info_member": info_member, "vote": vote,
    "comment": comment, "new_post": new_post, "rename": rename, "profile": profile,
    "top_and_reply": top_and_reply, "downvote_member": downvote_member,
}


def generate_tasks(seed: int = 0) -> list[WebTask]:
    """Every template at every difficulty, over the forum DB built from `seed`."""
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    populate(conn, seed)
    tasks = []
    for name, template in TEMPLATES.items():
        for d in (1, 2, 3):
            rng = random.Random(f"forum/{seed}/{name}/{d}")
            fields = template(conn, rng, d)
            fields["allowed_changes"] = allowed_changes(conn, fields.get("final_checks", []))
            tasks.append(WebTask(id=f"forum.{name}.{d}", app="forum", db_seed=seed, difficulty=d,
                                 allowed_origins=[ORIGIN], **fields))
    conn.close()
    return tasks
