"""What a run was: its settings, the code and the tasks it ran on, and the machine.

`OUT/run.json` is written before the first episode. Resuming into the same OUT checks that the
settings that decide what an episode means (env, policy, seed, max steps, the tasks, the extra
verifiers) are the same, so episodes of two different runs never end up in one results.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agentgym.core.errors import UserInputError
from agentgym.core.types import Task

#: settings that change what an episode is; a resume must match them
IDENTITY_FIELDS = ("env_id", "policy", "policy_args", "seed", "max_steps", "tasks_sha256", "verifiers")


class RunConfig(BaseModel):
    env_id: str
    policy: str
    policy_args: dict[str, Any] = Field(default_factory=dict)
    #: the full spec of the policy object (its own `describe()` where it has one)
    policy_spec: dict[str, Any] = Field(default_factory=dict)
    n: int | None = None
    k: int = 1
    seed: int = 0
    max_steps: int | None = None
    concurrency: int = 8
    tasks_file: str | None = None
    tasks_sha256: str = ""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    #: the extra verifiers (`--verifier`), by label, as parsed specs: another set is another run
    #: (its episodes would hold other verdicts)
    verifiers: dict[str, dict[str, Any]] = Field(default_factory=dict)


class RunManifest(BaseModel):
    config: RunConfig
    command: str = Field(default_factory=lambda: shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]))
    git_commit: str | None = Field(default_factory=lambda: git_commit())
    task_files: dict[str, str] = Field(default_factory=dict)  # path -> sha256
    #: the tools the policy was offered (OpenAI format), so exports need not rebuild the env
    tools: list[dict[str, Any]] = Field(default_factory=list)
    machine: dict[str, Any] = Field(default_factory=lambda: machine())


def tasks_digest(tasks: list[Task]) -> str:
    """One hash of the task set, whatever file it came from (canonical JSON of every task)."""
    h = hashlib.sha256()
    for task in sorted(tasks, key=lambda t: t.id):
        h.update(json.dumps(task.model_dump(mode="json"), sort_keys=True).encode())
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def git_commit() -> str | None:
    """The commit of the agentgym checkout in use (None for an installed wheel)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return None
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "-uno"],
                           capture_output=True, text=True, timeout=5).stdout.strip()
    return commit + ("-dirty" if dirty else "")


def machine() -> dict[str, Any]:
    return {"platform": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def check_resume(out_dir: Path, manifest: RunManifest, force: bool) -> None:
    """Write OUT/run.json, or refuse when OUT holds episodes of a different run."""
    path = out_dir / "run.json"
    episodes = out_dir / "episodes.jsonl"
    if force:
        for stale in (episodes, out_dir / "results.json"):
            stale.unlink(missing_ok=True)
    elif path.exists() and episodes.exists() and episodes.stat().st_size:
        try:
            old = RunConfig.model_validate(json.loads(path.read_text())["config"])
        except (ValueError, KeyError, TypeError):
            raise UserInputError(f"{path} is not a run manifest; use --force to start over") from None
        new = manifest.config
        for name in IDENTITY_FIELDS:
            if getattr(old, name) != getattr(new, name):
                raise UserInputError(
                    f"{out_dir} holds episodes of another run ({name}: {getattr(old, name)!r}, "
                    f"now {getattr(new, name)!r}); use another --out, or --force to start over"
                )
    elif not path.exists() and episodes.exists() and episodes.stat().st_size:
        raise UserInputError(
            f"{out_dir} holds episodes but no run.json, so they cannot be checked; "
            "use another --out, or --force to start over"
        )
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(manifest.model_dump_json(indent=2))
    os.replace(tmp, path)
