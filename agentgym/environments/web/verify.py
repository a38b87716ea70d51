"""Checks on an episode's app state, answer matching, and sub-goal progress.

An app's `check` is either `check(name, conn, page_url, args) -> bool` or a dict of named
functions `fn(conn, page_url, args) -> bool`. `url_is` (urls.py) works for every app: it matches
the page's parsed path and query, never a substring of the URL.
The checks run on the episode's own DB (read-only) and are never shown to the agent.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from agentgym.core.errors import VerifierError
from agentgym.environments.web.tasks import AllowedChange, CheckSpec, SubGoal
from agentgym.environments.web.urls import check_url_is
from agentgym.verifiers.state_diff import RowChange, diff, snapshot

GENERIC_CHECKS: dict[str, Callable[..., bool]] = {"url_is": check_url_is}


def run_check(app_check: Any, spec: CheckSpec, conn: sqlite3.Connection, page_url: str) -> bool:
    """Evaluate one check; a check that is unknown or crashes is the verifier's failure."""
    try:
        if spec.check in GENERIC_CHECKS:
            return bool(GENERIC_CHECKS[spec.check](conn, page_url, spec.args))
        if isinstance(app_check, dict):
            if spec.check not in app_check:
                raise VerifierError(f"unknown check {spec.check!r} (known: {', '.join(sorted(app_check))})")
            return bool(app_check[spec.check](conn, page_url, spec.args))
        if app_check is None:
            raise VerifierError(f"unknown check {spec.check!r}: this app defines no checks")
        return bool(app_check(spec.check, conn, page_url, spec.args))
    except VerifierError:
        raise
    except Exception as e:
        raise VerifierError(f"check {spec.check}({spec.args}) failed to run: {type(e).__name__}: {e}") from e


def _matches(rule: AllowedChange, change: RowChange) -> bool:
    rows = [r for r in (change.before, change.after) if r is not None]
    return (rule.table == change.table and change.kind in rule.kinds
            and all(r.get(col) == value for r in rows for col, value in rule.where.items()))


def collateral(changes: list[RowChange], allowed: list[AllowedChange]) -> list[RowChange]:
    """The changes no rule allows (a changed row may differ only in its rules' columns)."""
    out = []
    for change in changes:
        rules = [r for r in allowed if _matches(r, change)]
        if rules and change.kind == "changed" and all(r.columns is not None for r in rules):
            assert change.before is not None and change.after is not None
            differing = {c for c in change.before if change.before[c] != change.after[c]}
            if not differing <= {c for r in rules for c in r.columns or ()}:
                rules = []
        if not rules:
            out.append(change)
    return out


def collateral_changes(template_db: Path, episode_db: Path, allowed: list[AllowedChange]) -> list[RowChange]:
    """Rows of the episode DB that differ from the untouched template where the task allows none."""
    with closing(open_readonly(template_db)) as before, closing(open_readonly(episode_db)) as after:
        return collateral(diff(snapshot(before), snapshot(after)), allowed)


def open_readonly(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)


def normalize(text: str) -> str:
    """Lower case, accents folded, punctuation and currency signs dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower())  # 1,299 -> 1299
    text = re.sub(r"[^\w\s.]|(?<!\d)\.|\.(?!\d)", " ", text)
    return " ".join(text.split())


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def answer_matches(given: str | None, expected: str, how: str) -> bool:
    if given is None:
        return False
    if how == "exact":
        return given.strip() == expected.strip()
    g, e = normalize(given), normalize(expected)
    if how == "contains":
        return e in g
    if g == e:
        return True
    gn, en = _as_number(g), _as_number(e)
    return gn is not None and en is not None and abs(gn - en) < 1e-9


class SubgoalTracker:
    """Which sub-goals have been reached; each pays its share of reward only the first time."""

    def __init__(self, subgoals: list[SubGoal]):
        self.subgoals = subgoals
        total = sum(g.weight for g in subgoals)
        self.shares = [g.weight / total for g in subgoals] if subgoals else []
        self.reached = [False] * len(subgoals)

    def update(self, app_check: Any, conn: sqlite3.Connection, page_url: str) -> dict[str, float]:
        """Check the sub-goals not yet reached; return {component: share} for the new ones."""
        new: dict[str, float] = {}
        for i, goal in enumerate(self.subgoals):
            if not self.reached[i] and run_check(app_check, goal, conn, page_url):
                self.reached[i] = True
                new[f"subgoal_{i}:{goal.check}"] = self.shares[i]
        return new
