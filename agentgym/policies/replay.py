"""Replays the actions of recorded episodes (an episodes JSONL file, one `Episode` per line).

Useful to re-score old runs under a new verifier, and to reproduce a bug without an LLM.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from agentgym.core.errors import PolicySpecError, TaskFileError, UserInputError
from agentgym.core.types import Action, Episode, Observation, Task, ToolSpec
from agentgym.policies._episode import EpisodeSlot, turn_index

CLOSING_MESSAGE = "(the recorded episode has no more actions)"


def read_episodes(path: str | Path) -> list[Episode]:
    """Every episode in a JSONL file; a bad line is an error naming the line."""
    path = Path(path)
    if not path.is_file():
        raise PolicySpecError(f"replay file not found: {path}")
    episodes = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                episodes.append(Episode.model_validate_json(line))
            except ValidationError as e:
                first = e.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                problem = f"{where}: {first['msg']}" if where else first["msg"]
                raise TaskFileError(
                    str(path), f"not a recorded episode ({problem})", line=number
                ) from None
    return episodes


class ReplayPolicy:
    """Acts out the recorded episode for the task and sample that `begin()` names."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = f"replay:{path}"
        self.episodes = read_episodes(self.path)
        self._actions: EpisodeSlot[list[Action]] = EpisodeSlot(self.name)

    def find(self, task_id: str, sample: int) -> Episode:
        """The episode recorded for (task_id, sample), else the first one for task_id."""
        same_task = [e for e in self.episodes if e.task_id == task_id]
        if not same_task:
            known = sorted({e.task_id for e in self.episodes})
            shown = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
            raise UserInputError(
                f"{self.path} has no recorded episode for task {task_id!r} "
                f"(it has {len(self.episodes)} episodes, for tasks: {shown or 'none'})"
            )
        return next((e for e in same_task if e.sample == sample), same_task[0])

    def begin(self, task: Task, seed: int | None, sample: int) -> None:
        episode = self.find(task.id, sample)
        self._actions.set([step.action for step in episode.steps])

    def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        actions = self._actions.get()
        turn = turn_index(observation)
        if turn < len(actions):
            # the recorded tokens were spent in the original run, not this one
            return actions[turn].model_copy(update={"usage": None}, deep=True)
        return Action(content=CLOSING_MESSAGE)
