"""The docker backend: one long-lived container per sandbox on a real Docker engine.

The container (`sleep infinity`, non-root uid 1000, no capabilities, no-new-privileges,
read-only root, `--network none`, memory/pids/CPU limits, labels `agentgym=1`) bind-mounts
the same overlay workspace and /tmp as the bwrap backend. The workspace is bound with
`rslave` propagation from a shared mount point, so when a fork or restore remounts the
overlay on the host the running container sees the new files at once. Background processes
a command starts keep running until a fork/restore/timeout (`kill -9 -1` as the agent).
The engine is whatever `DOCKER_HOST` names; the workspace paths must exist on the engine's
machine, so a remote engine needs the runtime directory shared with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import struct
import time
from pathlib import Path

from agentgym.core.errors import SandboxError, UserInputError
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
from agentgym.sandbox.layers import new_id, run, runtime_root
from agentgym.sandbox.output import CappedBuffer
from agentgym.sandbox.process import UNCAPPED
from agentgym.sandbox.workspace import SavedState, WorkspaceFS

DEFAULT_IMAGE = "agentgym-base:bookworm"
LABEL = "agentgym"


def client():
    """A Docker client for DOCKER_HOST (or the local socket); SandboxError when none answers."""
    try:
        import docker
    except ImportError as exc:
        raise SandboxError("the docker backend needs `pip install agentgym[docker]`") from exc
    try:
        c = docker.from_env(timeout=30)
        c.ping()
        return c
    except Exception as exc:
        raise SandboxError(f"no Docker engine answers ({exc}); run scripts/setup_sandbox.sh") from exc


class DockerSandbox(Sandbox):
    backend = "docker"

    def __init__(self, sandbox_id: str, limits: Limits, network: bool, image: str, fs: WorkspaceFS, container):
        super().__init__(sandbox_id, limits, network)
        self.image, self.fs, self.container = image, fs, container
        self.api = container.client.api
        self._saved: dict[str, SavedState] = {}
        self._lock = asyncio.Lock()

    @classmethod
    async def create(cls, image: str | None, workspace: str | os.PathLike | None, limits: Limits,
                     network: bool) -> DockerSandbox:
        source = Path(workspace) if workspace is not None else None
        if source is not None and not source.is_dir():
            raise UserInputError(f"workspace {source} is not a directory")
        docker_client = await asyncio.to_thread(client)
        image = image or DEFAULT_IMAGE
        await asyncio.to_thread(_check_image, docker_client, image)
        sandbox_id = new_id()
        sandbox_dir = await _make_dir(sandbox_id)
        fs = container = None
        try:
            fs = await WorkspaceFS.create(sandbox_dir, source, limits.disk_mb, owner=AGENT_UID, mount=False)
            # the container must bind `share/` before the overlay is stacked on it, or it would
            # hold this overlay forever instead of following remounts
            container = await asyncio.to_thread(_start_container, docker_client, image, sandbox_id, fs, limits, network)
            await fs.mount()
        except BaseException:
            await _discard(container, fs, sandbox_dir)
            raise
        return cls(sandbox_id, limits, network, image, fs, container)

    async def _exec(self, cmd: Command, timeout: float, cwd: str | None, env: dict[str, str],
                    stdin: bytes | None, capped: bool = True) -> ExecResult:
        self._check_open()
        async with self._lock:
            pass
        argv = to_argv(cmd, "/bin/bash")
        cap = self.limits.output_bytes if capped else UNCAPPED
        start = time.monotonic()
        try:
            exec_id = await asyncio.to_thread(self._create_exec, argv, cwd, env, stdin is not None)
            sock = await asyncio.to_thread(self.api.exec_start, exec_id, socket=True)
        except Exception as exc:
            raise SandboxError(f"docker sandbox {self.id} is gone: {exc}") from exc
        raw_sock = getattr(sock, "_sock", sock)
        out, err = CappedBuffer(cap), CappedBuffer(cap)
        reader = asyncio.create_task(asyncio.to_thread(_pump, raw_sock, stdin, out, err))
        timed_out = False
        try:
            await asyncio.wait_for(asyncio.shield(reader), timeout)
        except asyncio.TimeoutError:
            timed_out = True
            await self._kill_all()
        finally:
            if not reader.done():
                raw_sock.close()
                await asyncio.gather(reader, return_exceptions=True)
        info = await asyncio.to_thread(self.api.exec_inspect, exec_id)
        code = info.get("ExitCode")
        if code is None:
            code = -9 if timed_out else -1
        stdout = out.raw().decode("latin-1") if not capped else out.text()
        return ExecResult(code, stdout, err.text(), timed_out, out.truncated or err.truncated,
                          time.monotonic() - start)

    def _create_exec(self, argv: list[str], cwd: str | None, env: dict[str, str], stdin: bool) -> str:
        return self.api.exec_create(
            self.container.id, argv, stdin=stdin, user=f"{AGENT_UID}:{AGENT_UID}",
            workdir=cwd or WORKSPACE, environment={**BASE_ENV, **env},
        )["Id"]

    async def _kill_all(self) -> None:
        """Kill every process of the agent in the container; its init (pid 1) stays.

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
            raise SandboxError(f"docker sandbox {self.id} is gone: {exc}") from exc

    def _kill_from_host(self) -> bool:
        """Freeze, SIGKILL every process but init by host pid, thaw. False if the engine is remote."""
        if os.environ.get("DOCKER_HOST", "unix://").split("://")[0] not in ("unix", ""):
            return False
        init_pid = self.api.inspect_container(self.container.id)["State"]["Pid"]
        self.api.pause(self.container.id)
        try:
            top = self.api.top(self.container.id, ps_args="-eo pid")
            for row in top.get("Processes") or []:
                pid = int(row[0])
                if pid != init_pid:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, 9)
        finally:
            self.api.unpause(self.container.id)
        return True

    async def fork(self) -> DockerSandbox:
        self._check_open()
        async with self._lock:
            await self._kill_all()
            child_id = new_id()
            child_dir = await _make_dir(child_id)
            child_fs = container = None
            try:
                child_fs = await self.fs.fork(child_dir, self.limits.disk_mb, mount_child=False)
                container = await asyncio.to_thread(_start_container, self.container.client, self.image,
                                                    child_id, child_fs, self.limits, self.network)
                await child_fs.mount()
            except BaseException:
                await _discard(container, child_fs, child_dir)
                raise
            return DockerSandbox(child_id, self.limits, self.network, self.image, child_fs, container)

    async def snapshot(self) -> SnapshotRef:
        self._check_open()
        async with self._lock:
            await self._kill_all()
            ref = SnapshotRef(self.id, new_id())
            self._saved[ref.id] = await self.fs.save()
            return ref

    async def restore(self, ref: SnapshotRef) -> None:
        self._check_open()
        saved = self._saved.get(ref.id) if ref.sandbox_id == self.id else None
        if saved is None:
            raise UserInputError(f"snapshot {ref.id} was not taken from sandbox {self.id}")
        async with self._lock:
            await self._kill_all()
            await self.fs.restore(saved)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        async with self._lock:
            try:
                await asyncio.to_thread(self.container.remove, force=True)
            except Exception:
                pass  # already gone; cleanup removes anything labelled that is left
            for saved in self._saved.values():
                await self.fs.drop(saved)
            await self.fs.close()
            await _remove_dir(self.fs.dir)


def _start_container(docker_client, image: str, sandbox_id: str, fs: WorkspaceFS, limits: Limits, network: bool):
    from docker.types import Mount, Ulimit

    try:
        return docker_client.containers.run(
            image, ["sleep", "infinity"], detach=True, name=f"agentgym-{sandbox_id}",
            user=f"{AGENT_UID}:{AGENT_UID}", hostname="sandbox", working_dir="/",  # never pin the mount
            network_mode="bridge" if network else "none", cap_drop=["ALL"],
            security_opt=["no-new-privileges"], read_only=True,
            mem_limit=limits.memory_mb << 20, memswap_limit=limits.memory_mb << 20,
            pids_limit=limits.pids, nano_cpus=1_000_000_000,
            ulimits=[Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds + 1),
                     Ulimit(name="fsize", soft=limits.file_size_mb << 20, hard=limits.file_size_mb << 20),
                     Ulimit(name="core", soft=0, hard=0)],
            mounts=[Mount(WORKSPACE, str(fs.dir / "share"), type="bind", propagation="rslave"),
                    Mount("/tmp", str(fs.tmp), type="bind")],
            labels={LABEL: "1", f"{LABEL}.sandbox": sandbox_id, f"{LABEL}.owner": f"{socket.gethostname()}:{os.getpid()}"},
        )
    except Exception as exc:
        if "No such image" in str(exc) or "not found" in str(exc).lower():
            raise UserInputError(f"docker image {image!r} not found; scripts/setup_sandbox.sh builds {DEFAULT_IMAGE}") from exc
        raise SandboxError(f"could not start a container: {exc}") from exc


def _check_image(docker_client, image: str) -> None:
    """Images are built or pulled at set-up time; a sandbox never pulls one."""
    import docker.errors

    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound as exc:
        raise UserInputError(f"docker image {image!r} not found; scripts/setup_sandbox.sh builds {DEFAULT_IMAGE}") from exc
    except Exception as exc:
        raise SandboxError(f"the Docker engine failed: {exc}") from exc


def _pump(sock, stdin: bytes | None, out: CappedBuffer, err: CappedBuffer) -> None:
    """Send stdin, then read Docker's multiplexed stream (8-byte headers) until it ends."""
    if stdin is not None:
        sock.sendall(stdin)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    buf = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8:
            kind, size = struct.unpack(">BxxxL", buf[:8])
            if len(buf) < 8 + size:
                break
            (err if kind == 2 else out).feed(buf[8:8 + size])
            buf = buf[8 + size:]
    sock.close()


async def _make_dir(sandbox_id: str) -> Path:
    """The sandbox directory with `share/`, a shared mount point the overlay is stacked on."""
    d = runtime_root() / f"sbx-{sandbox_id}"
    share = d / "share"
    share.mkdir(parents=True)
    (d / "owner").write_text(str(os.getpid()))
    await run("mount", "--bind", str(share), str(share))
    await run("mount", "--make-private", str(share))
    await run("mount", "--make-shared", str(share))
    return d


async def _remove_dir(d: Path) -> None:
    share = str(d / "share")
    for _ in range(4):  # the self-bind, and anything stacked on it (ismount misses self-binds)
        with open("/proc/self/mounts") as f:
            if not any(line.split()[1] == share for line in f):
                break
        await run("umount", "-l", share)
    shutil.rmtree(d, ignore_errors=True)


async def _discard(container, fs: WorkspaceFS | None, directory: Path) -> None:
    """Undo a half-made sandbox: nothing of a failed create or fork may be left behind."""
    if container is not None:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(container.remove, force=True)
    if fs is not None:
        with contextlib.suppress(Exception):
            await fs.close()
    await _remove_dir(directory)
