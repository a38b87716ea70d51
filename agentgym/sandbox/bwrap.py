"""The bwrap backend: every command runs in a fresh bubblewrap sandbox over the same files.

Each exec starts `bwrap` with all namespaces unshared (user, pid, net, ipc, uts, cgroup), the
image read-only, the workspace and a private /tmp read-write, an empty environment, no
capabilities, as uid 1000. State between commands lives only in files, so an idle sandbox
costs no process at all, and when a command ends its pid namespace ends with it: nothing
it started keeps running. Memory, process count and the disk quota are per sandbox (a
cgroup and a tmpfs); CPU time and file size are per process (rlimits).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path

from agentgym.core.errors import SandboxError, UserInputError
from agentgym.sandbox import cgroups
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
from agentgym.sandbox.images import RootImage, resolve
from agentgym.sandbox.layers import new_id, runtime_root
from agentgym.sandbox.process import UNCAPPED, rlimit_setter, run_process
from agentgym.sandbox.workspace import SavedState, WorkspaceFS

_ETC = {
    "passwd": f"agent:x:{AGENT_UID}:{AGENT_UID}:agent:/tmp:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "group": f"agent:x:{AGENT_UID}:\nnogroup:x:65534:\n",
    "hosts": "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost\n",
    "hostname": "sandbox\n",
}


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


class BwrapSandbox(Sandbox):
    backend = "bwrap"

    def __init__(self, sandbox_id: str, limits: Limits, network: bool, image: RootImage, fs: WorkspaceFS):
        super().__init__(sandbox_id, limits, network)
        self.image, self.fs, self.dir = image, fs, fs.dir
        self.cgroup = cgroups.SandboxCgroup(sandbox_id, limits.memory_mb << 20, limits.pids)
        self._etc_args = _write_etc(self.dir / "etc", image)
        self._running: set[int] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._saved: dict[str, SavedState] = {}
        self._lock = asyncio.Lock()  # held by fork/snapshot/restore/close; exec waits for it

    @classmethod
    async def create(cls, image: str | None, workspace: str | os.PathLike | None, limits: Limits, network: bool) -> BwrapSandbox:
        if bwrap_path() is None:
            raise SandboxError("bubblewrap (bwrap) is not installed; run scripts/setup_sandbox.sh")
        root_image = resolve(image)
        source = Path(workspace) if workspace is not None else None
        if source is not None and not source.is_dir():
            raise UserInputError(f"workspace {source} is not a directory")
        sandbox_id = new_id()
        sandbox_dir = _make_dir(sandbox_id)
        try:
            fs = await WorkspaceFS.create(sandbox_dir, source, limits.disk_mb, owner=0)
        except BaseException:
            shutil.rmtree(sandbox_dir, ignore_errors=True)
            raise
        return cls(sandbox_id, limits, network, root_image, fs)

    # --- exec ----------------------------------------------------------------------------------

    async def _exec(self, cmd: Command, timeout: float, cwd: str | None, env: dict[str, str],
                    stdin: bytes | None, capped: bool = True) -> ExecResult:
        self._check_open()
        async with self._lock:  # only waits while a fork/restore is remounting
            pass
        if not self.fs.alive():
            raise SandboxError(f"sandbox {self.id} lost its files (was `agentgym cleanup` run?)")
        groups = self.cgroup.new_exec_group()
        status_r, status_w = os.pipe()
        argv = self._argv(to_argv(cmd, self.image.shell), cwd, env, status_w)
        preexec = self._preexec(groups)
        self._idle.clear()
        key = id(groups)
        self._running.add(key)
        try:
            raw = await run_process(argv, timeout, stdin, self.limits.output_bytes if capped else UNCAPPED,
                                    preexec, (status_w,))
        finally:
            os.close(status_w)
            status = _read_all(status_r)
            for g in groups:
                cgroups.remove_tree(g)
            self._running.discard(key)
            if not self._running:
                self._idle.set()
        if '"child-pid"' not in status and not raw.timed_out:
            raise SandboxError(f"bwrap could not start the sandbox: {raw.stderr.text().strip()}")
        stdout = raw.stdout.raw().decode("latin-1") if not capped else raw.stdout.text()
        return ExecResult(raw.exit_code, stdout, raw.stderr.text(), raw.timed_out,
                          raw.stdout.truncated or raw.stderr.truncated, raw.duration_s)

    def _argv(self, command: list[str], cwd: str | None, env: dict[str, str], status_fd: int) -> list[str]:
        args = [bwrap_path() or "bwrap", "--unshare-all", "--unshare-user", "--uid", str(AGENT_UID),
                "--gid", str(AGENT_UID), "--hostname", "sandbox", "--die-with-parent", "--new-session",
                "--cap-drop", "ALL", "--json-status-fd", str(status_fd), "--clearenv"]
        if self.network:
            args.append("--share-net")
        for key, value in {**BASE_ENV, **env}.items():
            args += ["--setenv", key, value]
        args += self.image.bwrap_args(self.network)
        args += ["--proc", "/proc", "--dev", "/dev", "--bind", str(self.fs.tmp), "/tmp",
                 "--bind", str(self.fs.merged), WORKSPACE, *self._etc_args,
                 "--remount-ro", "/", "--chdir", cwd or WORKSPACE, "--", *command]
        return args

    def _preexec(self, groups: list[Path]):
        lim = self.limits
        no_cgroup = not self.cgroup.available
        set_limits = rlimit_setter(lim.cpu_seconds, lim.file_size_mb << 20,
                                   lim.pids if no_cgroup else None,
                                   (lim.memory_mb << 20) if no_cgroup else None)

        def enter() -> None:
            cgroups.join(groups)
            set_limits()

        return enter

    # --- state ---------------------------------------------------------------------------------

    async def _quiesce(self) -> None:
        """Kill every running command of this sandbox (processes never survive fork/restore)."""
        for d in self.cgroup.dirs:
            for child in list(d.glob("e*")):
                cgroups.kill_all(child)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), 10)

    async def fork(self) -> BwrapSandbox:
        self._check_open()
        async with self._lock:
            await self._quiesce()
            child_id = new_id()
            child_dir = _make_dir(child_id)
            try:
                child_fs = await self.fs.fork(child_dir, self.limits.disk_mb)
            except BaseException:
                shutil.rmtree(child_dir, ignore_errors=True)
                raise
            return BwrapSandbox(child_id, self.limits, self.network, self.image, child_fs)

    async def snapshot(self) -> SnapshotRef:
        self._check_open()
        async with self._lock:
            await self._quiesce()
            ref = SnapshotRef(self.id, new_id())
            self._saved[ref.id] = await self.fs.save()
            return ref

    async def restore(self, ref: SnapshotRef) -> None:
        self._check_open()
        saved = self._saved.get(ref.id) if ref.sandbox_id == self.id else None
        if saved is None:
            raise UserInputError(f"snapshot {ref.id} was not taken from sandbox {self.id}")
        async with self._lock:
            await self._quiesce()
            await self.fs.restore(saved)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        async with self._lock:
            await self._quiesce()
            self.cgroup.close()
            for saved in self._saved.values():
                await self.fs.drop(saved)
            self._saved.clear()
            await self.fs.close()
            shutil.rmtree(self.dir, ignore_errors=True)


def _make_dir(sandbox_id: str) -> Path:
    d = runtime_root() / f"sbx-{sandbox_id}"
    d.mkdir()
    (d / "owner").write_text(str(os.getpid()))
    return d


def _write_etc(etc: Path, image: RootImage) -> list[str]:
    """Our own passwd/group/hosts so the sandbox never sees the host's accounts."""
    etc.mkdir(exist_ok=True)
    args: list[str] = []
    for name, text in _ETC.items():
        (etc / name).write_text(text)
        if image.root == Path("/") or (image.root / "etc" / name).exists():
            args += ["--ro-bind", str(etc / name), f"/etc/{name}"]
    return args


def _read_all(fd: int) -> str:
    os.set_blocking(fd, False)
    chunks = []
    with contextlib.suppress(BlockingIOError, OSError):
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")
