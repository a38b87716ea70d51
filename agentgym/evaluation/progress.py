"""Live progress of a run: a rich progress bar on a terminal, a plain line now and then otherwise."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agentgym.core.types import Episode


class RunProgress:
    """Counts episodes as they end: done/total, success so far, episodes/s, errors, infra errors."""

    def __init__(self, total: int, console: Console, every_s: float = 10.0):
        self.total, self.console, self.every_s = total, console, every_s
        self.done = self.successes = self.errors = self.infra_errors = 0
        self.started = time.monotonic()
        self._last_line = self.started
        self._bar: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> RunProgress:
        if self.console.is_terminal and self.total:
            self._bar = Progress(
                TextColumn("[bold]eval"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                console=self.console, transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("eval", total=self.total, status=self.status())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.done and self.done != getattr(self, "_printed", -1):
            self._line()

    def status(self) -> str:
        counted = self.done - self.infra_errors
        rate = self.done / max(1e-9, time.monotonic() - self.started)
        success = f"{self.successes / counted:.3f}" if counted else "n/a"
        return (f"success {success} · {rate:.2f} ep/s · errors {self.errors} · "
                f"infra errors {self.infra_errors}")

    def update(self, episode: Episode) -> None:
        self.done += 1
        self.successes += episode.success
        self.errors += episode.status == "error"
        self.infra_errors += episode.status == "infra_error"
        if self._bar is not None:
            self._bar.update(self._task, advance=1, status=self.status())
        elif time.monotonic() - self._last_line >= self.every_s or self.done == self.total:
            self._line()

    def _line(self) -> None:
        self._last_line, self._printed = time.monotonic(), self.done
        self.console.print(f"{self.done}/{self.total} episodes · {self.status()}", highlight=False)
