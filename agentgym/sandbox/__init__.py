"""Sandboxes: where agent code runs. `create(...)` gives a `Sandbox` on the bwrap or docker backend.

    async with create(workspace="repo/") as sb:
        result = await sb.exec("pytest -q", timeout=60)
        child = await sb.fork()        # O(1) in the workspace size (overlayfs layers)

Commands are contained (no network, no host files, no host environment, memory/process/CPU/
file/disk limits) and a sandbox that breaks raises `SandboxError`, never a failed result.
Host-side reads (`read_bytes`, `read_file`) are bounded in bytes and time and take regular
files only; content the agent made unreadable raises a `SandboxContentError` (an `OSError`).
"""

from agentgym.sandbox.base import ExecResult, Limits, Sandbox, SnapshotRef
from agentgym.sandbox.factory import BACKENDS, PendingSandbox, create
from agentgym.sandbox.pool import WarmPool
from agentgym.sandbox.reads import (
    FileTimeoutError,
    FileTooLargeError,
    NotRegularFileError,
    OutputTooLargeError,
    SandboxContentError,
)
from agentgym.sandbox.shell import ShellSession

__all__ = [
    "create", "Sandbox", "ExecResult", "Limits", "SnapshotRef", "ShellSession", "WarmPool",
    "PendingSandbox", "BACKENDS", "SandboxContentError", "NotRegularFileError",
    "FileTooLargeError", "OutputTooLargeError", "FileTimeoutError",
]
