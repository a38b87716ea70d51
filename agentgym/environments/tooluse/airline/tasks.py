"""The airline task schema and its JSONL loader (errors name the line and the field)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentgym.core.errors import TaskFileError
from agentgym.core.paths import tasks_dir
from agentgym.core.taskfile import dump_task_lines, read_task_file
from agentgym.core.types import Action, Task
from agentgym.environments.tooluse.tasks import OutputSpec
from agentgym.verifiers.answers import money_mentions, parse_amount

FAMILY = "tooluse"
UserKind = Literal["scripted", "simulated"]


class AirlineData(BaseModel):
    """What the airline env needs for a task, besides the user's instruction (`Task.prompt`)."""

    model_config = ConfigDict(extra="forbid")

    db_seed: int = Field(description="seed of the generated airline database")
    kinds: list[str] = Field(min_length=1, description="the requests composed, such as ['fare_quote', 'add_bags']")
    user_facts: dict[str, str] = Field(default_factory=dict, description="what the user tells when asked")
    required_amounts: list[str] = Field(
        default_factory=list, description='dollar amounts the agent must tell the user, such as "$42.50"')
    required_outputs: list[str | OutputSpec] = Field(
        default_factory=list, description="phrases the agent must tell the user (a string, or alternatives)")
    must_not_say: list[str] = Field(
        default_factory=list, description="claims that contradict the outcome (such as 'is cancelled' in a refusal)")
    users: list[UserKind] = Field(
        default_factory=lambda: ["scripted", "simulated"], min_length=1,
        description="who can play the user: the scripted user, a model-based simulator, or both")
    decoys: list[Action] = Field(
        default_factory=list, description="writes asked for on a condition that does not hold (doing them fails)")
    simulator_notes: str = Field(
        default="", description="how a simulated user behaves beyond the instruction (say, a change of mind)")


    @field_validator("required_amounts")
    @classmethod
    def _amounts(cls, amounts: list[str]) -> list[str]:
        for amount in amounts:
            parse_amount(amount)
        return amounts

    @field_validator("required_outputs")
    @classmethod
    def _phrases_hold_no_amounts(cls, outputs: list[str | OutputSpec]) -> list[str | OutputSpec]:
        # an amount inside a phrase would escape the hedging rules that amounts get (as in retail)
        for output in outputs:
            for phrase in [output] if isinstance(output, str) else [*output.any_of, *output.not_with]:
                if money_mentions(phrase):
                    raise ValueError(f"{phrase!r} holds a dollar amount: put amounts in required_amounts")
        return outputs


class AirlineTask(Task):
    """An airline task: the user's instruction is `prompt`; `difficulty` is its level (1..5)."""

    family: Literal["tooluse"] = FAMILY
    data: AirlineData
    reference: list[Action]
    verifier: dict = Field(default_factory=lambda: {"name": "state_diff"})


def default_tasks_path() -> Path:
    return tasks_dir() / "tooluse" / "airline.jsonl"


def load_tasks(path: str | Path | None = None) -> list[AirlineTask]:
    """Read and validate an airline task file (default: the shipped tasks/tooluse/airline.jsonl)."""
    return read_task_file(path if path is not None else default_tasks_path(), AirlineTask.model_validate)


def select_tasks(tasks: list[AirlineTask], user: UserKind, difficulty: int | None = None) -> list[AirlineTask]:
    """The tasks that `user` can play (and of that difficulty, if given)."""
    return [t for t in tasks if user in t.data.users and (difficulty is None or t.difficulty == difficulty)]


def count_tasks(tasks: str | Path | None = None, user: object = "scripted", difficulty: int | None = None) -> int:
    """How many tasks an env with these settings has (for `agentgym list`); 0 for a bad file."""
    try:
        loaded = load_tasks(tasks)
    except TaskFileError:
        return 0
    return len(select_tasks(loaded, "scripted" if user == "scripted" else "simulated", difficulty))


def dump_tasks(tasks: list[AirlineTask]) -> str:
    return dump_task_lines(tasks)
