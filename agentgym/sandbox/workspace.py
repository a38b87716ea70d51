"""One sandbox's writable files: the workspace (overlay over shared layers, or a plain copy) and /tmp.

Both live on the sandbox's tmpfs volume, whose size is the disk quota. Forks, snapshots and
restores change only which layers are stacked; see `layers.py` for the layout on disk.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from pathlib import Path

from agentgym.core.errors import SandboxError
from agentgym.sandbox import mounts
from agentgym.sandbox.layers import (
    SQUASH_DEPTH,
    Layer,
    Stack,
    Volume,
    copy_tree,
    copy_tree_soon,
    is_empty,
    layer_on,
    mount_overlay,
    overlay_works,
    run,
    runtime_root,
    squash,
)

_n = itertools.count(1)


class SavedState:
    """What a snapshot keeps: the frozen layers (or a copy) and a copy of /tmp."""

    def __init__(self, stack: Stack | None, copy: Path | None, tmp: Path):
        self.stack, self.copy, self.tmp = stack, copy, tmp


class WorkspaceFS:
    """Files of one sandbox. `merged` is bound at /workspace and `tmp` at /tmp."""

    def __init__(self, sandbox_dir: Path, volume: Volume, stack: Stack, owner: int):
        self.dir, self.volume, self.stack, self.owner = sandbox_dir, volume, stack, owner
        self.overlay = overlay_works()
        volume.incref()
        n = next(_n)
        self.upper, self.work = volume.path / f"up-{n}", volume.path / f"wk-{n}"
        self.tmp = volume.path / f"tmp-{n}"
        # docker binds `share/` (a shared mount point) so remounts reach the running container
        share = sandbox_dir / "share"
        self.merged = share if share.is_dir() else sandbox_dir / "ws" if self.overlay else volume.path / f"ws-{n}"
        self.tmp.mkdir(mode=0o1777)
        os.chmod(self.tmp, 0o1777)
        self.mounted = False

    @classmethod
    async def create(cls, sandbox_dir: Path, source: Path | None, disk_mb: int, owner: int,
                     mount: bool = True) -> WorkspaceFS:
        """A workspace starting as a copy of `source` (which is never modified)."""
        volume = await Volume.create(disk_mb)
        stack = Stack([await _base_layer(source, owner)])
        stack.hold()
        fs = cls(sandbox_dir, volume, stack, owner)
        if not fs.overlay:  # copy fallback: the workspace is a plain directory on the volume
            await asyncio.to_thread(copy_tree, stack.layers[0].path, fs.merged)
        if mount:
            await fs.mount()
        return fs

    async def mount(self) -> None:
        if self.mounted:
            return
        if self.overlay:
            for d in (self.upper, self.work, self.merged):
                d.mkdir(exist_ok=True)
            os.chown(self.upper, self.owner, self.owner)
            await mount_overlay([layer.path for layer in self.stack.layers], self.upper, self.work,
                                 self.merged)
        else:
            self.merged.mkdir(exist_ok=True)
            os.chown(self.merged, self.owner, self.owner)
        self.mounted = True

    async def unmount(self) -> None:
        if self.mounted and self.overlay and os.path.ismount(self.merged):
            await mounts.unmount(self.merged)
        self.mounted = False

    def alive(self) -> bool:
        return (os.path.ismount(self.merged) if self.overlay else self.merged.is_dir()) and self.tmp.is_dir()

    async def _freeze(self) -> None:
        """Turn the live upper into a layer (when it has anything) and start a fresh one."""
        if not self.upper.exists() or is_empty(self.upper):
            return
        layer = layer_on(self.volume, self.upper)
        layer.incref()
        self.stack.layers.insert(0, layer)
        shutil.rmtree(self.work, ignore_errors=True)
        if len(self.stack.layers) > SQUASH_DEPTH:
            await self._squash()

    async def _squash(self) -> None:
        top, base = self.stack.layers[:-1], self.stack.layers[-1]
        dest = self.volume.path / "layers" / f"sq{next(_n)}"
        await asyncio.to_thread(squash, top, dest)
        self.volume.incref()
        merged = Layer(dest, self.volume, refs=1)
        for layer in top:
            await layer.decref()
        self.stack.layers = [merged, base]

    async def fork(self, child_dir: Path, disk_mb: int, mount_child: bool = True) -> WorkspaceFS:
        """A child with the same files. O(1) in the workspace size with overlay; a copy without."""
        volume = await Volume.create(disk_mb)
        if self.overlay:
            await self.unmount()
            await self._freeze()
            child_stack = Stack(list(self.stack.layers))
            child_stack.hold()
            child = WorkspaceFS(child_dir, volume, child_stack, self.owner)
            await self.mount()
        else:
            child = WorkspaceFS(child_dir, volume, Stack([]), self.owner)
            await asyncio.to_thread(copy_tree, self.merged, child.merged)
        await copy_tree_soon(self.tmp, child.tmp)
        if mount_child:
            await child.mount()
        return child

    async def save(self) -> SavedState:
        tmp_copy = self.volume.path / f"snap-tmp-{next(_n)}"
        await copy_tree_soon(self.tmp, tmp_copy)
        if not self.overlay:
            copy = self.volume.path / f"snap-ws-{next(_n)}"
            await asyncio.to_thread(copy_tree, self.merged, copy)
            return SavedState(None, copy, tmp_copy)
        await self.unmount()
        await self._freeze()
        await self.mount()
        saved = Stack(list(self.stack.layers))
        saved.hold()
        return SavedState(saved, None, tmp_copy)

    async def restore(self, saved: SavedState) -> None:
        """Throw away changes since `saved` (cost grows with those changes, not the workspace)."""
        await self.unmount()
        if saved.stack is not None:
            await asyncio.to_thread(shutil.rmtree, self.upper, True)
            await asyncio.to_thread(shutil.rmtree, self.work, True)
            new = Stack(list(saved.stack.layers))
            new.hold()
            await self.stack.release()
            self.stack = new
        else:
            await asyncio.to_thread(_replace, saved.copy, self.merged)
        await asyncio.to_thread(_replace, saved.tmp, self.tmp)
        await self.mount()

    async def drop(self, saved: SavedState) -> None:
        if saved.stack is not None:
            await saved.stack.release()
        for p in (saved.copy, saved.tmp):
            if p is not None:
                shutil.rmtree(p, ignore_errors=True)

    async def close(self) -> None:
        await self.unmount()
        await self.stack.release()
        if not self.volume.last_holder():  # layers others use stay on it: delete only ours
            mine = [self.upper, self.work, self.tmp]
            if not self.overlay and self.merged.parent == self.volume.path:
                mine.append(self.merged)
            await asyncio.to_thread(_remove_all, mine)
        await self.volume.decref()


async def _base_layer(source: Path | None, owner: int) -> Layer:
    """The caller's workspace used in place, or (for a non-root owner) a copy owned by them."""
    if source is not None and not source.is_dir():
        raise SandboxError(f"workspace {source} is not a directory")
    if source is not None and owner == 0:
        return Layer(source.resolve())
    base = Volume(runtime_root() / f"base-{os.urandom(5).hex()}")  # on disk: not in the quota
    base.path.mkdir()
    (base.path / "owner").write_text(str(os.getpid()))
    dest = base.path / "layer"
    if source is not None:
        await asyncio.to_thread(copy_tree, source, dest)
        await run("chown", "-R", f"{owner}:{owner}", str(dest))
    else:
        dest.mkdir()
        os.chown(dest, owner, owner)
    base.incref()
    return Layer(dest, base)


def _remove_all(paths: list[Path]) -> None:
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)


def _replace(src: Path, dst: Path) -> None:
    """Make `dst` a copy of `src`, keeping `dst` itself (it may be bind-mounted somewhere)."""
    dst.mkdir(exist_ok=True)
    for child in list(dst.iterdir()):
        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    copy_tree(src, dst)
    os.chmod(dst, os.stat(src).st_mode)
