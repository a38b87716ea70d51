"""Where shipped data lives: `tasks/` in a checkout, `agentgym/_tasks` in an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def tasks_dir() -> Path:
    """The directory that holds the task suites (tasks/swe, tasks/web, tasks/tooluse)."""
    for candidate in (_PACKAGE.parent / "tasks", _PACKAGE / "_tasks"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("agentgym's task files are missing from this installation")


def cache_dir() -> Path:
    """Per-user cache (built environments, images): $AGENTGYM_CACHE or ~/.cache/agentgym."""
    root = Path(os.environ.get("AGENTGYM_CACHE") or Path.home() / ".cache" / "agentgym")
    root.mkdir(parents=True, exist_ok=True)
    return root
