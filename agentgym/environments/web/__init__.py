"""Web environments: our own apps in real headless Chromium, and MiniWoB++.

Importing this module never imports playwright (the optional `web` extra); the envs do, lazily.

An app package under `apps/` exposes `build_db(path, seed)`, `create_app(db_path)` (Starlette),
`generate_tasks(seed)` and `check`: `check(name, conn, page_url, args) -> bool` or a dict of named
`fn(conn, page_url, args) -> bool`; see verify.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from agentgym.core.paths import tasks_dir
from agentgym.core.registry import EnvSpec
from agentgym.environments.web.tasks import WebTask, load_tasks

APPS = {
    "shop": ("Shop", "Koda Shop: search, filters, product pages, cart, checkout, orders, account"),
    "forum": ("Forum", "A forum: sub-forums, posts, comments, votes, user profiles"),
    "tracker": ("Tracker", "An issue tracker: records, assignment, labels, status changes, search"),
}


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _task_file(app: str) -> Path | None:
    try:
        path = tasks_dir() / "web" / f"{app}.jsonl"
    except FileNotFoundError:
        return None
    return path if path.is_file() and path.stat().st_size > 0 else None


def _count_lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def app_specs() -> list[EnvSpec]:
    """One env per app whose package is present (with its server deps) and has shipped tasks."""
    if not _available("starlette"):
        return []
    out = []
    for app, (title, description) in APPS.items():
        path = _task_file(app)
        if path is None or not _available(f"agentgym.environments.web.apps.{app}"):
            continue
        out.append(EnvSpec(
            id=f"web/{title}-v0", entry_point="agentgym.environments.web.app_env:AppEnv",
            kwargs={"app": app}, description=description,
            count_tasks=lambda path=path: _count_lines(path),
        ))
    return out


def specs() -> list[EnvSpec]:
    from agentgym.environments.web.miniwob import miniwob_specs

    return app_specs() + miniwob_specs()


__all__ = ["APPS", "WebTask", "load_tasks", "specs", "app_specs"]
