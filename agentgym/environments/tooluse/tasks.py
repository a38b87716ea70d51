"""The retail task schema and its JSONL loader.

A task file has one JSON object per line. The loader validates every line and names the line and
the field of the first problem it finds (`TaskFileError`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentgym.core.paths import tasks_dir
from agentgym.core.taskfile import count_task_lines, dump_task_lines, read_task_file
from agentgym.core.types import Action, Task
from agentgym.verifiers.answers import money_mentions, parse_amount

FAMILY = "tooluse"


class OutputSpec(BaseModel):
    """A required phrase with alternatives: say one of `any_of` and none of `not_with`."""

    model_config = ConfigDict(extra="forbid")

    any_of: list[str] = Field(min_length=1, description="accepted wordings of the fact")
    not_with: list[str] = Field(default_factory=list, description="other values of the same closed set")


class RetailData(BaseModel):
    """What the retail env needs for a task, besides the instruction (`Task.prompt`)."""

    model_config = ConfigDict(extra="forbid")

    db_seed: int = Field(description="seed of the generated store database")
    kind: str = Field(description="template the task was made from, such as 'cancel' or 'refuse_return'")
    user_facts: dict[str, str] = Field(default_factory=dict, description="what the scripted user can tell")
    required_amounts: list[str] = Field(
        default_factory=list, description='dollar amounts the agent must tell the user, such as "$42.50"')
    required_outputs: list[str | OutputSpec] = Field(
        default_factory=list, description="phrases the agent must tell the user (a string, or alternatives)")
    must_not_say: list[str] = Field(
        default_factory=list, description="claims that contradict the task's outcome (such as 'is cancelled' in a refusal)")

    @field_validator("required_amounts")
    @classmethod
    def _amounts(cls, amounts: list[str]) -> list[str]:
        for amount in amounts:
            parse_amount(amount)
        return amounts

    @field_validator("required_outputs")
    @classmethod
    def _phrases_hold_no_amounts(cls, outputs: list[str | OutputSpec]) -> list[str | OutputSpec]:
        # an amount inside a phrase would escape the hedging rules that amounts get
        for output in outputs:
            for phrase in [output] if isinstance(output, str) else [*output.any_of, *output.not_with]:
                if money_mentions(phrase):
                    raise ValueError(f"{phrase!r} holds a dollar amount: put amounts in required_amounts")
        return outputs


class RetailTask(Task):
    """A retail task: the instruction is `prompt`; the reference is the solution to replay."""

    family: Literal["tooluse"] = FAMILY
    data: RetailData
    reference: list[Action]
    verifier: dict = Field(default_factory=lambda: {"name": "state_diff"})


def default_tasks_path() -> Path:
    return tasks_dir() / "tooluse" / "retail.jsonl"


def load_tasks(path: str | Path | None = None) -> list[RetailTask]:
    """Read and validate a retail task file (default: the shipped tasks/tooluse/retail.jsonl)."""
    return read_task_file(path if path is not None else default_tasks_path(), RetailTask.model_validate)


def count_tasks(path: str | Path | None = None) -> int:
    """How many tasks a file holds, without validating them (for `agentgym list`)."""
    return count_task_lines([path if path is not None else default_tasks_path()])


def dump_tasks(tasks: list[RetailTask]) -> str:
    """The JSONL text of `tasks`, one compact object per line, stable key order."""
    return dump_task_lines(tasks)
