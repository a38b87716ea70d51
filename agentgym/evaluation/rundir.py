"""Reading a finished (or stopped) eval folder back: its episodes, manifest and results.

Export, report and compare all start here, so they agree on which episodes a run holds: the
latest record of each (task, sample) pair (a re-run infra error replaces the first record), and
only samples below the run's `-k`, as `results.json` counts them.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgym.core.errors import UserInputError
from agentgym.core.types import Episode
from agentgym.rollout.store import EpisodeStore


@dataclass
class RunRecords:
    path: Path
    episodes: list[Episode]
    manifest: dict[str, Any] = field(default_factory=dict)  # run.json, or {} for an older run
    skipped_lines: int = 0  # records that could not be read (a torn last line)

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest.get("config") or {}

    @property
    def env_id(self) -> str:
        return self.config.get("env_id") or self.episodes[0].env_id

    @property
    def policy(self) -> str:
        return self.config.get("policy") or self.episodes[0].policy

    @property
    def k(self) -> int:
        """Samples per task the run asked for (the most any task has, for an older run)."""
        if self.config.get("k"):
            return int(self.config["k"])
        return max(e.sample for e in self.episodes) + 1

    @property
    def seed(self) -> int | None:
        return self.config.get("seed")


def require_extra(module: str, what: str, extra: str = "export") -> None:
    """A clear one-line error when an optional package is missing."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError:
        raise UserInputError(
            f"{what} needs the {module} package: pip install 'agentgym[{extra}]'"
        ) from None


def load_run(path: str | Path) -> RunRecords:
    """The episodes of an eval folder; UserInputError when it is not one or holds none."""
    run_dir = Path(path)
    if not run_dir.exists():
        raise UserInputError(f"{run_dir}: no such run folder")
    if not run_dir.is_dir():
        raise UserInputError(f"{run_dir}: not a folder (give the --out folder of `agentgym eval`)")
    store_path = run_dir / "episodes.jsonl"
    if not store_path.is_file():
        raise UserInputError(
            f"{run_dir} has no episodes.jsonl: is it the --out folder of `agentgym eval`?"
        )
    manifest: dict[str, Any] = {}
    if (run_dir / "run.json").is_file():
        try:
            manifest = json.loads((run_dir / "run.json").read_text())
        except json.JSONDecodeError:
            raise UserInputError(f"{run_dir / 'run.json'} is not valid JSON") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = EpisodeStore(store_path).load()
    latest: dict[tuple[str, int], Episode] = {}
    for episode in records:
        latest[(episode.task_id, episode.sample)] = episode
    k = (manifest.get("config") or {}).get("k")
    episodes = [e for e in latest.values() if not k or e.sample < k]
    if not episodes:
        raise UserInputError(f"{store_path} holds no episodes")
    episodes.sort(key=lambda e: (e.task_id, e.sample))
    return RunRecords(run_dir, episodes, manifest, skipped_lines=len(caught))


def run_tools(run: RunRecords) -> list[dict[str, Any]]:
    """The tools the policy was offered, in OpenAI format: from run.json, or (for a run made
    before run.json listed them) from the registered env of the same id."""
    if "tools" in run.manifest:
        return list(run.manifest["tools"])
    from agentgym.core.registry import spec as env_spec

    env_spec_ = env_spec(run.env_id)  # UnknownEnvError (a UserInputError) when not registered
    kwargs = {"tasks": run.config["tasks_file"]} if run.config.get("tasks_file") else {}
    env = env_spec_.make_async(**kwargs)
    try:
        return [t.to_openai() for t in env.tools]
    finally:
        asyncio.run(env.close())
