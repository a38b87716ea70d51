"""Tracker task templates: each makes one task per difficulty (1..3) from the seeded DB.

Difficulty sets the distance to the goal: 1 starts on a list that shows the issue, 2 starts on
the dashboard with the issue pages deep, 3 names the issue only by title (search) or stacks filters
and changes.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable

from agentgym.environments.web.apps.tracker import queries as q
from agentgym.environments.web.apps.tracker.data import (
    AGENT_ID,
    LABELS,
    PRIORITIES,
    STATUSES,
    populate,
)
from agentgym.environments.web.tasks import WebTask
from agentgym.environments.web.urls import visited

ORIGIN = "http://tracker.agentgym.test"
COMMENTS = ["Confirmed on staging, raising with the team.", "Customer asked for an update today.",
            "Please add steps to reproduce.", "Fixed in the next release, keep an eye on it.",
            "Pairing on this tomorrow morning."]
NEW_TITLES = ["Export button missing on reports", "Password rules unclear on signup",
              "Weekly digest email sent twice", "Broken link in the help centre"]


def link(name: str) -> dict:
    return {"tool": "click", "target": {"role": "link", "name": name}, "args": {}}


def button(name: str) -> dict:
    return {"tool": "click", "target": {"role": "button", "name": name}, "args": {}}


def fill(label: str, text: str) -> dict:
    return {"tool": "fill", "target": {"role": "textbox", "name": label}, "args": {"text": text}}


def choose(label: str, option: str) -> dict:
    return {"tool": "select_option", "target": {"role": "combobox", "name": label}, "args": {"value": option}}


def answer(text: str) -> dict:
    return {"tool": "answer", "target": None, "args": {"text": text}}


def on_issue(key: str) -> dict:
    return visited(f"/issues/{key}", weight=1)


def field_is(key: str, field: str, value) -> dict:
    return {"check": "issue_field_is", "args": {"key": key, "field": field, "value": value}}


def _user(conn, user_id) -> sqlite3.Row:
    return conn.execute("SELECT * FROM users WHERE id=?", (user_id,)).fetchone()


def pick_issue(conn, rng: random.Random, d: int, fits: Callable = lambda r: True):
    """An issue suiting difficulty `d` (and `fits`); returns (row, start_url, steps to open it)."""
    rows = [r for r in conn.execute(f"{q.ISSUE_ROW} ORDER BY i.id").fetchall() if fits(r)]
    rng.shuffle(rows)
    for r in rows:
        for page in range(1, 4):
            listed = q.list_issues(conn, {"project": r["project_key"]}, page)[0]
            if any(x["id"] == r["id"] for x in listed):
                break
        else:
            page = 99
        if d == 1 and page == 1:
            return r, f"/issues?project={r['project_key']}", [link(r["key"])]
        if d == 2 and page in (2, 3):
            return r, "/", [link(r["project_name"])] + [link("Next page")] * (page - 1) + [link(r["key"])]
        if d == 3 and page > 1 and any(x["id"] == r["id"] for x in q.list_issues(conn, {"q": r["title"]}, 1)[0]):
            return r, "/", [fill("Search issues", r["title"]), button("Search"), link(r["title"])]
    raise LookupError(f"no issue fits difficulty {d}")


def _named(r, d: int) -> str:
    return f'the issue titled "{r["title"]}"' if d == 3 else f"issue {r['key']}"


def info_assignee(conn, rng, d):
    r, start, steps = pick_issue(conn, rng, d, lambda r: r["assignee_name"])
    return dict(prompt=f"Who is assigned to {_named(r, d)}? Answer with their full name.", start_url=start,
                answer=r["assignee_name"], subgoals=[on_issue(r["key"])],
                solution=steps + [answer(r["assignee_name"])])


def info_reporter(conn, rng, d):
    r, start, steps = pick_issue(conn, rng, d)
    return dict(prompt=f"Who reported {_named(r, d)}? Answer with their full name.", start_url=start,
                answer=r["reporter_name"], subgoals=[on_issue(r["key"])],
                solution=steps + [answer(r["reporter_name"])])


def info_last_commenter(conn, rng, d):
    r, start, steps = pick_issue(conn, rng, d, lambda r: conn.execute(
        "SELECT COUNT(*) FROM comments WHERE issue_id=?", (r["id"],)).fetchone()[0] >= 2)
    name = conn.execute("SELECT u.name FROM comments c JOIN users u ON u.id=c.author_id WHERE issue_id=? "
                        "ORDER BY c.created DESC, c.id DESC", (r["id"],)).fetchone()[0]
    return dict(prompt=f"Who wrote the most recent comment on {_named(r, d)}? Answer with their full name.",
                start_url=start, answer=name, subgoals=[on_issue(r["key"])], solution=steps + [answer(name)])


def _filter_combo(conn, rng, d, need: Callable[[int], bool]):
    """Filters naming a project and d-1 more fields, with a result count that satisfies `need`."""
    projects = conn.execute("SELECT key, name FROM projects ORDER BY key").fetchall()
    names = {r["username"]: r["name"] for r in conn.execute("SELECT * FROM users")}
    for _ in range(500):
        key, pname = rng.choice(projects)
        filters = {"project": key, "status": rng.choice(STATUSES[:2])}
        if d >= 2:
            filters["priority"] = rng.choice(PRIORITIES)
        if d >= 3:
            filters["label"] = rng.choice(LABELS)
        rows, total, _ = q.list_issues(conn, filters, 1)
        if need(total):
            steps = [link("All issues"), choose("Project", pname), choose("Status", filters["status"])]
            steps += [choose("Priority", filters["priority"])] if d >= 2 else []
            steps += [choose("Label", filters["label"])] if d >= 3 else []
            what = f'issues in the {pname} project with status "{filters["status"]}"'
            what += f' and priority {filters["priority"]}' if d >= 2 else ""
            what += f' and the label "{filters["label"]}"' if d >= 3 else ""
            return filters, what, steps, rows, total, names
    raise LookupError("no filter combination fits")


def info_count(conn, rng, d):
    filters, what, steps, _, total, _ = _filter_combo(conn, rng, d, lambda n: 2 <= n)
    return dict(prompt=f"How many {what} are there? Answer with a number.", start_url="/", answer=str(total),
                answer_match="exact",
                subgoals=[visited("/issues", weight=1, project=filters["project"])],
                solution=steps + [button("Apply filters"), answer(str(total))])


def info_oldest(conn, rng, d):
    filters, what, steps, _, _, _ = _filter_combo(conn, rng, d, lambda n: 2 <= n <= 15)
    oldest = q.list_issues(conn, {**filters, "sort": "oldest"}, 1)[0][0]["key"]
    return dict(prompt=f"Which of the {what} was created first? Answer with its key, like ABC-1.",
                start_url="/", answer=oldest,
                subgoals=[visited("/issues", weight=1, project=filters["project"])],
                solution=steps + [choose("Sort by", "Oldest"), button("Apply filters"), answer(oldest)])


def _change(conn, rng, d, prompt_of, goal_of, steps_of, fits=lambda r: True):
    r, start, steps = pick_issue(conn, rng, d, fits)
    goal = goal_of(r)
    return dict(prompt=prompt_of(r, _named(r, d)), start_url=start, final_checks=[goal],
                subgoals=[on_issue(r["key"]), dict(goal, weight=2)], solution=steps + steps_of(r))


def set_status(conn, rng, d):
    target = {1: "Resolved", 2: "In progress", 3: "Closed"}[d]
    return _change(conn, rng, d, lambda r, n: f'Change the status of {n} to "{target}".',
                   lambda r: field_is(r["key"], "status", target),
                   lambda r: [choose("Status", target), button("Update status")], lambda r: r["status"] != target)


def set_priority(conn, rng, d):
    target = {1: "High", 2: "Urgent", 3: "Low"}[d]
    return _change(conn, rng, d, lambda r, n: f"Set the priority of {n} to {target}.",
                   lambda r: field_is(r["key"], "priority", target),
                   lambda r: [choose("Priority", target), button("Update priority")], lambda r: r["priority"] != target)


def assign(conn, rng, d):
    people = conn.execute("SELECT * FROM users WHERE id<>? ORDER BY id", (AGENT_ID,)).fetchall()
    who = rng.choice(people)
    return _change(conn, rng, d, lambda r, n: f"Assign {n} to {who['name']}.",
                   lambda r: field_is(r["key"], "assignee", who["username"]),
                   lambda r: [choose("Assignee", who["name"]), button("Assign")],
                   lambda r: r["assignee"] != who["username"])


def add_label(conn, rng, d):
    label = rng.choice(LABELS)
    return _change(conn, rng, d, lambda r, n: f'Add the label "{label}" to {n}.',
                   lambda r: {"check": "issue_has_label", "args": {"key": r["key"], "label": label}},
                   lambda r: [choose("Label to add", label), button("Add label")],
                   lambda r: label not in (r["labels"] or "").split(", "))


def remove_label(conn, rng, d):
    chosen = {}

    def fits(r):
        if r["labels"]:
            chosen[r["id"]] = rng.choice(r["labels"].split(", "))
        return bool(r["labels"])

    return _change(conn, rng, d, lambda r, n: f'Remove the label "{chosen[r["id"]]}" from {n}.',
                   lambda r: {"check": "issue_has_label", "args": {"key": r["key"], "label": chosen[r["id"]],
                                                                   "present": False}},
                   lambda r: [button(f"Remove label {chosen[r['id']]}")], fits)


def comment(conn, rng, d):
    text = rng.choice(COMMENTS)
    return _change(conn, rng, d, lambda r, n: f"Comment on {n} with: {text}",
                   lambda r: {"check": "comment_exists", "args": {"key": r["key"], "contains": text}},
                   lambda r: [fill("Comment", text), button("Add comment")])


def create_issue(conn, rng, d):
    key, pname = rng.choice(conn.execute("SELECT key, name FROM projects ORDER BY key").fetchall())
    title = rng.choice(NEW_TITLES)
    args = {"project": key, "title": title}
    steps = [link("New issue"), choose("Project", pname), fill("Title", title)]
    prompt = f'File a new issue in the {pname} project titled "{title}"'
    if d >= 2:
        args["priority"] = rng.choice(["High", "Urgent", "Low"])
        steps.append(choose("Priority", args["priority"]))
        prompt += f" with {args['priority'].lower()} priority"
    if d >= 3:
        who = _user(conn, rng.randint(2, 16))
        args["assignee"] = who["username"]
        steps += [fill("Description", rng.choice(COMMENTS)), choose("Assignee", who["name"])]
        prompt += f", assigned to {who['name']}, with a short description"
    goal = {"check": "issue_created", "args": args}
    return dict(prompt=prompt + ".", start_url="/", final_checks=[goal],
                subgoals=[visited("/issues/new", weight=1), dict(goal, weight=2)],
                solution=steps + [button("Create issue")])


def triage(conn, rng, d):
    """Take an open, unassigned-to-me issue: assign to self, start it, and (d>=2) label it."""
    r, start, steps = pick_issue(conn, rng, d, lambda r: r["status"] == "Open" and r["assignee_id"] != AGENT_ID
                                 and "needs-info" not in (r["labels"] or ""))
    me = _user(conn, AGENT_ID)
    goals = [field_is(r["key"], "assignee", me["username"]), field_is(r["key"], "status", "In progress")]
    steps += [choose("Assignee", me["name"]), button("Assign"), choose("Status", "In progress"), button("Update status")]
    prompt = f'Take {_named(r, d)}: assign it to yourself and set its status to "In progress"'
    if d >= 2:
        goals.append({"check": "issue_has_label", "args": {"key": r["key"], "label": "needs-info"}})
        steps += [choose("Label to add", "needs-info"), button("Add label")]
        prompt += ', then add the label "needs-info"'
    return dict(prompt=prompt + ".", start_url=start, final_checks=goals,
                subgoals=[on_issue(r["key"])] + [dict(g, weight=1) for g in goals], solution=steps)


def reassign_all(conn, rng, d):
    """Move all of one person's open issues in a project to someone else (d issues)."""
    combos = conn.execute("SELECT p.key, p.name, i.assignee_id FROM issues i JOIN projects p ON p.id=i.project_id "
                          "WHERE i.status='Open' AND i.assignee_id NOT IN (0, ?) GROUP BY 1, 3 HAVING COUNT(*)=? "
                          "ORDER BY 1, 3", (AGENT_ID, d)).fetchall()
    key, pname, from_id = rng.choice(combos)
    src = _user(conn, from_id)
    dst = rng.choice(conn.execute("SELECT * FROM users WHERE id NOT IN (?, ?) ORDER BY id", (from_id, AGENT_ID)).fetchall())
    rows = q.list_issues(conn, {"project": key, "status": "Open", "assignee": src["username"]}, 1)[0]
    goals = [field_is(r["key"], "assignee", dst["username"]) for r in rows]
    find = [link("All issues"), choose("Project", pname), choose("Status", "Open"), choose("Assignee", src["name"]),
            button("Apply filters")]
    steps = []
    for r in rows:  # the filtered list shrinks as issues move, so filter again for each
        steps += find + [link(r["key"]), choose("Assignee", dst["name"]), button("Assign")]
    return dict(prompt=f"{src['name']} is away. Reassign every open issue of theirs in the {pname} project "
                       f"to {dst['name']}.", start_url="/", final_checks=goals,
                subgoals=[dict(g, weight=1) for g in goals], solution=steps)


COLUMNS = {"status": "status", "priority": "priority", "assignee": "assignee_id"}


def allowed_changes(conn, final_checks: list[dict]) -> list[dict]:
    """The rows the task's final checks are about: the only ones an episode may change."""
    out = []
    for spec in final_checks:
        name, a = spec["check"], spec["args"]
        if name == "issue_created":
            project = conn.execute("SELECT id FROM projects WHERE key=?", (a["project"],)).fetchone()[0]
            out.append({"table": "issues", "where": {"project_id": project, "reporter_id": AGENT_ID},
                        "kinds": ["inserted"]})
            continue
        issue = q.issue(conn, a["key"])["id"]
        touched = ["updated"]  # every change to an issue stamps it
        if name == "issue_field_is":
            touched.append(COLUMNS[a["field"]])
        elif name == "issue_has_label":
            out.append({"table": "issue_labels", "where": {"issue_id": issue}, "kinds": ["inserted", "deleted"]})
        elif name == "comment_exists":
            out.append({"table": "comments", "where": {"issue_id": issue, "author_id": AGENT_ID},
                        "kinds": ["inserted"]})
        else:
            raise ValueError(f"no allowed changes known for the check {name!r}")
        out.append({"table": "issues", "where": {"id": issue}, "kinds": ["changed"], "columns": touched})
    return out


TEMPLATES: dict[str, Callable] = {
    "info_assignee": info_assignee, "info_reporter": info_reporter, "info_last_commenter": info_last_commenter,
    "info_count": info_count, "info_oldest": info_oldest, "set_status": set_status,
    "set_priority": set_priority, "assign": assign, "add_label": add_label, "remove_label": remove_label,
    "comment": comment, "create_issue": create_issue, "triage": triage, "reassign_all": reassign_all,
}


def generate_tasks(seed: int = 0) -> list[WebTask]:
    """Every template at every difficulty, over the tracker DB built from `seed`."""
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    populate(conn, seed)
    tasks = []
    for name, template in TEMPLATES.items():
        for d in (1, 2, 3):
            rng = random.Random(f"tracker/{seed}/{name}/{d}")
            fields = template(conn, rng, d)
            fields["allowed_changes"] = allowed_changes(conn, fields.get("final_checks", []))
            tasks.append(WebTask(id=f"tracker.{name}.{d}", app="tracker", db_seed=seed, difficulty=d,
                                 allowed_origins=[ORIGIN], **fields))
    conn.close()
    return tasks
