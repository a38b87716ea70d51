"""The Sandbox contract: limits, exec results, snapshots and the base class backends subclass."""

from __future__ import annotations

import abc
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from agentgym.core.errors import SandboxError, UserInputError

WORKSPACE = "/workspace"
AGENT_UID = 1000
# The whole environment a command starts with (the host's is never passed on).
BASE_ENV: dict[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/tmp",
    "USER": "agent",
    "LOGNAME": "agent",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
}


class Limits(BaseModel):
    """Resource limits for one sandbox. Memory, processes and disk are shared by all its commands."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    memory_mb: int = Field(1024, ge=16, description="RAM for all processes (and /tmp, which is RAM)")
    pids: int = Field(256, ge=8, description="processes and threads at once")
    cpu_seconds: int = Field(600, ge=1, description="CPU time per process")
    file_size_mb: int = Field(256, ge=1, description="largest file a process may write")
    disk_mb: int = Field(1024, ge=8, description="space for workspace changes and /tmp together")
    output_bytes: int = Field(100_000, ge=1024, description="stdout and stderr cap, each")
    timeout_s: float = Field(600.0, gt=0, description="wall-clock timeout when exec gives none")


@dataclass(frozen=True)
class ExecResult:
    """What a command did. A failing command is a normal result; only the sandbox failing raises."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    truncated: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def output(self) -> str:
        """stdout then stderr, as a terminal would roughly show them."""
        if self.stdout and self.stderr and not self.stdout.endswith("\n"):
            return self.stdout + "\n" + self.stderr
        return self.stdout + self.stderr


@dataclass(frozen=True)
class SnapshotRef:
    """A saved state of one sandbox's workspace and /tmp; `restore` goes back to it."""

    sandbox_id: str
    id: str
    created: float = field(default_factory=time.time)


Command = str | Sequence[str]


def to_argv(cmd: Command, shell: str) -> list[str]:
    """A string runs through the shell; a list runs as it is."""
    if isinstance(cmd, str):
        if not cmd.strip():
            raise UserInputError("exec: empty command")
        return [shell, "-c", cmd]
    argv = [str(a) for a in cmd]
    if not argv:
        raise UserInputError("exec: empty command")
    return argv


def check_exec_args(timeout: float | None, cwd: str | None, env: Mapping[str, str] | None) -> None:
    if timeout is not None and not timeout > 0:
        raise UserInputError(f"exec: timeout must be > 0, got {timeout!r}")
    if cwd is not None and not cwd.startswith("/"):
        raise UserInputError(f"exec: cwd must be an absolute path inside the sandbox, got {cwd!r}")
    for key in env or {}:
        if not key or "=" in key or "\0" in key:
            raise UserInputError(f"exec: bad environment variable name {key!r}")


class Sandbox(abc.ABC):
    """An isolated place to run an agent's commands. Use as `async with`; `close` always runs.

    The workspace is at `/workspace` (read-write); `/tmp` is private; everything else is the
    image, read-only. A command that fails is a normal `ExecResult`; a sandbox that stops
    working raises `SandboxError` (an infrastructure failure, never the agent's).
    """

    backend: ClassVar[str]
    workspace: str = WORKSPACE

    def __init__(self, sandbox_id: str, limits: Limits, network: bool):
        self.id = sandbox_id
        self.limits = limits
        self.network = network
        self.closed = False

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def exec(
        self,
        cmd: Command,
        timeout: float | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: str | bytes | None = None,
    ) -> ExecResult:
        """Run `cmd` (a shell string or an argv list) and wait at most `timeout` seconds."""
        check_exec_args(timeout, cwd, env)
        self._check_open()
        data = stdin.encode() if isinstance(stdin, str) else stdin
        return await self._exec(cmd, timeout or self.limits.timeout_s, cwd, dict(env or {}), data)

    async def read_bytes(self, path: str) -> bytes:
        """Read a file as the agent would see it (paths resolve inside the sandbox)."""
        res = await self._exec(["cat", "--", self._abs(path)], 60, None, {}, None, capped=False)
        if res.exit_code != 0:
            raise _file_error(path, res.stderr)
        return res.stdout.encode("latin-1")

    async def read_file(self, path: str) -> str:
        return (await self.read_bytes(path)).decode("utf-8", errors="replace")

    async def write_file(self, path: str, content: str | bytes) -> None:
        """Write a file (creating parent directories); only /workspace and /tmp are writable."""
        data = content.encode() if isinstance(content, str) else content
        target = self._abs(path)
        script = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"'
        res = await self._exec(["sh", "-c", script, "sh", target], 60, None, {}, data)
        if res.exit_code != 0:
            raise _file_error(path, res.stderr)

    def _abs(self, path: str) -> str:
        if not path:
            raise UserInputError("empty path")
        return path if path.startswith("/") else f"{self.workspace}/{path}"

    def _check_open(self) -> None:
        if self.closed:
            raise SandboxError(f"sandbox {self.id} is closed")

    @abc.abstractmethod
    async def _exec(
        self,
        cmd: Command,
        timeout: float,
        cwd: str | None,
        env: dict[str, str],
        stdin: bytes | None,
        capped: bool = True,
    ) -> ExecResult:
        """Run one command. With `capped=False` stdout is returned as latin-1 text, whole."""

    @abc.abstractmethod
    async def fork(self) -> Sandbox:
        """A new sandbox with a copy of this one's files (processes are not copied)."""

    @abc.abstractmethod
    async def snapshot(self) -> SnapshotRef:
        """Save the current files; cheap, whatever the size of the workspace."""

    @abc.abstractmethod
    async def restore(self, ref: SnapshotRef) -> None:
        """Go back to a snapshot of this sandbox; running commands are killed first."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop everything and free what the sandbox held. Safe to call twice."""


def _file_error(path: str, stderr: str) -> OSError:
    msg = stderr.strip() or f"cannot access {path}"
    if "No such file" in msg:
        return FileNotFoundError(msg)
    if "Is a directory" in msg:
        return IsADirectoryError(msg)
    if "Permission denied" in msg or "Read-only" in msg:
        return PermissionError(msg)
    return OSError(msg)


def quote(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
