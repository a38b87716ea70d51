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
from agentgym.sandbox.reads import (
    READ_LIMIT,
    READ_TIMEOUT,
    WHOLE_OUTPUT_LIMIT,
    FileTimeoutError,
    FileTooLargeError,
    OutputTooLargeError,
    file_error,
    read_argv,
    write_argv,
)

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
    """What a command did. A failing command is a normal result; only the sandbox failing raises.

    `killed` says why the sandbox's own limits killed it ("out of memory (limit 1024 MB)"),
    when they did; the same words end `stderr`, so the agent sees them.
    """

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    truncated: bool = False
    duration_s: float = 0.0
    killed: str | None = None

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
    if cwd is not None and (not cwd.startswith("/") or "\0" in cwd):
        raise UserInputError(f"exec: cwd must be an absolute path inside the sandbox, got {cwd!r}")
    for key, value in (env or {}).items():
        if not key or "=" in key or "\0" in key:
            raise UserInputError(f"exec: bad environment variable name {key!r}")
        if "\0" in value:  # bwrap takes its options NUL-separated: never let a value add one
            raise UserInputError(f"exec: environment variable {key} contains a NUL byte")


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

    async def read_bytes(self, path: str, max_bytes: int = READ_LIMIT,
                         timeout: float = READ_TIMEOUT) -> bytes:
        """Read a regular file as the agent would see it (paths resolve inside the sandbox).

        At most `max_bytes` (else `FileTooLargeError`; 64 MiB at most) and `timeout` seconds (else
        `FileTimeoutError`); a FIFO, device, socket or symlink loop raises `NotRegularFileError`.
        All are `OSError`s about content the agent controls, never `SandboxError`.
        """
        if not 0 <= max_bytes <= WHOLE_OUTPUT_LIMIT or not timeout > 0:
            raise UserInputError(f"read: max_bytes must be 0..{WHOLE_OUTPUT_LIMIT} and timeout > 0, "
                                 f"got {max_bytes!r} and {timeout!r}")
        target = self._abs(path)
        try:
            res = await self._exec(read_argv(target, max_bytes), timeout, None, {}, None,
                                   capped=False, max_output=max_bytes)
        except OutputTooLargeError:
            raise FileTooLargeError(f"{target}: more than the {max_bytes} bytes allowed") from None
        if res.timed_out:
            raise FileTimeoutError(f"{target}: reading took more than {timeout:g} s")
        if res.exit_code != 0:
            raise file_error(target, res.exit_code, res.stderr)
        return res.stdout.encode("latin-1")

    async def read_file(self, path: str, max_bytes: int = READ_LIMIT,
                        timeout: float = READ_TIMEOUT) -> str:
        """`read_bytes` decoded as UTF-8 (undecodable bytes become U+FFFD)."""
        return (await self.read_bytes(path, max_bytes, timeout)).decode("utf-8", errors="replace")

    async def write_file(self, path: str, content: str | bytes) -> None:
        """Write a file (creating parent directories); only /workspace and /tmp are writable.

        A target that exists and is not a regular file (a FIFO, a device) is refused.
        """
        data = content.encode() if isinstance(content, str) else content
        target = self._abs(path)
        res = await self._exec(write_argv(target), 60, None, {}, data)
        if res.timed_out:
            raise FileTimeoutError(f"{target}: writing took more than 60 s")
        if res.exit_code != 0:
            raise file_error(target, res.exit_code, res.stderr)

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
        max_output: int = WHOLE_OUTPUT_LIMIT,
    ) -> ExecResult:
        """Run one command. With `capped=False` stdout is returned whole, as latin-1 text, up to
        `max_output` bytes (at most WHOLE_OUTPUT_LIMIT): one byte more kills the command and
        raises `OutputTooLargeError`, so no caller can make the host grow without bound."""

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


def quote(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
