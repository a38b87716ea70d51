"""Policies the Ray tests load by `module:attr` on Ray workers."""

from __future__ import annotations

import os
from pathlib import Path

from agentgym.policies.oracle import OraclePolicy


class DiesOnce(OraclePolicy):
    """The oracle, except that the first time any worker acts on `task_id` its whole process
    dies, as when a node is lost mid-episode. `marker` (a file) remembers that it happened."""

    def __init__(self, task_id: str, marker: str):
        super().__init__()
        self.name = "dies-once"
        self.task_id, self.marker = task_id, Path(marker)

    def begin(self, task, seed, sample, **extra):
        super().begin(task, seed, sample, **extra)
        if task.id == self.task_id and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os._exit(1)
