"""The web task schema and its JSONL loader.

A web task names an app and a DB seed (the episode gets its own copy of that seeded DB), the page
the agent starts on, what it is asked, and how it is checked: an expected answer, SQL-backed final
checks, and weighted sub-goals. `solution` is the reference the oracle replays through the browser.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agentgym.core.errors import TaskFileError
from agentgym.core.types import Task

SolutionTool = Literal[
    "click", "fill", "select_option", "press", "scroll", "goto", "go_back", "new_tab",
    "switch_tab", "answer",
]


class CheckSpec(BaseModel):
    """A named check of the app (`check(name, conn, page_url, args)`) with its arguments."""

    model_config = ConfigDict(extra="forbid")

    check: str
    args: dict[str, Any] = Field(default_factory=dict)


class SubGoal(CheckSpec):
    """A check worth `weight` (relative to the other sub-goals) the first time it holds."""

    weight: float = Field(default=1.0, gt=0)


class SolutionStep(BaseModel):
    """One reference step. `target` finds the element at replay time: {role, name} or {css}."""

    model_config = ConfigDict(extra="forbid")

    tool: SolutionTool
    target: dict[str, str] | None = None
    args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _target_shape(self) -> SolutionStep:
        if self.target is not None and not (
            "css" in self.target or ("role" in self.target and "name" in self.target)
        ):
            raise ValueError('target must be {"role": ..., "name": ...} or {"css": ...}')
        return self


class WebTask(Task):
    """A task on one of our web apps (or a MiniWoB++ page, app="miniwob")."""

    model_config = ConfigDict(extra="forbid")

    family: Literal["web"] = "web"
    app: str
    db_seed: int = 0
    start_url: str = "/"
    allowed_origins: list[str] = Field(default_factory=list)
    difficulty: int = Field(default=1, ge=1, le=3)
    answer: str | None = None
    answer_match: Literal["exact", "normalized", "contains"] = "normalized"
    final_checks: list[CheckSpec] = Field(default_factory=list)
    subgoals: list[SubGoal] = Field(default_factory=list)
    solution: list[SolutionStep] = Field(default_factory=list)

    @model_validator(mode="after")
    def _start_is_a_path(self) -> WebTask:
        if not self.start_url.startswith("/"):
            raise ValueError(f"start_url must be a path starting with '/', not {self.start_url!r}")
        return self


def _problem(e: ValidationError) -> str:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "task"
    more = f" (+{len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
    return f"field {where!r}: {err['msg']}{more}"


def parse_tasks(lines: Iterable[str], source: str = "<tasks>") -> list[WebTask]:
    """Parse JSONL lines into tasks; any problem is a TaskFileError naming the line and field."""
    tasks: list[WebTask] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            raise TaskFileError(source, f"not valid JSON: {e.msg}", line=number) from None
        if not isinstance(raw, dict):
            raise TaskFileError(source, "each line must be a JSON object", line=number)
        try:
            task = WebTask.model_validate(raw)
        except ValidationError as e:
            raise TaskFileError(source, _problem(e), line=number) from None
        if task.id in seen:
            raise TaskFileError(
                source, f"duplicate task id {task.id!r} (first on line {seen[task.id]})", line=number
            )
        seen[task.id] = number
        tasks.append(task)
    return tasks


def load_tasks(path: str | Path) -> list[WebTask]:
    """Read a `tasks/web/<app>.jsonl` file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise TaskFileError(str(path), f"cannot read: {e.strerror or e}") from None
    return parse_tasks(text.splitlines(), source=str(path))


def dump_tasks(tasks: Iterable[WebTask]) -> str:
    """JSONL text for `tasks`, stable byte for byte (so regeneration can be compared)."""
    return "".join(
        json.dumps(t.model_dump(mode="json", exclude_none=False), sort_keys=True) + "\n"
        for t in tasks
    )


def write_tasks(path: str | Path, tasks: Iterable[WebTask]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(dump_tasks(tasks), encoding="utf-8")
