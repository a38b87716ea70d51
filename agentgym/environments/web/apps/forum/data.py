"""The forum's schema and its seeded generator (made-up people, threads and replies)."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta

AGENT_ID = 1  # the logged-in user, i.e. the agent

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, display_name TEXT NOT NULL,
                    bio TEXT NOT NULL, joined TEXT NOT NULL);
CREATE TABLE forums (id INTEGER PRIMARY KEY, slug TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
                     description TEXT NOT NULL);
CREATE TABLE posts (id INTEGER PRIMARY KEY, forum_id INTEGER NOT NULL REFERENCES forums(id),
                    author_id INTEGER NOT NULL REFERENCES users(id), title TEXT NOT NULL,
                    body TEXT NOT NULL, created TEXT NOT NULL, edited TEXT);
CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts(id),
                       author_id INTEGER NOT NULL REFERENCES users(id), body TEXT NOT NULL,
                       created TEXT NOT NULL);
CREATE TABLE votes (user_id INTEGER NOT NULL, post_id INTEGER NOT NULL, value INTEGER NOT NULL,
                    PRIMARY KEY (user_id, post_id));
CREATE INDEX posts_forum ON posts(forum_id);
CREATE INDEX comments_post ON comments(post_id);
CREATE INDEX votes_post ON votes(post_id);
"""

# slug, name, description, subjects discussed there
FORUMS = [
    ("gardening", "Gardening", "Vegetables, flowers, soil and everything that grows.",
     ["tomato seedlings", "raised beds", "composting", "clay soil", "sweet peas", "rose pruning",
      "a herb spiral", "slug control", "rhubarb", "seed saving", "a wildflower patch", "potatoes in bags"]),
    ("cooking", "Home Cooking", "Recipes, techniques and kitchen disasters.",
     ["sourdough starter", "cast iron pans", "fresh pasta", "lentil soup", "a chef's knife",
      "fermented hot sauce", "meal prep", "risotto", "pie crust", "a spice rack", "dumplings", "bread flour"]),
    ("cycling", "Cycling", "Commuting, touring, racing and fixing bikes.",
     ["tubeless tyres", "a steel frame", "winter commuting", "chain wear", "bikepacking bags",
      "disc brakes", "a cargo bike", "saddle sores", "gravel routes", "a turbo trainer",
      "mudguards", "clipless pedals"]),
    ("photography", "Photography", "Cameras, lenses, light and editing.",
     ["a 50mm prime", "film cameras", "night sky shots", "a travel tripod", "street photography",
      "colour grading", "macro lenses", "bird photography", "a light meter", "portrait lighting",
      "darkroom printing", "lens filters"]),
    ("boardgames", "Board Games", "Strategy, party games and game nights.",
     ["cooperative games", "a game night group", "card sleeves", "legacy campaigns",
      "two-player games", "miniature painting", "deck building", "a shelf organiser",
      "solo board games", "trading games", "worker placement", "teaching rules"]),
    ("retro", "Retro Computing", "Old machines, restorations and emulators.",
     ["a CRT monitor", "floppy disks", "capacitor replacement", "a mechanical keyboard",
      "a sound card", "BASIC programs", "an old laptop battery", "cassette loading",
      "a home-built computer kit", "8-bit music", "yellowed plastic", "a modem"]),
]

TITLE_PATTERNS = [
    "Tips for {s}?", "My first attempt at {s}", "What am I doing wrong with {s}?", "Is {s} worth it?",
    "Best way to get started with {s}", "Finally sorted out {s}", "Quick question about {s}",
    "{S} on a budget", "Show me your {s}", "Help with {s} please", "Thoughts on {s} after a year",
    "A beginner's notes on {s}", "Unpopular opinion about {s}", "Where to buy {s}?",
]

SENTENCES = [
    "I have been looking into {s} for a few weeks now.", "Most guides I found online disagree about {s}.",
    "Last weekend I finally tried it and the results were mixed.", "Any advice from people who have done this before?",
    "My neighbour swears by a completely different approach.", "I am working with a small budget, so cheap ideas are welcome.",
    "The first try went surprisingly well, the second one not so much.", "I will post an update once I know more.",
    "Pictures would not do it justice, honestly.", "Is there something obvious I am missing here?",
    "I read that {s} takes a lot of patience.", "So far I have spent more time reading than doing.",
]

REPLIES = [
    "Great question, I had the same problem with {s} last year.", "Take it slowly, it gets easier.",
    "I would not spend much money until you know you like it.", "Have you checked the pinned guide?",
    "This is the way. Thanks for sharing!", "Same here, following this thread.",
    "Honestly {s} changed everything for me.", "Try asking at your local club, they are friendly.",
    "Not sure I agree, but interesting take.", "Looks great, well done!",
    "Patience is the key with {s}.", "I did the exact opposite and it worked fine.",
]

FIRST = ["Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kemi",
         "Lars", "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tala", "Umar", "Vera",
         "Wen", "Ximena", "Yusuf", "Zoe"]
LAST = ["Abbott", "Brandt", "Costa", "Dalton", "Eriksen", "Fischer", "Garcia", "Haas", "Ito", "Jensen",
        "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Quist", "Rossi", "Sato",
        "Tanaka", "Ueda", "Varga", "Weber", "Young"]
HANDLE_WORDS = ["fern", "otter", "pixel", "maple", "comet", "pepper", "harbor", "quartz", "sparrow",
                "tinker", "nova", "willow", "cobalt", "ember", "birch", "lumen"]
BIOS = ["Weekend tinkerer and tea drinker.", "Learning something new every day.", "Lurker turned poster.",
        "Mostly here for the pictures.", "Parent, cyclist, amateur baker.", "I ask a lot of questions.",
        "Retired engineer with too many hobbies.", "Night owl. Collector of small projects."]

N_USERS = 40
POSTS_PER_FORUM = (32, 44)
START = datetime(2024, 1, 1, 8, 0)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def _users(rng: random.Random) -> list[tuple]:
    rows, handles = [], set()
    while len(rows) < N_USERS:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"{first.lower()}_{rng.choice(HANDLE_WORDS)}{rng.randint(1, 99)}"
        if handle in handles:
            continue
        handles.add(handle)
        joined = START - timedelta(days=rng.randint(30, 1500))
        rows.append((len(rows) + 1, handle, f"{first} {last}", rng.choice(BIOS), joined.strftime("%Y-%m-%d")))
    return rows


def _text(rng: random.Random, bank: list[str], subject: str, n: int) -> str:
    return " ".join(s.format(s=subject) for s in rng.sample(bank, n))


def populate(conn: sqlite3.Connection, seed: int) -> None:
    """Fill an empty connection with the forum generated from `seed`."""
    rng = random.Random(seed)
    conn.executescript(SCHEMA)
    users = _users(rng)
    conn.executemany("INSERT INTO users VALUES (?,?,?,?,?)", users)
    titles: set[str] = set()
    post_id = comment_id = 0
    for forum_id, (slug, name, description, subjects) in enumerate(FORUMS, start=1):
        conn.execute("INSERT INTO forums VALUES (?,?,?,?)", (forum_id, slug, name, description))
        for i in range(rng.randint(*POSTS_PER_FORUM)):
            subject = rng.choice(subjects)
            title = rng.choice(TITLE_PATTERNS).format(s=subject, S=subject[0].upper() + subject[1:])
            if title in titles:
                continue
            titles.add(title)
            post_id += 1
            # the agent wrote two threads per forum, so it has something of its own to edit
            author = AGENT_ID if i in (3, 17) else rng.randint(2, N_USERS)
            created = START + timedelta(minutes=rng.randint(0, 180 * 24 * 60))
            body = _text(rng, SENTENCES, subject, rng.randint(2, 4))
            conn.execute("INSERT INTO posts VALUES (?,?,?,?,?,?,NULL)",
                         (post_id, forum_id, author, title, body, _stamp(created)))
            for _ in range(rng.choice([0, 1, 2, 2, 3, 4, 5, 7, 9])):
                comment_id += 1
                created = created + timedelta(minutes=rng.randint(5, 3000))
                conn.execute("INSERT INTO comments VALUES (?,?,?,?,?)",
                             (comment_id, post_id, rng.randint(2, N_USERS),
                              _text(rng, REPLIES, subject, rng.randint(1, 2)), _stamp(created)))
            voters = rng.sample(range(2, N_USERS + 1), rng.randint(0, 30))
            conn.executemany("INSERT INTO votes VALUES (?,?,?)",
                             [(v, post_id, 1 if rng.random() < 0.8 else -1) for v in voters])
    conn.commit()


def build_db(path: str, seed: int) -> None:
    """Create the forum's SQLite DB at `path` from `seed`."""
    conn = sqlite3.connect(path)
    try:
        populate(conn, seed)
    finally:
        conn.close()
