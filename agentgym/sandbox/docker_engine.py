"""The Docker engine side of the docker backend: client, containers, exec streams, directories."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import struct
from pathlib import Path

from agentgym.core.errors import SandboxError, UserInputError
from agentgym.sandbox import mounts
from agentgym.sandbox.base import WORKSPACE, Limits
from agentgym.sandbox.cgroups import ROOT, oom_kill_count
from agentgym.sandbox.layers import sandbox_root
from agentgym.sandbox.output import CappedBuffer, WholeBuffer
from agentgym.sandbox.workspace import WorkspaceFS

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


def engine_is_local() -> bool:
    return os.environ.get("DOCKER_HOST", "unix://").split("://")[0] in ("unix", "")


def start_container(docker_client, image: str, sandbox_id: str, fs: WorkspaceFS, limits: Limits, network: bool):
    """The container of one sandbox. Its init (Docker's, which reaps the agent's orphans, and
    `sleep infinity`) runs as root with no capabilities, so the agent (uid 1000) can neither
    signal nor trace it: a container that stops was stopped from outside, or by the
    out-of-memory killer."""
    from docker.types import Mount, Ulimit

    try:
        return docker_client.containers.run(
            image, ["sleep", "infinity"], detach=True, name=f"agentgym-{sandbox_id}", init=True,
            user="0:0", hostname="sandbox", working_dir="/",  # "/": never pin the workspace mount
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


def check_image(docker_client, image: str) -> None:
    """Images are built or pulled at set-up time; a sandbox never pulls one."""
    import docker.errors

    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound as exc:
        raise UserInputError(f"docker image {image!r} not found; scripts/setup_sandbox.sh builds {DEFAULT_IMAGE}") from exc
    except Exception as exc:
        raise SandboxError(f"the Docker engine failed: {exc}") from exc


def memory_counter_file(init_pid: int) -> Path | None:
    """The host file holding the container's oom_kill counter (None when it is not readable here)."""
    try:
        lines = Path(f"/proc/{init_pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "memory":
            candidate = ROOT / "memory" / path.lstrip("/") / "memory.oom_control"
        elif controllers == "":
            candidate = ROOT / path.lstrip("/") / "memory.events"
        else:
            continue
        if candidate.exists():
            return candidate
    return None


def read_oom_kills(counter: Path | None) -> int | None:
    return None if counter is None else oom_kill_count(counter.parent)


def pump(sock, stdin: bytes | None, out: CappedBuffer | WholeBuffer, err: CappedBuffer) -> None:
    """Send stdin, then read Docker's multiplexed stream (8-byte headers) to its end (a full `out`
    drops what comes after; the caller kills the command, as closing the stream does not)."""
    try:
        if stdin is not None:
            sock.sendall(stdin)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
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
    finally:
        sock.close()


async def make_dir(sandbox_id: str, disk_mb: int) -> Path:
    """The sandbox directory with `share/`, a shared mount point the overlay is stacked on.

    `share/` is a tmpfs of its own (not a bind of a host directory), so the container's mount
    table names no host path.
    """
    d = sandbox_root() / f"sbx-{sandbox_id}"
    share = d / "share"
    share.mkdir(parents=True)
    (d / "owner").write_text(str(os.getpid()))
    await mounts.mount("tmpfs", share, f"size={disk_mb}m,mode=0755")
    await mounts.make_shared(share)
    return d


async def remove_dir(d: Path) -> None:
    share = str(d / "share")
    for _ in range(4):  # the tmpfs, and anything stacked on it
        with open("/proc/self/mounts") as f:
            if not any(line.split()[1] == share for line in f):
                break
        await mounts.unmount(Path(share), lazy=True)
    shutil.rmtree(d, ignore_errors=True)


async def discard(container, fs: WorkspaceFS | None, directory: Path) -> None:
    """Undo a half-made sandbox: nothing of a failed create or fork may be left behind."""
    if container is not None:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(container.remove, force=True)
    if fs is not None:
        with contextlib.suppress(Exception):
            await fs.close()
    await remove_dir(directory)
