"""Task files: one JSON object a line. Every family reads them through here, so every family
reports a bad line the same way: the file, the line number and the field (`TaskFileError`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from agentgym.core.errors import TaskFileError

T = TypeVar("T")


def field_problems(e: ValidationError, hide: tuple[str, ...] = ()) -> str:
    """Every validation error as 'field a.b: message' (each rejected field is named); `hide`
    drops wrapper keys."""
    problems = [
        f"field {'.'.join(str(p) for p in err['loc'] if p not in hide) or '(root)'}: {err['msg']}"
        for err in e.errors()
    ]
    return "; ".join(problems)


def parse_task_lines(
    lines: Iterable[str],
    parse: Callable[[dict[str, Any]], T],
    source: str = "<tasks>",
    hide: tuple[str, ...] = (),
) -> list[T]:
    """Validate JSONL lines with `parse` (usually `Model.model_validate`); ids must be unique."""
    tasks: list[T] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            raise TaskFileError(source, f"not valid JSON: {e.msg} (column {e.colno})", line=number) from None
        if not isinstance(raw, dict):
            raise TaskFileError(source, f"a task is a JSON object, not {type(raw).__name__}", line=number)
        try:
            task = parse(raw)
        except ValidationError as e:
            raise TaskFileError(source, field_problems(e, hide), line=number) from None
        task_id = getattr(task, "id", None)
        if task_id in seen:
            raise TaskFileError(source, f"duplicate task id {task_id!r} (first on line {seen[task_id]})", line=number)
        seen[task_id] = number
        tasks.append(task)
    return tasks


def read_task_file(
    path: str | Path, parse: Callable[[dict[str, Any]], T], hide: tuple[str, ...] = ()
) -> list[T]:
    """Read and validate one task file; an unreadable or empty file is a TaskFileError too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise TaskFileError(str(path), f"cannot read the task file: {reason}") from None
    tasks = parse_task_lines(text.splitlines(), parse, source=str(path), hide=hide)
    if not tasks:
        raise TaskFileError(str(path), "the task file has no tasks")
    return tasks


def read_tasks(path: str | Path, model: type[T] | None = None) -> list[T]:
    """Read a task file into `model` (default `agentgym.Task`): what a plugin's env calls."""
    if model is None:
        from agentgym.core.types import Task

        model = Task  # type: ignore[assignment]
    return read_task_file(path, model.model_validate)  # type: ignore[union-attr]


def count_task_lines(paths: Iterable[str | Path]) -> int:
    """How many tasks the files hold, without validating them (for `agentgym list`)."""
    try:
        return sum(
            1 for p in paths for line in Path(p).read_text(encoding="utf-8").splitlines() if line.strip()
        )
    except OSError:
        return 0


def dump_task_lines(tasks: Iterable[Any], exclude_none: bool = True) -> str:
    """JSONL text of pydantic tasks, one compact object a line, keys sorted: stable byte for byte."""
    return "".join(
        json.dumps(t.model_dump(mode="json", exclude_none=exclude_none), sort_keys=True) + "\n"
        for t in tasks
    )
