"""Workspace storage: overlayfs layers on per-sandbox tmpfs volumes, or plain copies.

Layout under `sandbox_root()` (all names start with the labels `cleanup` looks for):

    vol-<id>/              a tmpfs of `disk_mb` (the disk quota), mounted once per volume
        layers/<n>/        frozen layers (read-only lowers of one or more sandboxes)
        up-<n>/ wk-<n>/    the live upper and work directories of the sandbox that owns it
        tmp-<n>/           that sandbox's /tmp (copied on fork; usually small)
    sbx-<id>/ws            the merged workspace that is bound at /workspace
    sbx-<id>/owner         pid of the process that owns it (cleanup skips live owners)

and under `runtime_root()` itself (on disk): base-<id>/layer, a workspace copied for a
non-root owner. `sandbox_root()` stays mounted once made (it holds only directories and
owner files).

A fork unmounts the parent, renames its upper into `layers/` (O(1)), and mounts the parent
and the child again on fresh uppers over the same lowers: its cost does not grow with the
workspace. Layers are reference-counted within this process and deleted when unused.
"""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import os
import secrets
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from agentgym.core.errors import SandboxError
from agentgym.sandbox import mounts, treecopy

SQUASH_DEPTH = 32  # overlay gets slower with depth and the kernel stops at ~500 lowers
_counter = itertools.count(1)


def runtime_root() -> Path:
    root = Path(os.environ.get("AGENTGYM_RUNTIME") or Path(tempfile.gettempdir()) / f"agentgym-{os.geteuid()}")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


_fast_roots: set[Path] = set()
_fast_failed: set[Path] = set()


def sandbox_root() -> Path:
    """Where sandbox, volume and probe directories go: `runtime_root()/fast`, a small tmpfs
    mounted once per machine (under a lock: other processes share it), when we can mount.

    Those directories hold only mount points and owner files; on a disk, making and removing
    them waits on the journal when the machine is busy (a fork plus close measured 16-21 ms
    with them on ext4, 5-7.5 ms on tmpfs). Base copies of workspaces stay on the disk."""
    root = runtime_root()
    fast = root / "fast"
    if fast in _fast_roots:
        return fast
    if not can_mount() or root in _fast_failed:
        return root
    fast.mkdir(mode=0o700, exist_ok=True)
    with open(root / "fast.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.ismount(fast) and not mounts.mount_sync("tmpfs", fast, "size=64m,mode=0700"):
            _fast_failed.add(root)  # not again for every sandbox
            return root
    _fast_roots.add(fast)
    return fast


def new_id() -> str:
    return secrets.token_hex(5)


async def run(*argv: str, cwd: Path | None = None, pass_fds: tuple[int, ...] = ()) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=pass_fds
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise SandboxError(f"{' '.join(argv)} failed: {err.decode(errors='replace').strip()}")


async def mount_overlay(lowers: list[Path], upper: Path | None, work: Path | None, target: Path) -> None:
    """Mount an overlay (read-only without `upper`) that names its directories /proc/self/fd/N,
    never by path: its options show in a sandbox's /proc/self/mountinfo, and paths would name
    host directories."""
    dirs = [*lowers, *([upper, work] if upper is not None and work is not None else [])]
    fds = [os.open(d, os.O_RDONLY | os.O_DIRECTORY) for d in dirs]
    try:
        names = [f"/proc/self/fd/{fd}" for fd in fds]
        if upper is not None:
            opts = f"lowerdir={':'.join(names[:-2])},upperdir={names[-2]},workdir={names[-1]}"
        else:
            opts = f"lowerdir={':'.join(names)}"
        await mounts.mount("overlay", target, opts, read_only=upper is None, pass_fds=tuple(fds))
    finally:
        for fd in fds:
            os.close(fd)


def can_mount() -> bool:
    return os.geteuid() == 0


_overlay_ok: bool | None = None


def overlay_works() -> bool:
    """Whether an overlay with an upper on our tmpfs volumes can be mounted here (probed once)."""
    global _overlay_ok
    if _overlay_ok is None:
        _overlay_ok = _probe_overlay()
    return _overlay_ok


def _probe_overlay() -> bool:
    if not can_mount() or os.environ.get("AGENTGYM_NO_OVERLAY"):
        return False
    probe = Path(tempfile.mkdtemp(prefix="probe-", dir=sandbox_root()))
    try:
        if not mounts.mount_sync("tmpfs", probe, "size=1m"):
            return False
        for d in ("l", "u", "w", "m"):
            (probe / d).mkdir()
        ok = mounts.mount_sync("overlay", probe / "m", f"lowerdir={probe}/l,upperdir={probe}/u,workdir={probe}/w")
        if ok:
            mounts.unmount_sync(probe / "m")
        return ok
    finally:
        mounts.unmount_sync(probe, lazy=True)
        shutil.rmtree(probe, ignore_errors=True)


@dataclass(eq=False)
class Volume:
    """A size-limited tmpfs (a plain directory when we cannot mount) holding layers and uppers."""

    path: Path
    refs: int = 0

    @classmethod
    async def create(cls, disk_mb: int) -> Volume:
        path = sandbox_root() / f"vol-{new_id()}"
        path.mkdir()
        if can_mount():
            await mounts.mount("tmpfs", path, f"size={disk_mb}m,mode=0755")
        (path / "layers").mkdir()
        (path / "owner").write_text(str(os.getpid()))
        return cls(path)

    def incref(self) -> None:
        self.refs += 1

    async def decref(self) -> None:
        self.refs -= 1
        if self.refs <= 0:
            if os.path.ismount(self.path):  # the tmpfs goes with everything on it
                await mounts.unmount(self.path, lazy=True)
                shutil.rmtree(self.path, ignore_errors=True)  # the empty mount point
            else:
                await asyncio.to_thread(shutil.rmtree, self.path, True)

    def last_holder(self) -> bool:
        """Whether the next `decref` removes the volume (so deleting what is on it first is waste)."""
        return self.refs <= 1


@dataclass(eq=False)
class Layer:
    """A read-only directory in a stack. `volume` is None for the caller's own workspace."""

    path: Path
    volume: Volume | None = None
    refs: int = 0

    def incref(self) -> None:
        self.refs += 1

    async def decref(self) -> None:
        self.refs -= 1
        if self.refs <= 0 and self.volume is not None:
            if not self.volume.last_holder():
                await asyncio.to_thread(shutil.rmtree, self.path, True)
            await self.volume.decref()


@dataclass(eq=False)
class Stack:
    """Lowers (top first) of a workspace; sharing a Stack is what makes forks and snapshots O(1)."""

    layers: list[Layer] = field(default_factory=list)

    def hold(self) -> None:
        for layer in self.layers:
            layer.incref()

    async def release(self) -> None:
        for layer in self.layers:
            await layer.decref()


def layer_on(volume: Volume, upper: Path) -> Layer:
    """Freeze `upper` (an unmounted upper dir on `volume`) as a new layer."""
    dest = volume.path / "layers" / str(next(_counter))
    upper.rename(dest)
    volume.incref()
    return Layer(dest, volume)


def is_empty(path: Path) -> bool:
    with os.scandir(path) as it:
        return next(it, None) is None


def copy_tree(src: Path, dst: Path) -> None:
    """cp -a (keeps owners, modes, xattrs and overlay whiteouts): in-process for a small tree,
    by a `cp` process for a large one."""
    dst.mkdir(parents=True, exist_ok=True)
    if is_empty(src):
        return
    if treecopy.is_small(src):
        try:
            treecopy.copy_tree(src, dst)
        except OSError as exc:
            raise SandboxError(f"copying {src} failed: {exc}") from exc
        return
    res = subprocess.run(["cp", "-a", "--reflink=auto", f"{src}/.", str(dst)], capture_output=True)
    if res.returncode:
        raise SandboxError(f"copying {src} failed: {res.stderr.decode(errors='replace').strip()}")


async def copy_tree_soon(src: Path, dst: Path) -> None:
    """`copy_tree`, in a thread unless the tree is small (a thread hop would cost more)."""
    if is_empty(src) or treecopy.is_small(src):
        copy_tree(src, dst)
    else:
        await asyncio.to_thread(copy_tree, src, dst)


def squash(layers: list[Layer], dest: Path) -> None:
    """Merge layers (top first) into `dest`, keeping whiteouts so they still hide what is below."""
    dest.mkdir(parents=True, exist_ok=True)
    for layer in reversed(layers):
        root = os.fspath(layer.path)
        _merge_dir(root, os.fspath(dest), {})
        treecopy.copy_meta(root, os.fspath(dest), os.lstat(root))


def _merge_dir(src: str, dst: str, links: treecopy.Links) -> None:
    """Lay directory `src` over `dst`: its entries replace theirs, its directories merge with
    theirs unless opaque (then they replace them too)."""
    with os.scandir(src) as it:
        entries = list(it)
    for entry in entries:
        target = os.path.join(dst, entry.name)
        st = entry.stat(follow_symlinks=False)
        try:
            old = os.lstat(target)
        except FileNotFoundError:
            old = None
        if stat.S_ISDIR(st.st_mode):
            if old is not None and (not stat.S_ISDIR(old.st_mode) or _is_opaque(Path(entry.path))):
                _remove(Path(target))
                old = None
            if old is None:
                os.mkdir(target, 0o700)
            _merge_dir(entry.path, target, links)
            treecopy.copy_meta(entry.path, target, st)
        else:
            if old is not None:
                _remove(Path(target))
            treecopy.copy_node(entry.path, target, st, links)


def _is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
