"""The docker backend: one long-lived container per sandbox on a real Docker engine.

The container (`sleep infinity` as a root init without capabilities, commands as uid 1000,
no-new-privileges, read-only root, `--network none`, memory/pids/CPU limits, labels
`agentgym=1`) bind-mounts the same overlay workspace and /tmp as the bwrap backend. The
workspace is bound with `rslave` propagation from a shared mount point, so when a fork or
restore remounts the overlay on the host the running container sees the new files at once.
Background processes a command starts keep running until a fork/restore/timeout.
The engine is whatever `DOCKER_HOST` names; the workspace paths must exist on the engine's
machine, so a remote engine needs the runtime directory shared with it.
How a command's end is classified (the agent's, or ours): see kills.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from pathlib import Path

from agentgym.core.errors import SandboxError, UserInputError
from agentgym.sandbox import docker_engine as engine
from agentgym.sandbox.base import (
    AGENT_UID,
    BASE_ENV,
    WORKSPACE,
    Command,
    ExecResult,
    Limits,
    Sandbox,
    SnapshotRef,
    to_argv,
)
from agentgym.sandbox.kills import as_agent_result, interrupted, killed_from_outside, limit_kill
from agentgym.sandbox.layers import new_id
from agentgym.sandbox.output import CappedBuffer, WholeBuffer
from agentgym.sandbox.reads import WHOLE_OUTPUT_LIMIT, OutputTooLargeError
from agentgym.sandbox.workspace import SavedState, WorkspaceFS

DEFAULT_IMAGE = engine.DEFAULT_IMAGE
_PF_EXITING = 0x4  # linux/sched.h: the task is in do_exit
client = engine.client


class DockerSandbox(Sandbox):
    backend = "docker"

    def __init__(self, sandbox_id: str, limits: Limits, network: bool, image: str, fs: WorkspaceFS, container):
        super().__init__(sandbox_id, limits, network)
        self.image, self.fs, self.container = image, fs, container
        self.api = container.client.api
        self._saved: dict[str, SavedState] = {}
        self._running: dict[int, bool] = {}  # exec -> killed by a fork/snapshot/restore/close
        self._lock = asyncio.Lock()
        self._oom_file: Path | None = None
        self._oom_seen = 0

    @classmethod
    async def create(cls, image: str | None, workspace: str | os.PathLike | None, limits: Limits,
                     network: bool) -> DockerSandbox:
        source = Path(workspace) if workspace is not None else None
        if source is not None and not source.is_dir():
            raise UserInputError(f"workspace {source} is not a directory")
        docker_client = await asyncio.to_thread(engine.client)
        image = image or DEFAULT_IMAGE
        await asyncio.to_thread(engine.check_image, docker_client, image)
        sandbox_id = new_id()
        sandbox_dir = await engine.make_dir(sandbox_id, limits.disk_mb)
        fs = container = None
        try:
            fs = await WorkspaceFS.create(sandbox_dir, source, limits.disk_mb, owner=AGENT_UID, mount=False)
            # the container must bind `share/` before the overlay is stacked on it, or it would
            # hold this overlay forever instead of following remounts
            container = await asyncio.to_thread(engine.start_container, docker_client, image, sandbox_id,
                                                fs, limits, network)
            await fs.mount()
            sandbox = cls(sandbox_id, limits, network, image, fs, container)
            await asyncio.to_thread(sandbox._watch_memory)
        except BaseException:
            await engine.discard(container, fs, sandbox_dir)
            raise
        return sandbox

    # --- exec ----------------------------------------------------------------------------------

    async def _exec(self, cmd: Command, timeout: float, cwd: str | None, env: dict[str, str],
                    stdin: bytes | None, capped: bool = True,
                    max_output: int = WHOLE_OUTPUT_LIMIT) -> ExecResult:
        self._check_open()
        async with self._lock:
            pass
        argv = to_argv(cmd, "/bin/bash")
        out = CappedBuffer(self.limits.output_bytes) if capped else WholeBuffer(min(max_output, WHOLE_OUTPUT_LIMIT))
        err = CappedBuffer(self.limits.output_bytes)
        key = id(out)
        self._running[key] = False
        start = time.monotonic()
        try:
            code, timed_out = await self._run(argv, cwd, env, stdin, out, err, timeout)
            overflowed = isinstance(out, WholeBuffer) and out.overflowed
            why = None if timed_out or overflowed else await self._limit_kill(code)
        except SandboxError:
            if self._running[key] or self.closed:
                raise interrupted(self.id) from None
            raise
        finally:
            killed_by_us = self._running.pop(key)
        if killed_by_us or self.closed:
            raise interrupted(self.id)
        if overflowed:
            raise OutputTooLargeError(f"the command printed more than {out.limit} bytes")
        stdout = out.raw().decode("latin-1") if not capped else out.text()
        result = ExecResult(code, stdout, err.text(), timed_out, out.truncated or err.truncated,
                            time.monotonic() - start)
        return as_agent_result(result, why)

    async def _run(self, argv: list[str], cwd: str | None, env: dict[str, str], stdin: bytes | None,
                   out: CappedBuffer | WholeBuffer, err: CappedBuffer, timeout: float) -> tuple[int, bool]:
        """Run one exec to its end: (exit code, timed out). The engine failing is SandboxError."""
        deadline = time.monotonic() + timeout
        try:
            exec_id = await asyncio.to_thread(self._create_exec, argv, cwd, env, stdin is not None)
            sock = await asyncio.to_thread(self.api.exec_start, exec_id, socket=True)
        except Exception as exc:
            raise self._gone(exc) from exc
        raw_sock = getattr(sock, "_sock", sock)
        loop = asyncio.get_running_loop()
        full = asyncio.Event()
        if isinstance(out, WholeBuffer):
            out.on_full = lambda: loop.call_soon_threadsafe(full.set)
        reader = asyncio.create_task(asyncio.to_thread(engine.pump, raw_sock, stdin, out, err))
        watcher = asyncio.create_task(full.wait())
        timed_out = overflowed = False
        try:
            done, _ = await asyncio.wait({reader, watcher}, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if reader not in done:
                overflowed, timed_out = watcher in done, watcher not in done
                # kill, then read the stream to its end: the engine wedges the container's next
                # commands if we hang up on it while it still holds output
                await self._kill_all()
                await asyncio.wait({reader}, timeout=10)
        except asyncio.CancelledError:  # the caller gave up: the command must not run on
            await asyncio.shield(self._kill_all())
            await asyncio.shield(asyncio.wait({reader}, timeout=5))
            raise
        finally:
            watcher.cancel()
            if not reader.done():
                with contextlib.suppress(OSError):
                    raw_sock.shutdown(socket.SHUT_RDWR)  # wakes the reader thread
                await asyncio.gather(reader, return_exceptions=True)
        # the stream ends when the command closes its output, which may be before it exits
        while True:
            try:
                info = await asyncio.to_thread(self.api.exec_inspect, exec_id)
            except Exception as exc:
                raise self._gone(exc) from exc
            if not info.get("Running") or timed_out or overflowed:
                break
            if time.monotonic() > deadline:
                timed_out = True
                await self._kill_all()
                break
            await asyncio.sleep(0.05)
        code = info.get("ExitCode")
        return (code if code is not None else -9), timed_out

    def _create_exec(self, argv: list[str], cwd: str | None, env: dict[str, str], stdin: bool) -> str:
        return self.api.exec_create(
            self.container.id, argv, stdin=stdin, user=f"{AGENT_UID}:{AGENT_UID}",
            workdir=cwd or WORKSPACE, environment={**BASE_ENV, **env},
        )["Id"]

    def _gone(self, exc: Exception) -> SandboxError:
        return SandboxError(f"docker sandbox {self.id} is gone: {exc}")

    async def _limit_kill(self, code: int) -> str | None:
        """For a command that died of a signal: our limit's doing (the agent's), or SandboxError.

        A stopped container was stopped from outside, unless the out-of-memory killer took its
        init (the agent filled its memory): then it is started again and the agent is told.
        """
        if 0 <= code < 128:
            return None
        state = await self._state()
        if state.get("Running") and code in (137, -9):
            # the container's end kills every command with SIGKILL before the engine notices:
            # wait until its init is seen alive (not exiting), or the container is seen stopped
            for _ in range(50):
                if self._init_alive(state):
                    break
                await asyncio.sleep(0.1)
                state = await self._state()
                if not state.get("Running"):
                    break
        if not state.get("Running"):
            if not state.get("OOMKilled"):
                raise killed_from_outside(self.id, f"the container is {state.get('Status')}")
            try:
                await asyncio.to_thread(self.api.start, self.container.id)
                await asyncio.to_thread(self._watch_memory)
            except Exception as exc:
                raise SandboxError(f"docker sandbox {self.id}: restarting after an OOM failed: {exc}") from exc
            return limit_kill(code, 1, self.limits)
        seen, self._oom_seen = self._oom_seen, await asyncio.to_thread(self._oom_kills)
        return limit_kill(code, self._oom_seen - seen, self.limits)

    async def _state(self) -> dict:
        try:
            return (await asyncio.to_thread(self.api.inspect_container, self.container.id))["State"]
        except Exception as exc:
            raise self._gone(exc) from exc

    @staticmethod
    def _init_alive(state: dict) -> bool:
        """Whether the container's init process is alive (a remote engine's state is taken as is)."""
        if not engine.engine_is_local():
            return True
        try:
            stat = Path(f"/proc/{state.get('Pid')}/stat").read_text()
        except OSError:
            return False
        fields = stat.rsplit(")", 1)[1].split()  # state, ppid, pgrp, session, tty, tpgid, flags
        # an init that took SIGKILL is exiting (PF_EXITING) before it is a zombie, and its
        # commands die before the engine says the container stopped: that is not alive
        return fields[0] not in ("Z", "X") and not int(fields[6]) & _PF_EXITING

    def _watch_memory(self) -> None:
        """Find the container's oom_kill counter (read on the host when the engine is local)."""
        pid = self.api.inspect_container(self.container.id)["State"]["Pid"]
        self._oom_file = engine.memory_counter_file(pid) if engine.engine_is_local() else None
        self._oom_seen = self._oom_kills()

    def _oom_kills(self) -> int:
        count = engine.read_oom_kills(self._oom_file)
        if count is not None:
            return count
        # a remote engine: the container's own cgroup files, which the agent cannot write
        script = ("cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control "
                  "2>/dev/null | sed -n 's/^oom_kill //p'")
        with contextlib.suppress(Exception):
            output = self.container.exec_run(["sh", "-c", script], user="0:0").output
            return int(output.split()[0])
        return self._oom_seen

    async def _kill_all(self) -> None:
        """Kill every process of the agent in the container; its init stays.

        A fork bomb can hold every pid the container may have, so an exec of `kill` may not even
        start. With a local engine the container is frozen and its processes are killed from the
        host, which needs no pid inside; a remote engine gets `kill -9 -1` from inside, retried.
        """
        try:
            if await asyncio.to_thread(self._kill_from_host):
                return
            for _ in range(20):
                exec_id = await asyncio.to_thread(self._create_exec, ["sh", "-c", "kill -9 -1"], "/", {}, False)
                output = await asyncio.to_thread(self.api.exec_start, exec_id)
                if b"OCI runtime" not in (output or b""):
                    return
                await asyncio.sleep(0.05)
        except Exception as exc:
            raise self._gone(exc) from exc

    def _kill_from_host(self) -> bool:
        """SIGKILL the agent's processes by host pid, the container frozen if it lets us, else in
        rounds until none is left (a cgroup that forks fast can refuse to freeze; that must not
        become our error). False if the engine is remote."""
        if not engine.engine_is_local():
            return False
        frozen = False
        with contextlib.suppress(Exception):
            self.api.pause(self.container.id)
            frozen = True
        try:
            for _ in range(1 if frozen else 100):
                top = self.api.top(self.container.id, ps_args="-eo pid,uid")
                agent = [int(row[0]) for row in top.get("Processes") or [] if int(row[1]) != 0]
                if not agent:  # the init and its `sleep` run as root
                    break
                for pid in agent:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, 9)
        finally:
            if frozen:
                self.api.unpause(self.container.id)
        return True

    # --- state ---------------------------------------------------------------------------------

    async def _interrupt(self) -> None:
        """Kill every running command (processes never survive fork/snapshot/restore)."""
        for key in self._running:
            self._running[key] = True
        await self._kill_all()

    async def fork(self) -> DockerSandbox:
        self._check_open()
        async with self._lock:
            await self._interrupt()
            child_id = new_id()
            child_dir = await engine.make_dir(child_id, self.limits.disk_mb)
            child_fs = container = None
            try:
                child_fs = await self.fs.fork(child_dir, self.limits.disk_mb, mount_child=False)
                container = await asyncio.to_thread(engine.start_container, self.container.client, self.image,
                                                    child_id, child_fs, self.limits, self.network)
                await child_fs.mount()
                child = DockerSandbox(child_id, self.limits, self.network, self.image, child_fs, container)
                await asyncio.to_thread(child._watch_memory)
            except BaseException:
                await engine.discard(container, child_fs, child_dir)
                raise
            return child

    async def snapshot(self) -> SnapshotRef:
        self._check_open()
        async with self._lock:
            await self._interrupt()
            ref = SnapshotRef(self.id, new_id())
            self._saved[ref.id] = await self.fs.save()
            return ref

    async def restore(self, ref: SnapshotRef) -> None:
        self._check_open()
        saved = self._saved.get(ref.id) if ref.sandbox_id == self.id else None
        if saved is None:
            raise UserInputError(f"snapshot {ref.id} was not taken from sandbox {self.id}")
        async with self._lock:
            await self._interrupt()
            await self.fs.restore(saved)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for key in self._running:
            self._running[key] = True
        async with self._lock:
            try:
                await asyncio.to_thread(self.container.remove, force=True)
            except Exception:
                pass  # already gone; cleanup removes anything labelled that is left
            for saved in self._saved.values():
                await self.fs.drop(saved)
            await self.fs.close()
            await engine.remove_dir(self.fs.dir)
