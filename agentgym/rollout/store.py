"""Trajectory store: one Episode per line, flushed and fsync'd as each episode ends.

A crash can at worst leave a torn last line; reading skips it (with a warning) and keeps
everything before it, so episodes already written are never lost.

`append` writes and fsyncs at once. `write` (for the async runner) does the same off the event
loop and commits together the episodes that end while an fsync is under way (group commit):
an fsync takes milliseconds, and one per episode on the loop stalled every running episode.
"""

from __future__ import annotations

import asyncio
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
        self._waiting: list[tuple[str, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def append(self, episode: Episode) -> None:
        self._write_lines([episode.model_dump_json() + "\n"])

    async def write(self, episode: Episode) -> None:
        """Append `episode`; returns once it is on disk (fsync'd)."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((episode.model_dump_json() + "\n", done))
        if self._writer is None or self._writer.done():
            # a task of its own: cancelling one episode's wait never strands the others'
            self._writer = asyncio.ensure_future(self._commit_waiting())
        await done

    async def _commit_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await asyncio.to_thread(self._write_lines, [line for line, _ in batch])
            except asyncio.CancelledError:  # the run is stopping: nobody waits any more
                for _, done in batch + self._waiting:
                    done.cancel()
                raise
            except Exception as e:  # a full disk: every waiter hears of it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(e)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    def _write_lines(self, lines: list[str]) -> None:
        with self._lock:
            self._heal_torn_tail()
            with open(self.path, "a", encoding="utf-8") as f:
                f.write("".join(lines))
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
                    episodes.append(Episode.model_validate_json(line))
                except ValidationError as e:
                    message = f"not a valid episode record ({type(e).__name__})"
                    if strict:
                        raise TaskFileError(str(self.path), message, line=lineno) from None
                    warnings.warn(f"{self.path}:{lineno}: {message}; skipped", stacklevel=2)
        return episodes

    def finished(self) -> set[tuple[str, int]]:
        """(task_id, sample) pairs that need no re-run: everything but infrastructure errors."""
        return {(e.task_id, e.sample) for e in self.load() if e.status != "infra_error"}
