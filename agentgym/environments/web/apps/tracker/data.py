"""The tracker's schema and its seeded generator (made-up team, projects, issues and comments)."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta

AGENT_ID = 1  # the logged-in user, i.e. the agent

STATUSES = ["Open", "In progress", "Resolved", "Closed"]
PRIORITIES = ["Low", "Medium", "High", "Urgent"]

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, name TEXT UNIQUE NOT NULL,
                    email TEXT NOT NULL, team TEXT NOT NULL);
CREATE TABLE projects (id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
                       description TEXT NOT NULL);
CREATE TABLE labels (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE issues (id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),
                     number INTEGER NOT NULL, title TEXT NOT NULL, description TEXT NOT NULL,
                     status TEXT NOT NULL, priority TEXT NOT NULL, assignee_id INTEGER REFERENCES users(id),
                     reporter_id INTEGER NOT NULL REFERENCES users(id), created TEXT NOT NULL,
                     updated TEXT NOT NULL, UNIQUE (project_id, number));
CREATE TABLE issue_labels (issue_id INTEGER NOT NULL, label_id INTEGER NOT NULL,
                           PRIMARY KEY (issue_id, label_id));
CREATE TABLE comments (id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL REFERENCES issues(id),
                       author_id INTEGER NOT NULL REFERENCES users(id), body TEXT NOT NULL,
                       created TEXT NOT NULL);
CREATE INDEX comments_issue ON comments(issue_id);
"""

PROJECTS = [
    ("WEB", "Storefront Web", "The customer-facing web shop.",
     ["checkout page", "search results", "product gallery", "login form", "cart badge", "footer links",
      "cookie banner", "password reset email", "order history page", "wishlist"]),
    ("MOB", "Mobile App", "The iOS and Android apps.",
     ["push notifications", "offline mode", "dark theme", "onboarding screens", "barcode scanner",
      "app icon", "settings screen", "in-app purchases", "image cache", "deep links"]),
    ("OPS", "Infrastructure", "Servers, deployments and monitoring.",
     ["nightly backup", "TLS certificates", "log rotation", "staging database", "deploy pipeline",
      "disk usage alerts", "DNS records", "load balancer", "metrics dashboard", "VPN access"]),
    ("CRM", "Customer Support", "Support tickets escalated from customers.",
     ["refund request flow", "invoice PDF", "account deletion", "shipping address form",
      "support chat widget", "newsletter signup", "loyalty points", "gift cards", "contact form",
      "SMS receipts"]),
]

TITLE_PATTERNS = [
    "{S} is broken on small screens", "{S} shows the wrong language", "Crash when opening the {s}",
    "{S} loads very slowly", "Add an option to disable the {s}", "{S} fails for some users",
    "Typo in the {s}", "Redesign the {s}", "{S} times out under load", "Missing translation in the {s}",
    "Improve error message in the {s}", "{S} ignores user settings",
]

DESCRIPTIONS = [
    "Steps to reproduce: open the {s} and wait a few seconds.", "Reported by several customers this week.",
    "Happens only on the latest release.", "Expected the {s} to behave like before the update.",
    "Screenshots are attached in the support ticket.", "Not urgent, but it looks unprofessional.",
    "This blocks the next release if it is not fixed.", "Possibly related to last month's refactor.",
]

REPLIES = [
    "I can reproduce this on my machine.", "Looking into it now.", "Could you attach the logs?",
    "This should be fixed by the latest deploy.", "Still happening for me.", "Moving this to the next sprint.",
    "Added a test that covers this case.", "Customer confirmed the workaround helps.",
    "Needs a decision from the product team.", "Duplicate of an older report, linking them.",
]

LABELS = ["bug", "feature", "regression", "ui", "performance", "security", "documentation",
          "needs-info", "good-first-issue", "duplicate", "customer-reported"]

FIRST = ["Amara", "Boris", "Camila", "Deniz", "Eitan", "Fatima", "Gustav", "Hana", "Ivan", "Jade",
         "Kofi", "Leila", "Mateo", "Noor", "Oskar", "Priya", "Rafael", "Sina", "Tomas", "Uma"]
LAST = ["Andersen", "Bauer", "Chen", "Diaz", "Evans", "Fontaine", "Gupta", "Horvat", "Iqbal",
        "Jovanovic", "Kim", "Lopez", "Mensah", "Nakamura", "Olsen", "Park"]
TEAMS = ["Frontend", "Mobile", "Platform", "Support"]

N_USERS = 16
ISSUES_PER_PROJECT = (36, 48)
START = datetime(2024, 2, 1, 9, 0)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def _users(rng: random.Random) -> list[tuple]:
    rows, names = [], set()
    while len(rows) < N_USERS:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if f"{first} {last}" in names or any(n.startswith(first + " ") for n in names):
            continue  # first names stay unique too, so usernames are
        names.add(f"{first} {last}")
        username = f"{first[0].lower()}{last.lower()}"
        rows.append((len(rows) + 1, username, f"{first} {last}", f"{username}@example.com", rng.choice(TEAMS)))
    return rows


def populate(conn: sqlite3.Connection, seed: int) -> None:
    """Fill an empty connection with the tracker generated from `seed`."""
    rng = random.Random(seed)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO users VALUES (?,?,?,?,?)", _users(rng))
    conn.executemany("INSERT INTO labels VALUES (?,?)", list(enumerate(LABELS, start=1)))
    titles: set[str] = set()
    issue_id = 0
    for project_id, (key, name, description, subjects) in enumerate(PROJECTS, start=1):
        conn.execute("INSERT INTO projects VALUES (?,?,?,?)", (project_id, key, name, description))
        number = 0
        for _ in range(rng.randint(*ISSUES_PER_PROJECT)):
            subject = rng.choice(subjects)
            title = rng.choice(TITLE_PATTERNS).format(s=subject, S=subject[0].upper() + subject[1:])
            if title in titles:
                continue
            titles.add(title)
            issue_id += 1
            number += 1
            created = START + timedelta(minutes=rng.randint(0, 120 * 24 * 60))
            updated = created + timedelta(minutes=rng.randint(0, 20 * 24 * 60))
            status = rng.choices(STATUSES, weights=[5, 3, 2, 2])[0]
            assignee = None if rng.random() < 0.15 else rng.randint(1, N_USERS)
            body = " ".join(s.format(s=subject) for s in rng.sample(DESCRIPTIONS, rng.randint(1, 3)))
            conn.execute("INSERT INTO issues VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         (issue_id, project_id, number, title, body, status,
                          rng.choices(PRIORITIES, weights=[3, 5, 3, 1])[0], assignee,
                          rng.randint(2, N_USERS), _stamp(created), _stamp(updated)))
            for label_id in rng.sample(range(1, len(LABELS) + 1), rng.choice([0, 1, 1, 2, 2, 3])):
                conn.execute("INSERT INTO issue_labels VALUES (?,?)", (issue_id, label_id))
            when = created
            for _ in range(rng.choice([0, 0, 1, 2, 3, 4])):
                when += timedelta(minutes=rng.randint(10, 2000))
                conn.execute("INSERT INTO comments (issue_id, author_id, body, created) VALUES (?,?,?,?)",
                             (issue_id, rng.randint(2, N_USERS), rng.choice(REPLIES), _stamp(when)))
    conn.commit()


def build_db(path: str, seed: int) -> None:
    """Create the tracker's SQLite DB at `path` from `seed`."""
    conn = sqlite3.connect(path)
    try:
        populate(conn, seed)
    finally:
        conn.close()
