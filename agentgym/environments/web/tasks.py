"""The web task schema and its JSONL loader.

A web task names an app and a DB seed (the episode gets its own copy of that seeded DB), the page
the agent starts on, what it is asked, and how it is checked: an expected answer, SQL-backed final
checks, and weighted sub-goals. `solution` is the reference the oracle replays through the browser.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentgym.core.taskfile import dump_task_lines, parse_task_lines, read_task_file
from agentgym.core.types import Task
from agentgym.environments.web.urls import UrlIs

SolutionTool = Literal[
    "click", "fill", "select_option", "press", "scroll", "goto", "go_back", "new_tab",
    "switch_tab", "answer",
]


#: checks that matched the raw URL text, so that "/?x=/product/68" passed for "/product/68$"
RETIRED_CHECKS = {"url_matches", "url_contains"}


class CheckSpec(BaseModel):
    """A named check of the app (`check(name, conn, page_url, args)`) with its arguments."""

    model_config = ConfigDict(extra="forbid")

    check: str
    args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _generic_checks(self) -> CheckSpec:
        if self.check in RETIRED_CHECKS:
            raise ValueError(f"{self.check} matched the URL as text and is gone: use url_is with "
                             '{"path": ..., "query": {...}}, which compares the parsed URL')
        if self.check == "url_is":
            UrlIs.model_validate(self.args)
        return self


class AllowedChange(BaseModel):
    """Rows of `table` the task may change: those whose values match `where` before and after.

    `kinds` limits how (inserted, deleted, changed); `columns` limits which cells of a changed
    row may differ (None: any). Every other row must stay as in the untouched DB.
    """

    model_config = ConfigDict(extra="forbid")

    table: str
    where: dict[str, Any] = Field(default_factory=dict)
    kinds: list[Literal["inserted", "deleted", "changed"]] = ["inserted", "deleted", "changed"]
    columns: list[str] | None = None


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
    #: the only DB changes allowed (None: not checked); anything else is collateral and fails
    allowed_changes: list[AllowedChange] | None = None

    @model_validator(mode="after")
    def _start_is_a_path(self) -> WebTask:
        if not self.start_url.startswith("/"):
            raise ValueError(f"start_url must be a path starting with '/', not {self.start_url!r}")
        return self


def parse_tasks(lines: Iterable[str], source: str = "<tasks>") -> list[WebTask]:
    """Parse JSONL lines into tasks; any problem is a TaskFileError naming the line and field."""
    return parse_task_lines(lines, WebTask.model_validate, source=source)


def load_tasks(path: str | Path) -> list[WebTask]:
    """Read a `tasks/web/<app>.jsonl` file."""
    return read_task_file(path, WebTask.model_validate)


def dump_tasks(tasks: Iterable[WebTask]) -> str:
    """JSONL text for `tasks`, stable byte for byte (so regeneration can be compared)."""
    return dump_task_lines(tasks, exclude_none=False)


def write_tasks(path: str | Path, tasks: Iterable[WebTask]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(dump_tasks(tasks), encoding="utf-8")
