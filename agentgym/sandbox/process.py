"""Running one host process with a wall-clock timeout, capped output and a guaranteed kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from agentgym.sandbox.output import CappedBuffer, WholeBuffer, drain


@dataclass
class RawResult:
    exit_code: int  # negative: killed by that signal (ours on timeout/overflow, or someone else's)
    stdout: CappedBuffer | WholeBuffer
    stderr: CappedBuffer
    timed_out: bool
    duration_s: float

    @property
    def overflowed(self) -> bool:
        return isinstance(self.stdout, WholeBuffer) and self.stdout.overflowed


def rlimit_setter(cpu_s: int, file_bytes: int, nproc: int | None, address_bytes: int | None) -> Callable[[], None]:
    """Limits applied in the child before exec (they apply to root too, except NPROC)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        if address_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_bytes, address_bytes))

    return apply


async def run_process(
    argv: list[str],
    timeout: float,
    stdin: bytes | None,
    cap: int,
    preexec: Callable[[], None] | None = None,
    pass_fds: tuple[int, ...] = (),
    whole_limit: int | None = None,
    env: dict[str, str] | None = None,
) -> RawResult:
    """Run `argv` in its own session; on timeout or cancel kill its whole process group.

    stdout keeps its head and tail (`cap` bytes), or with `whole_limit` all of it up to that
    many bytes: one more and the process group is killed (`RawResult.overflowed`).
    """
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=preexec,
        pass_fds=pass_fds,
        env=env,
        cwd="/",  # nothing of the host's working directory reaches the sandbox
    )
    err = CappedBuffer(cap)
    out = CappedBuffer(cap) if whole_limit is None else WholeBuffer(whole_limit, lambda: _kill_group(proc.pid))
    readers = asyncio.gather(drain(proc.stdout, out), drain(proc.stderr, err), _feed(proc, stdin))
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), timeout)
    except asyncio.TimeoutError:
        timed_out = True
    finally:
        if proc.returncode is None:
            _kill_group(proc.pid)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(proc.wait(), 10)
    try:
        await asyncio.wait_for(readers, 5)
    except Exception:
        readers.cancel()
    code = proc.returncode if proc.returncode is not None else -9
    return RawResult(code, out, err, timed_out, time.monotonic() - start)


async def _feed(proc: asyncio.subprocess.Process, data: bytes | None) -> None:
    if data is None or proc.stdin is None:
        return
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.write(data)
        await proc.stdin.drain()
    with contextlib.suppress(Exception):
        proc.stdin.close()


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
