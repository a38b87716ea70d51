"""The retail task schema and its JSONL loader.

A task file has one JSON object per line. The loader validates every line and names the line and
the field of the first problem it finds (`TaskFileError`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentgym.core.errors import TaskFileError
from agentgym.core.paths import tasks_dir
from agentgym.core.types import Action, Task

FAMILY = "tooluse"


class RetailData(BaseModel):
    """What the retail env needs for a task, besides the instruction (`Task.prompt`)."""

    model_config = ConfigDict(extra="forbid")

    db_seed: int = Field(description="seed of the generated store database")
    kind: str = Field(description="template the task was made from, such as 'cancel' or 'refuse_return'")
    user_facts: dict[str, str] = Field(default_factory=dict, description="what the scripted user can tell")
    required_outputs: list[str] = Field(default_factory=list, description="strings the agent must tell the user")


class RetailTask(Task):
    """A retail task: the instruction is `prompt`; the reference is the solution to replay."""

    family: Literal["tooluse"] = FAMILY
    data: RetailData
    reference: list[Action]
    verifier: dict = Field(default_factory=lambda: {"name": "state_diff"})


def default_tasks_path() -> Path:
    return tasks_dir() / "tooluse" / "retail.jsonl"


def _field_errors(e: ValidationError) -> str:
    return "; ".join(
        f"field {'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in e.errors()[:3]
    )


def load_tasks(path: str | Path | None = None) -> list[RetailTask]:
    """Read and validate a retail task file (default: the shipped tasks/tooluse/retail.jsonl)."""
    path = Path(path) if path is not None else default_tasks_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TaskFileError(str(path), f"cannot read the task file: {e}") from None
    tasks: list[RetailTask] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            raise TaskFileError(str(path), f"not valid JSON: {e.msg} (column {e.colno})", line=number) from None
        if not isinstance(raw, dict):
            raise TaskFileError(str(path), f"a task is a JSON object, not {type(raw).__name__}", line=number)
        try:
            task = RetailTask.model_validate(raw)
        except ValidationError as e:
            raise TaskFileError(str(path), _field_errors(e), line=number) from None
        if task.id in seen:
            raise TaskFileError(str(path), f"duplicate task id {task.id!r} (first on line {seen[task.id]})", line=number)
        seen[task.id] = number
        tasks.append(task)
    if not tasks:
        raise TaskFileError(str(path), "the task file has no tasks")
    return tasks


def count_tasks(path: str | Path | None = None) -> int:
    """How many tasks a file holds, without validating them (for `agentgym list`)."""
    path = Path(path) if path is not None else default_tasks_path()
    try:
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    except OSError:
        return 0


def dump_tasks(tasks: list[RetailTask]) -> str:
    """The JSONL text of `tasks`, one compact object per line, stable key order."""
    return "".join(json.dumps(t.model_dump(mode="json", exclude_none=True), sort_keys=True) + "\n" for t in tasks)
