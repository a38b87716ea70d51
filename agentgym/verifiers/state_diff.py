"""Execution-based verification by comparing SQLite databases row by row.

A snapshot keys every table's rows by primary key (tables without one are keyed by content), so
a diff says which rows were inserted, deleted or changed and in which cells, not just that two
hashes differ. `StateDiffVerifier` scores an episode against a gold database (what the reference
solution produces) and what the agent told the user (`answers.AnswerKey`), and gives step rewards
as progress towards the gold database.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from agentgym.core.errors import VerifierError
from agentgym.core.types import Reward
from agentgym.verifiers.answers import AnswerKey

Key = tuple[Any, ...]
RowKey = tuple[str, Key]  # (table, primary key)


@dataclass(frozen=True)
class TableSnapshot:
    columns: tuple[str, ...]
    rows: dict[Key, tuple[Any, ...]]


@dataclass(frozen=True)
class Snapshot:
    """Every user table of a database, rows keyed by primary key."""

    tables: dict[str, TableSnapshot]

    def row(self, table: str, key: Key) -> tuple[Any, ...] | None:
        t = self.tables.get(table)
        return None if t is None else t.rows.get(key)


@dataclass(frozen=True)
class RowChange:
    table: str
    key: Key
    kind: Literal["inserted", "deleted", "changed"]
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def describe(self, before_name: str = "before", after_name: str = "after") -> str:
        key = self.key[0] if len(self.key) == 1 else self.key
        where = f"{self.table}[{key!r}]"
        if self.kind == "inserted":
            return f"{where}: row only in {after_name}: {self.after}"
        if self.kind == "deleted":
            return f"{where}: row only in {before_name}: {self.before}"
        cells = ", ".join(
            f"{col}: {self.before[col]!r} ({before_name}) vs {self.after[col]!r} ({after_name})"
            for col in self.before if self.before[col] != self.after[col]
        )
        return f"{where}: {cells}"


def snapshot(db: sqlite3.Connection) -> Snapshot:
    """Read every user table of `db` into memory."""
    try:
        names = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )]
        tables = {}
        for name in names:
            info = db.execute(f'PRAGMA table_info("{name}")').fetchall()
            columns = tuple(r[1] for r in info)
            pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]
            rows: dict[Key, tuple] = {}
            if pk:
                idx = [columns.index(c) for c in pk]
                for row in db.execute(f'SELECT * FROM "{name}"'):
                    rows[tuple(row[i] for i in idx)] = tuple(row)
            else:  # no primary key: key by content, numbering duplicates
                seen: Counter = Counter()
                for row in sorted(db.execute(f'SELECT * FROM "{name}"'), key=repr):
                    rows[(row, seen[row])] = tuple(row)
                    seen[row] += 1
            tables[name] = TableSnapshot(columns, rows)
    except sqlite3.Error as e:
        raise VerifierError(f"cannot read the database: {e}") from e
    return Snapshot(tables)


def diff(before: Snapshot, after: Snapshot) -> list[RowChange]:
    """Rows that differ between two snapshots, in table and key order."""
    changes: list[RowChange] = []
    for table in sorted(set(before.tables) | set(after.tables)):
        old = before.tables.get(table)
        new = after.tables.get(table)
        if old and new and old.columns != new.columns:
            raise VerifierError(f"table {table} has columns {old.columns} in one database and {new.columns} in the other")
        columns = (old or new).columns
        old_rows = old.rows if old else {}
        new_rows = new.rows if new else {}
        for key in sorted(set(old_rows) | set(new_rows), key=repr):
            a, b = old_rows.get(key), new_rows.get(key)
            if a == b:
                continue
            kind = "inserted" if a is None else "deleted" if b is None else "changed"
            changes.append(RowChange(
                table, key, kind,
                None if a is None else dict(zip(columns, a, strict=True)),
                None if b is None else dict(zip(columns, b, strict=True)),
            ))
    return changes


def explain(changes: list[RowChange], before_name: str = "before", after_name: str = "after",
            limit: int = 20) -> str:
    lines = [c.describe(before_name, after_name) for c in changes[:limit]]
    if len(changes) > limit:
        lines.append(f"... and {len(changes) - limit} more rows")
    return "\n".join(lines)


# ---- the verifier ------------------------------------------------------------------------------


@dataclass
class StateDiffVerifier:
    """Scores a database against the gold one that the reference solution produces from `initial`."""

    initial: Snapshot
    gold: Snapshot
    #: what the agent must tell the user, and what bounds its answer (see answers.py)
    answers: AnswerKey = field(default_factory=AnswerKey)
    source: str = "state_diff"

    def __post_init__(self) -> None:
        self.reference_changes = {(c.table, c.key) for c in diff(self.initial, self.gold)}

    def progress(self, current: Snapshot) -> float:
        """(reference changes achieved - changes the reference does not make) / reference changes."""
        made = {(c.table, c.key) for c in diff(self.initial, current)}
        achieved = sum(1 for t, k in self.reference_changes if current.row(t, k) == self.gold.row(t, k))
        wrong = sum(1 for t, k in made if current.row(t, k) != self.gold.row(t, k))
        return (achieved - wrong) / max(1, len(self.reference_changes))

    def score_step(self, current: Snapshot, previous_progress: float) -> Reward:
        """The change in progress since the previous step (the sum telescopes to the final progress)."""
        now = self.progress(current)
        return Reward(
            value=now - previous_progress,
            components={"progress": now},
            explanation=f"progress {now:.3f} towards {len(self.reference_changes)} reference row changes",
            source=self.source,
        )

    def score_episode(self, current: Snapshot, assistant_texts: list[str]) -> Reward:
        """1.0 if the database equals the gold one and the answer gives every required fact
        plainly (no hedging, no contradiction: see answers.py), else 0.0."""
        differences = diff(self.gold, current)
        verdict = self.answers.check(assistant_texts)
        outputs = verdict.facts_given / verdict.facts if verdict.facts else 1.0
        db_match = not differences
        parts = []
        if differences:
            parts.append(f"database differs from the expected one in {len(differences)} rows:\n"
                         + explain(differences, "expected", "agent"))
        if not verdict.ok:
            parts.append("outputs: " + "; ".join(verdict.problems + verdict.hedges))
        return Reward(
            value=1.0 if db_match and verdict.ok else 0.0,
            components={"db_match": float(db_match), "outputs": outputs, "plain_answer": float(verdict.plain),
                        "progress": self.progress(current)},
            explanation="\n".join(parts) or "database matches the expected one and every required output was given",
            source=self.source,
        )
