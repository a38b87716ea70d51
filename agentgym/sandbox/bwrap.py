"""The bwrap backend: every command runs in a fresh bubblewrap sandbox over the same files.

Each exec starts `bwrap` with all namespaces unshared (user, pid, net, ipc, uts, cgroup), the
image read-only, the workspace and a private /tmp read-write, an empty environment, no
capabilities, as uid 1000. State between commands lives only in files, so an idle sandbox
costs no process at all, and when a command ends its pid namespace ends with it: nothing
it started keeps running. Memory, process count and the disk quota are per sandbox (a
cgroup and a tmpfs); CPU time and file size are per process (rlimits).

bwrap's own process is pid 1 inside, readable by the agent, so it carries nothing of the host:
it starts with an empty environment in `/`, takes its options from a pipe (`--args`), not
its command line, and gets /etc files from pipes, not host paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from dataclasses import replace
from pathlib import Path

from agentgym.core.errors import SandboxError, UserInputError
from agentgym.sandbox import cgroups, mounts
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
from agentgym.sandbox.kills import as_agent_result, interrupted, killed_from_outside, limit_kill
from agentgym.sandbox.layers import mount_overlay, new_id, overlay_works, sandbox_root
from agentgym.sandbox.process import RawResult, rlimit_setter, run_process
from agentgym.sandbox.reads import WHOLE_OUTPUT_LIMIT, OutputTooLargeError
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

    def __init__(self, sandbox_id: str, limits: Limits, network: bool, image: RootImage, fs: WorkspaceFS,
                 view: RootImage | None = None):
        super().__init__(sandbox_id, limits, network)
        self.image, self.fs, self.dir = image, fs, fs.dir
        self.view = view or image  # what bwrap binds: the image, or a mount of it (_view_of)
        self.cgroup = cgroups.SandboxCgroup(sandbox_id, limits.memory_mb << 20, limits.pids)
        self._etc = {f"/etc/{name}": text.encode() for name, text in _ETC.items()
                     if image.root == Path("/") or (image.root / "etc" / name).exists()}
        self._running: dict[int, bool] = {}  # exec -> killed by a fork/snapshot/restore/close
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
            view = await _view_of(root_image, sandbox_dir)
            fs = await WorkspaceFS.create(sandbox_dir, source, limits.disk_mb, owner=0)
        except BaseException:
            await _remove_dir(sandbox_dir)
            raise
        return cls(sandbox_id, limits, network, root_image, fs, view)

    # --- exec ----------------------------------------------------------------------------------

    async def _exec(self, cmd: Command, timeout: float, cwd: str | None, env: dict[str, str],
                    stdin: bytes | None, capped: bool = True,
                    max_output: int = WHOLE_OUTPUT_LIMIT) -> ExecResult:
        self._check_open()
        if any("\0" in text for text in (cwd or "", *env, *env.values())):  # would add a bwrap option
            raise UserInputError("exec: a NUL byte in the environment or working directory")
        async with self._lock:  # only waits while a fork/restore is remounting
            pass
        if not self.fs.alive():
            raise SandboxError(f"sandbox {self.id} lost its files (was `agentgym cleanup` run?)")
        groups = self.cgroup.new_exec_group()
        oom_mark = self.cgroup.oom_mark()
        status_r, status_w = os.pipe()
        args, fds = self._options(cwd, env, status_w)
        argv = [bwrap_path() or "bwrap", "--args", str(args), "--", *to_argv(cmd, self.image.shell)]
        self._idle.clear()
        key = id(groups)
        self._running[key] = False
        try:
            raw = await run_process(argv, timeout, stdin, self.limits.output_bytes, self._preexec(groups),
                                    (status_w, *fds), None if capped else min(max_output, WHOLE_OUTPUT_LIMIT), {})
        finally:
            for fd in (status_w, *fds):
                os.close(fd)
            status = _read_all(status_r)
            oom_kills = self.cgroup.oom_kills_since(oom_mark, groups)
            for g in groups:
                cgroups.remove_tree(g)
            killed_by_us = self._running.pop(key)
            if not self._running:
                self._idle.set()
        return self._judge(raw, status, oom_kills, killed_by_us, capped)

    def _judge(self, raw: RawResult, status: str, oom_kills: int, killed_by_us: bool,
               capped: bool) -> ExecResult:
        """The agent's result, or SandboxError when the command ended by our doing (kills.py)."""
        if killed_by_us or self.closed:
            raise interrupted(self.id)
        if raw.overflowed:
            raise OutputTooLargeError(f"the command printed more than {raw.stdout.limit} bytes")
        if not self.fs.alive():
            raise SandboxError(f"sandbox {self.id} lost its files while a command ran")
        why = limit_kill(raw.exit_code, oom_kills, self.limits)
        if raw.exit_code < 0 and not raw.timed_out and why is None:
            raise killed_from_outside(self.id, f"bwrap got signal {-raw.exit_code}")
        if '"child-pid"' not in status and not raw.timed_out and why is None:
            raise SandboxError(f"bwrap could not start the sandbox: {raw.stderr.text().strip()}")
        stdout = raw.stdout.raw().decode("latin-1") if not capped else raw.stdout.text()
        result = ExecResult(raw.exit_code, stdout, raw.stderr.text(), raw.timed_out,
                            raw.stdout.truncated or raw.stderr.truncated, raw.duration_s)
        return as_agent_result(result, why)

    def _options(self, cwd: str | None, env: dict[str, str], status_fd: int) -> tuple[int, list[int]]:
        """bwrap's options in a memfd (read with `--args`) and memfds holding our /etc files."""
        args = ["--unshare-all", "--unshare-user", "--uid", str(AGENT_UID), "--gid", str(AGENT_UID),
                "--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                "--json-status-fd", str(status_fd), "--clearenv"]
        if self.network:
            args.append("--share-net")
        for key, value in {**BASE_ENV, **env}.items():
            args += ["--setenv", key, value]
        args += self.view.bwrap_args(self.network)
        args += ["--proc", "/proc", "--dev", "/dev", "--bind", str(self.fs.tmp), "/tmp",
                 "--bind", str(self.fs.merged), WORKSPACE]
        fds = []
        for dest, data in self._etc.items():
            fds.append(_data_fd(data))
            args += ["--ro-bind-data", str(fds[-1]), dest]
        args += ["--remount-ro", "/", "--chdir", cwd or WORKSPACE]
        fds.append(_data_fd(b"".join(a.encode() + b"\0" for a in args)))
        return fds[-1], fds

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
        for key in self._running:
            self._running[key] = True
        for d in self.cgroup.dirs:
            for child in list(d.glob("e*")):
                cgroups.kill_all(child)
        if not self._idle.is_set():  # wait_for makes a task: only when something runs
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._idle.wait(), 10)

    async def fork(self) -> BwrapSandbox:
        self._check_open()
        async with self._lock:
            await self._quiesce()
            child_id = new_id()
            child_dir = _make_dir(child_id)
            try:
                view = await _view_of(self.image, child_dir)
                child_fs = await self.fs.fork(child_dir, self.limits.disk_mb)
            except BaseException:
                await _remove_dir(child_dir)
                raise
            return BwrapSandbox(child_id, self.limits, self.network, self.image, child_fs, view)

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
            await _remove_dir(self.dir)


def _make_dir(sandbox_id: str) -> Path:
    d = sandbox_root() / f"sbx-{sandbox_id}"
    d.mkdir()
    (d / "owner").write_text(str(os.getpid()))
    return d


async def _view_of(image: RootImage, sandbox_dir: Path) -> RootImage:
    """A cached image (not the host's /usr) seen through a read-only overlay of its own, so the
    sandbox's mount table says "/usr", not the host path the image lives at."""
    if image.root == Path("/") or not overlay_works():
        return image
    empty, view = sandbox_dir / "image-top", sandbox_dir / "image"
    empty.mkdir()
    view.mkdir()
    await mount_overlay([empty, image.root], None, None, view)
    return replace(image, root=view)


async def _remove_dir(sandbox_dir: Path) -> None:
    view = sandbox_dir / "image"
    if os.path.ismount(view):
        await mounts.unmount(view, lazy=True)
    if not os.path.ismount(view):  # never delete through a mount
        shutil.rmtree(sandbox_dir, ignore_errors=True)


def _data_fd(data: bytes) -> int:
    """An anonymous in-memory file holding `data`, at offset 0 (bwrap reads it to the end)."""
    fd = os.memfd_create("agentgym", os.MFD_CLOEXEC)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _read_all(fd: int) -> str:
    os.set_blocking(fd, False)
    chunks = []
    with contextlib.suppress(BlockingIOError, OSError):
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")
