"""The execution verdict as a verifier: the env's own (privileged) verifier, through the contract.

Each family scores inside its env (`Env.score()`: the SWE hidden tests, the tool-use state diff,
the web checks). `ExecutionVerifier` asks the live env when it has one, and otherwise reads the
verdict recorded in the episode (`episode.outcome`, written by that same verifier when the
episode ended). It is what calibration compares every other verifier with.
"""

from __future__ import annotations

from agentgym.core.env import Env
from agentgym.core.errors import VerifierError
from agentgym.core.types import Episode, Reward, Task
from agentgym.verifiers.base import Verifier


class ExecutionVerifier(Verifier):
    """The family's execution verdict (reads hidden task data: privileged)."""

    privileged = True

    def __init__(self, name: str = "execution", live: bool = True):
        self.name = name
        self.live = live  # ask a live env when given one (False: always the recorded verdict)

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        if self.live and env is not None:
            if env.task is None or env.task.id != task.id:
                raise VerifierError(f"{self.name}: the live env is not on task {task.id!r}")
            return await env.score()
        if episode.outcome is None:
            raise VerifierError(
                f"{self.name}: episode {episode.task_id}#{episode.sample} has no recorded verdict "
                f"(status {episode.status}) and no live env was given")
        return episode.outcome


def execution(arg: str | None = None, **options) -> ExecutionVerifier:
    """`execution` (or a family's name for it: state_diff, swe_tests, web_checks)."""
    if arg is not None:
        raise TypeError(f"execution takes no argument (got {arg!r})")
    return ExecutionVerifier(**options)
