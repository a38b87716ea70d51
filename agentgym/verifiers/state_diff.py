"""Execution-based verification by comparing SQLite databases row by row.

A snapshot keys every table's rows by primary key (tables without one are keyed by content), so
a diff says which rows were inserted, deleted or changed and in which cells, not just that two
hashes differ. `StateDiffVerifier` scores an episode against a gold database (what the reference
solution produces) and gives step rewards as progress towards it.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from agentgym.core.errors import VerifierError
from agentgym.core.types import Reward

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


# ---- required outputs --------------------------------------------------------------------------

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?!\d)")


def normalize_text(text: str) -> str:
    """Lowercase, no "$", no thousands separators, single spaces, "42.50" -> "42.5"."""
    text = _THOUSANDS.sub("", text.lower().replace("$", ""))
    text = _DECIMAL.sub(lambda m: m.group(1) + ("." + m.group(2).rstrip("0") if m.group(2).rstrip("0") else ""), text)
    return " ".join(text.split())


def output_present(required: str, texts: list[str]) -> bool:
    """Is `required` said, as whole words, in any of `texts` (after normalising both)?"""
    needle = normalize_text(required)
    if not needle:
        return True
    pattern = re.compile(rf"(?<![\w.]){re.escape(needle)}(?!\w|\.\d)")
    return any(pattern.search(normalize_text(t)) for t in texts)


@dataclass(frozen=True)
class RequiredOutput:
    """One fact the agent must say: any one of `any_of`, and none of `not_with`.

    `not_with` holds the other values of a closed set (say the other order statuses), so that
    listing every value ("pending, processed or delivered") does not pass.
    """

    any_of: tuple[str, ...]
    not_with: tuple[str, ...] = ()

    @classmethod
    def of(cls, output: str | RequiredOutput) -> RequiredOutput:
        return output if isinstance(output, RequiredOutput) else cls((output,))

    def problem(self, texts: list[str]) -> str | None:
        """Why the texts do not give this output, or None if they do."""
        if not any(output_present(o, texts) for o in self.any_of):
            return "missing output " + " or ".join(repr(o) for o in self.any_of)
        hedged = [o for o in self.not_with if output_present(o, texts)]
        if hedged:
            return f"output {self.any_of[0]!r} said together with " + ", ".join(repr(o) for o in hedged)
        return None


# ---- the verifier ------------------------------------------------------------------------------


@dataclass
class StateDiffVerifier:
    """Scores a database against the gold one that the reference solution produces from `initial`."""

    initial: Snapshot
    gold: Snapshot
    required_outputs: list[str | RequiredOutput] = field(default_factory=list)
    source: str = "state_diff"

    def __post_init__(self) -> None:
        self.required_outputs = [RequiredOutput.of(o) for o in self.required_outputs]
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
        """1.0 if the database equals the gold one and every required output was said (unhedged), else 0.0."""
        differences = diff(self.gold, current)
        missing = [p for o in self.required_outputs if (p := o.problem(assistant_texts))]
        outputs = 1.0 - len(missing) / len(self.required_outputs) if self.required_outputs else 1.0
        db_match = not differences
        parts = []
        if differences:
            parts.append(f"database differs from the expected one in {len(differences)} rows:\n"
                         + explain(differences, "expected", "agent"))
        if missing:
            parts.append("outputs: " + "; ".join(missing))
        return Reward(
            value=1.0 if db_match and not missing else 0.0,
            components={"db_match": float(db_match), "outputs": outputs, "progress": self.progress(current)},
            explanation="\n".join(parts) or "database matches the expected one and every required output was given",
            source=self.source,
        )
