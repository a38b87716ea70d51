"""The SWE task schema (SWE-bench compatible) and its JSONL loader.

A line is either a SWE-bench instance (`instance_id, repo, base_commit, problem_statement, ...`)
with an `environment` object added, or an agentgym task (`{"id", "family": "swe", "data": ...}`).
SWE-bench files store FAIL_TO_PASS / PASS_TO_PASS as JSON-encoded strings; both forms load.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agentgym.core.errors import TaskFileError
from agentgym.core.paths import tasks_dir
from agentgym.core.taskfile import count_task_lines, read_task_file
from agentgym.core.types import Action, Task

FAMILY = "swe"
DEFAULT_TEST_DEPS = ["pytest==8.3.3"]
SWE_BENCH_FIELDS = (
    "instance_id", "repo", "base_commit", "problem_statement", "hints_text",
    "patch", "test_patch", "FAIL_TO_PASS", "PASS_TO_PASS",
)
#: other fields of SWE-bench and its relatives (Verified, Lite, Multimodal, Gym, -extra): kept as
#: `metadata` when a row is loaded, so their files load as they are
METADATA_FIELDS = frozenset({
    "created_at", "version", "environment_setup_commit", "image_name", "image_assets", "license",
    "meta", "requirements", "pull_number", "issue_numbers", "instance_image_tag", "repo_language",
    "language", "pr_description", "problem_statement_source", "test_cmds", "log_parser",
})


class EnvironmentSpec(BaseModel):
    """Where the source comes from and how to install and test it. Hashed to key the env cache."""

    model_config = ConfigDict(extra="forbid")

    pypi_sdist: str | None = Field(None, description='"name==version": the sdist from PyPI')
    git: str | None = Field(None, description="a git URL or local path; needs `commit`")
    commit: str | None = None
    local_dir: str | None = Field(None, description="a directory on this machine")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$",
                               description="pins the sdist's bytes: a download that differs is refused")
    python: str = Field("3.11", description="Python version, such as '3.11'")
    deps: list[str] = Field(default_factory=lambda: list(DEFAULT_TEST_DEPS),
                            description="requirements installed beside the source (never the project itself)")
    install: list[str] = Field(default_factory=list,
                               description="extra shell commands run in the source dir at build time")
    pythonpath: list[str] = Field(default_factory=lambda: ["."],
                                  description="source dirs, relative to the repo root, put on sys.path")
    test_command: str = Field("python -m pytest -p no:cacheprovider -q",
                              description="runs the tests; test ids are appended")

    @model_validator(mode="after")
    def _one_source(self) -> EnvironmentSpec:
        given = [k for k in ("pypi_sdist", "git", "local_dir") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one source: pypi_sdist, git or local_dir")
        if self.git and not self.commit:
            raise ValueError("a git source needs `commit`")
        if self.pypi_sdist and "==" not in self.pypi_sdist:
            raise ValueError('pypi_sdist must pin a version: "name==version"')
        if self.sha256 and not self.pypi_sdist:
            raise ValueError("sha256 pins an sdist: it needs pypi_sdist")
        return self

    def key(self) -> str:
        """A short hash of everything that changes the built environment (for a local_dir,
        its files' contents too, so editing the directory rebuilds)."""
        # an unset pin leaves the key as it was before pins existed (cached builds stay valid)
        blob = json.dumps(self.model_dump(mode="json", exclude={"sha256"} if self.sha256 is None else None),
                          sort_keys=True)
        digest = hashlib.sha256(blob.encode())
        if self.local_dir and Path(self.local_dir).is_dir():
            for path in sorted(Path(self.local_dir).rglob("*")):
                if path.is_file() and not {".git", "__pycache__"} & set(path.parts):
                    digest.update(str(path.relative_to(self.local_dir)).encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]

    @property
    def source_label(self) -> str:
        return self.pypi_sdist or (f"{self.git}@{self.commit}" if self.git else str(self.local_dir))


def _json_list(value: Any) -> Any:
    if isinstance(value, str):  # SWE-bench files hold these lists JSON-encoded
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError as e:
            raise ValueError(f"not a JSON-encoded list: {e.msg}") from None
    return value


class SWEData(BaseModel):
    """A SWE-bench instance plus the environment it runs in."""

    model_config = ConfigDict(extra="forbid")

    instance_id: str
    repo: str
    base_commit: str = ""
    problem_statement: str
    hints_text: str = ""
    patch: str = Field(description="the gold fix, a unified diff against the task's base state")
    test_patch: str = Field("", description="hidden tests, applied only in the verifier's fork")
    FAIL_TO_PASS: list[str]
    PASS_TO_PASS: list[str] = Field(default_factory=list)
    environment: EnvironmentSpec
    base_patch: str = Field("", description="applied on top of the source to make the base state "
                                             "(generated tasks keep their injected bug here)")
    mutations: list[str] = Field(default_factory=list, description="what the generator changed")
    metadata: dict[str, Any] = Field(default_factory=dict,
                                     description="fields of the source dataset kept as they are (created_at, version...)")

    _lists = field_validator("FAIL_TO_PASS", "PASS_TO_PASS", mode="before")(_json_list)

    @field_validator("FAIL_TO_PASS")
    @classmethod
    def _some_failing(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("needs at least one test")
        return v

    @field_validator("patch")
    @classmethod
    def _a_diff(cls, v: str) -> str:
        if "@@" not in v:
            raise ValueError("must be a unified diff with at least one hunk")
        return v


class SWETask(Task):
    """A SWE task: `prompt` is the problem statement; `data` the instance and its environment."""

    family: Literal["swe"] = FAMILY
    data: SWEData
    verifier: dict = Field(default_factory=lambda: {"name": "swe_tests"})


def from_instance(raw: dict[str, Any]) -> SWETask:
    """A task from a SWE-bench-shaped dict (flat fields + `environment`). The dataset's own other
    fields (METADATA_FIELDS) are kept in `metadata`; anything else is refused by name."""
    kept = {k: raw[k] for k in METADATA_FIELDS if k in raw}
    data = {k: v for k, v in raw.items() if k != "difficulty" and k not in METADATA_FIELDS}
    if kept:
        data["metadata"] = {**kept, **(data.get("metadata") or {})}
    difficulty = raw.get("difficulty")
    prompt = raw.get("problem_statement", "")
    return SWETask(id=raw.get("instance_id", ""), prompt=prompt, data=data, difficulty=difficulty)


def to_instance(task: SWETask) -> dict[str, Any]:
    """The SWE-bench-shaped dict written to task files (lists kept as JSON lists)."""
    out = task.data.model_dump(mode="json", exclude_defaults=False)
    out["environment"] = task.data.environment.model_dump(mode="json", exclude_defaults=True)
    if task.difficulty is not None:
        out["difficulty"] = task.difficulty
    return out


def parse_task(raw: dict[str, Any]) -> SWETask:
    """A task from either line shape; without a reference, one is made from `patch`."""
    task = from_instance(raw) if "instance_id" in raw and "data" not in raw else SWETask.model_validate(raw)
    if task.reference is None:
        task.reference = reference_actions(task)
    return task


def default_tasks_path() -> Path:
    return tasks_dir() / "swe"


def task_files(path: str | Path | None = None) -> list[Path]:
    path = Path(path) if path is not None else default_tasks_path()
    return sorted(path.glob("*.jsonl")) if path.is_dir() else [path]


def load_tasks(path: str | Path | None = None) -> list[SWETask]:
    """Read and validate a task file, or every *.jsonl in a directory (default: tasks/swe)."""
    path = Path(path) if path is not None else default_tasks_path()
    files = task_files(path)
    if not files:
        raise TaskFileError(str(path), "no *.jsonl task files here")
    tasks: list[SWETask] = []
    seen: dict[str, str] = {}
    for file in files:
        for task in read_task_file(file, parse_task, hide=("data",)):
            if task.id in seen:
                raise TaskFileError(str(file), f"duplicate task id {task.id!r} (also in {seen[task.id]})")
            seen[task.id] = file.name
            tasks.append(task)
    return tasks


def count_tasks(path: str | Path | None = None) -> int:
    """How many tasks the files hold, without validating them (for `agentgym list`)."""
    return count_task_lines(task_files(path))


def dump_tasks(tasks: list[SWETask]) -> str:
    """JSONL in SWE-bench shape, one compact object per line, stable key order."""
    return "".join(json.dumps(to_instance(t), sort_keys=True) + "\n" for t in tasks)


def reference_actions(task: SWETask) -> list[Action]:
    """Edits that turn the base state into the fixed one (one str_replace per hunk), then submit."""
    from agentgym.core.types import ToolCall
    from agentgym.environments.swe.diffs import parse_patch

    calls = []
    for fp in parse_patch(task.data.patch):
        if fp.is_new:
            args = {"command": "create", "path": fp.path,
                    "file_text": "".join(line for h in fp.hunks for line in h.new_lines)}
            calls.append(ToolCall(id=f"ref_{len(calls)}", name="str_replace_editor", arguments=args))
        elif fp.is_deleted:
            calls.append(ToolCall(id=f"ref_{len(calls)}", name="bash", arguments={"command": f"rm -f {fp.path}"}))
        for hunk in [] if fp.is_new or fp.is_deleted else fp.hunks:
            args = {"command": "str_replace", "path": fp.path,
                    "old_str": "".join(hunk.old_lines), "new_str": "".join(hunk.new_lines)}
            calls.append(ToolCall(id=f"ref_{len(calls)}", name="str_replace_editor", arguments=args))
    return [Action(tool_calls=calls), Action(tool_calls=[ToolCall(id="ref_submit", name="submit")])]
