"""Who ended a command: the agent (a normal `ExecResult`) or someone outside (`SandboxError`).

The rule: a command's end is the agent's unless we can show it was not. Whatever the agent can
cause on purpose must come back as a normal result (it scores), never as an infrastructure
error (which would drop the episode from every metric).

- The agent's own signals (`kill -9 $$`, `kill -9 -1`) and anything else it does from inside:
  exit code 128+n, a normal result. Neither backend lets it signal or trace the process that
  runs the sandbox (bwrap's monitor is outside its pid namespace; a container's init runs as
  another user), so it cannot fake the cases below.
- Out of memory inside the sandbox's own limit (the oom_kill counter of its cgroup grew): a
  normal result, exit 137, `killed="out of memory (limit N MB)"`. On docker, when the kill took
  the container's init with it (memory filled with /tmp files), the container is started again.
- The CPU-time rlimit (SIGXCPU, exit 152): a normal result, `killed="CPU time limit (N s)"`.
- The wall-clock timeout: we kill it; a normal result with `timed_out=True`.
- A fork, snapshot, restore or close of the sandbox while the command runs kills it: ours,
  `SandboxError`.
- The sandbox killed from outside: the bwrap process dead of a signal we did not send (a host
  `kill`, the cgroup killed), its files unmounted under it, a container stopped or removed, the
  Docker engine gone: `SandboxError`.
- Not told apart: a host `kill` aimed at one process *inside* the sandbox looks exactly like the
  agent killing it, and is returned as the agent's result.
"""

from __future__ import annotations

import signal
from dataclasses import replace

from agentgym.core.errors import SandboxError
from agentgym.sandbox.base import ExecResult, Limits

SIGXCPU_EXIT = 128 + signal.SIGXCPU


def limit_kill(exit_code: int, oom_kills: int, limits: Limits) -> str | None:
    """Why the sandbox's own limits killed the command, if they did."""
    if oom_kills > 0:
        return f"out of memory (limit {limits.memory_mb} MB)"
    if exit_code in (SIGXCPU_EXIT, -signal.SIGXCPU):
        return f"CPU time limit ({limits.cpu_seconds} s per process)"
    return None


def as_agent_result(result: ExecResult, why: str | None) -> ExecResult:
    """The result the agent sees: a signal death as 128+n, and the limit that killed it said."""
    code = result.exit_code
    if code < 0:
        code = 128 - code
    if why is None:
        return replace(result, exit_code=code)
    stderr = result.stderr + ("" if not result.stderr or result.stderr.endswith("\n") else "\n")
    return replace(result, exit_code=code, killed=why, stderr=f"{stderr}[sandbox] killed: {why}\n")


def interrupted(sandbox_id: str) -> SandboxError:
    return SandboxError(f"sandbox {sandbox_id}: the command was killed by a fork, snapshot, "
                        "restore or close of its sandbox")


def killed_from_outside(sandbox_id: str, how: str) -> SandboxError:
    return SandboxError(f"sandbox {sandbox_id} was killed from outside while a command ran ({how})")
