"""A disk cache of judge verdicts in SQLite, keyed by everything that determines a verdict.

The key hashes the content judged, the instruction, the rubric's version, the judge model with
its sampling settings, and the vote's index: judging the same content again costs nothing, and
n votes stay n distinct samples. Only valid verdicts are stored, never a malformed reply.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from agentgym.core.errors import VerifierError
from agentgym.core.paths import cache_dir
from agentgym.verifiers.judge_verdict import Verdict


def default_cache_path() -> Path:
    return cache_dir() / "judge" / "verdicts.sqlite"


def cache_key(**parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class VerdictCache:
    """Verdicts by key. Safe to share between threads and processes (SQLite locking)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, "
                           "verdict TEXT NOT NULL, reply TEXT NOT NULL, created REAL NOT NULL)")
        except (OSError, sqlite3.Error) as e:
            from agentgym.core.errors import UserInputError

            raise UserInputError(f"judge cache {self.path}: cannot open: {e}") from None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def get(self, key: str) -> Verdict | None:
        try:
            with self._lock, closing(self._connect()) as db:
                row = db.execute("SELECT verdict FROM verdicts WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as e:
            raise VerifierError(f"judge cache {self.path}: {e}") from e
        return None if row is None else Verdict.model_validate_json(row[0])

    def put(self, key: str, verdict: Verdict, reply: str) -> None:
        try:
            with self._lock, closing(self._connect()) as db:
                db.execute("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?)",
                           (key, verdict.model_dump_json(), reply, time.time()))
        except sqlite3.Error as e:
            raise VerifierError(f"judge cache {self.path}: {e}") from e

    def __len__(self) -> int:
        with self._lock, closing(self._connect()) as db:
            return db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
