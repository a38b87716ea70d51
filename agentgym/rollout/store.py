"""Trajectory store: one Episode per line, flushed and fsync'd as each episode ends.

A crash can at worst leave a torn last line; reading skips it (with a warning) and keeps
everything before it, so episodes already written are never lost.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from pathlib import Path

from pydantic import ValidationError

from agentgym.core.errors import TaskFileError
from agentgym.core.types import Episode


class EpisodeStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, episode: Episode) -> None:
        line = episode.model_dump_json() + "\n"
        with self._lock:
            self._heal_torn_tail()
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())

    def _heal_torn_tail(self) -> None:
        """If a previous run died mid-line, end that line so the next record starts clean."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")

    def load(self, strict: bool = False) -> list[Episode]:
        """Every complete episode in the file. `strict` raises on a bad line instead of skipping it."""
        if not self.path.exists():
            return []
        episodes = []
        with open(self.path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    episodes.append(Episode.model_validate(json.loads(line)))
                except (json.JSONDecodeError, ValidationError) as e:
                    message = f"not a valid episode record ({type(e).__name__})"
                    if strict:
                        raise TaskFileError(str(self.path), message, line=lineno) from None
                    warnings.warn(f"{self.path}:{lineno}: {message}; skipped", stacklevel=2)
        return episodes

    def finished(self) -> set[tuple[str, int]]:
        """(task_id, sample) pairs that need no re-run: everything but infrastructure errors."""
        return {(e.task_id, e.sample) for e in self.load() if e.status != "infra_error"}
