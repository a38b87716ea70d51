"""The verifier contract: what a verifier is given, what it returns, and what it declares.

A verifier scores a recorded episode (`score_episode`) or one step of it (`score_step`) and
returns a `Reward(value, components, explanation, source)`. What it is given:

- `episode`: the Episode record (the trajectory: every step's new messages, action, tool
  results). Step `i`'s history is `episode.steps[:i]`; see `trajectory.py` for views of it.
- `task`: the Task. A deployable verifier gets `task.public_view()` plus only the task-data
  fields it names in `task_fields` (public ones, such as a SWE task's `environment`), so it
  cannot read hidden tests or gold answers even by mistake. A privileged one gets the whole task.
- `env`: for execution verifiers, the live env at the end of the episode (its sandbox, browser
  or database); None when scoring a stored episode. A verifier that needs it raises
  VerifierError without it.

A verifier that cannot score raises `VerifierError` (an infrastructure error); it never returns
0 for its own failure. The agent's failures are scores, not exceptions.
"""

from __future__ import annotations

import abc
from typing import ClassVar

from agentgym.core.env import Env
from agentgym.core.errors import UserInputError, VerifierError
from agentgym.core.types import Episode, Reward, Task

__all__ = ["Verifier", "VerifierError", "VerifierSpecError", "task_for", "score_episode",
           "score_step"]


class VerifierSpecError(UserInputError):
    """A verifier spec that names no known verifier or gives it bad options."""


class Verifier(abc.ABC):
    """Base of every verifier. Subclasses set `privileged` and implement `score_episode`."""

    #: the name it is registered under (and the Reward's default `source`)
    name: str = ""
    #: task-data fields a deployable verifier may read (never hidden data)
    task_fields: ClassVar[tuple[str, ...]] = ()
    #: whether `score_step` gives a signal (otherwise it raises NotImplementedError)
    scores_steps: bool = False

    @property
    @abc.abstractmethod
    def privileged(self) -> bool:
        """Whether this verifier reads hidden task data (hidden tests, reference end state).
        Declared by every verifier: a class attribute or a property."""

    @abc.abstractmethod
    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        """The outcome of the whole episode."""

    async def score_step(
        self, episode: Episode, index: int, task: Task, env: Env | None = None
    ) -> Reward:
        """The reward of step `index` (its history is `episode.steps[:index]`)."""
        raise NotImplementedError(f"{type(self).__name__} scores whole episodes only")

    def describe(self) -> str:
        kind = "privileged" if self.privileged else "deployable"
        return f"{self.name or type(self).__name__} ({kind})"


def task_for(verifier: Verifier, task: Task) -> Task:
    """What `verifier` may see of `task`: everything if privileged, else the public view plus
    the data fields it names."""
    if verifier.privileged:
        return task
    view = task.public_view()
    data = task.data if isinstance(task.data, dict) else task.data.model_dump()
    view.data = {k: data[k] for k in verifier.task_fields if k in data}
    return view


def check_step_index(episode: Episode, index: int) -> None:
    if not 0 <= index < len(episode.steps):
        raise IndexError(f"step {index} is out of range: the episode has {len(episode.steps)} steps")


async def score_episode(verifier: Verifier, episode: Episode, task: Task,
                        env: Env | None = None) -> Reward:
    """Score an episode, giving the verifier only what it may see of the task."""
    if episode.task_id != task.id:
        raise VerifierError(f"episode of task {episode.task_id!r} scored against task {task.id!r}")
    reward = await verifier.score_episode(episode, task_for(verifier, task), env)
    return _sourced(reward, verifier)


async def score_step(verifier: Verifier, episode: Episode, index: int, task: Task,
                     env: Env | None = None) -> Reward:
    """Score one step, giving the verifier only what it may see of the task."""
    check_step_index(episode, index)
    reward = await verifier.score_step(episode, index, task_for(verifier, task), env)
    return _sourced(reward, verifier)


def _sourced(reward: Reward, verifier: Verifier) -> Reward:
    if not isinstance(reward, Reward):
        raise VerifierError(f"{verifier.describe()} returned {type(reward).__name__}, not a Reward")
    if not reward.source:
        reward = reward.model_copy(update={"source": verifier.name or type(verifier).__name__})
    return reward
