"""Scoring stored episodes with any verifier: the tasks they ran on, and many episodes at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from agentgym.core.errors import UserInputError
from agentgym.core.types import Episode, Reward, Task
from agentgym.rollout.store import EpisodeStore
from agentgym.verifiers.base import Verifier, score_episode


def load_episodes(paths: Sequence[str | Path]) -> list[Episode]:
    """Every episode in the given episodes.jsonl files (or run directories holding one)."""
    episodes: list[Episode] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            path = path / "episodes.jsonl"
        if not path.is_file():
            raise UserInputError(f"{raw}: no such episodes file")
        episodes.extend(EpisodeStore(path).load(strict=True))
    if not episodes:
        raise UserInputError(f"no episodes in {', '.join(map(str, paths))}")
    return episodes


async def tasks_for(episodes: Sequence[Episode]) -> dict[tuple[str, str], Task]:
    """(env id, task id) -> Task, from each env's own task set."""
    from agentgym.core.registry import spec

    out: dict[tuple[str, str], Task] = {}
    for env_id in sorted({e.env_id for e in episodes}):
        env = spec(env_id).make_async()
        try:
            out.update({(env_id, tid): task for tid, task in env.tasks.items()})
        finally:
            await env.close()
    missing = sorted({(e.env_id, e.task_id) for e in episodes} - set(out))
    if missing:
        raise UserInputError(f"episodes of tasks their env does not have: {missing[:3]}")
    return out


def scored_episodes(episodes: Sequence[Episode]) -> list[Episode]:
    """Episodes with an execution verdict to compare with (infra errors are left out)."""
    return [e for e in episodes if e.status != "infra_error" and (e.outcome is not None or e.status == "error")]


async def score_all(verifier: Verifier, episodes: Sequence[Episode], tasks: dict[tuple[str, str], Task],
                    concurrency: int = 4) -> list[Reward]:
    """The verifier's reward for each episode, in order (at most `concurrency` at once)."""
    semaphore = asyncio.Semaphore(max(1, concurrency))

    async def one(episode: Episode) -> Reward:
        async with semaphore:
            return await score_episode(verifier, episode, tasks[(episode.env_id, episode.task_id)])

    return list(await asyncio.gather(*(one(e) for e in episodes)))
