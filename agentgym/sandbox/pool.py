"""A warm pool: sandboxes made ahead of time, so that acquiring one costs almost nothing.

`release` puts a sandbox back after restoring it to its starting snapshot (cost grows with
what the episode changed, not with the workspace); the pool refills in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from agentgym.core.errors import UserInputError
from agentgym.sandbox.base import Limits, Sandbox, SnapshotRef
from agentgym.sandbox.factory import create


class WarmPool:
    """Keeps `size` ready sandboxes of one kind (backend, image, workspace, limits, network)."""

    def __init__(self, size: int = 4, backend: str = "bwrap", image: str | None = None,
                 workspace: str | os.PathLike | None = None, limits: Limits | None = None,
                 network: bool = False):
        if size < 1:
            raise UserInputError(f"pool size must be >= 1, got {size}")
        self.size = size
        self._spec = dict(backend=backend, image=image, workspace=workspace, limits=limits, network=network)
        self._ready: asyncio.Queue[tuple[Sandbox, SnapshotRef]] = asyncio.Queue()
        self._out: dict[int, SnapshotRef] = {}
        self._filling: asyncio.Task | None = None
        self.closed = False

    async def __aenter__(self) -> WarmPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Fill the pool and wait until it is full."""
        await self._fill()

    async def _make(self) -> tuple[Sandbox, SnapshotRef]:
        sandbox = await create(**self._spec)
        try:
            return sandbox, await sandbox.snapshot()
        except BaseException:
            await sandbox.close()
            raise

    async def _fill(self) -> None:
        while not self.closed and self._ready.qsize() + len(self._out) < self.size:
            self._ready.put_nowait(await self._make())

    def _refill_soon(self) -> None:
        if self._filling is None or self._filling.done():
            self._filling = asyncio.create_task(self._fill())

    async def acquire(self) -> Sandbox:
        """A ready sandbox (made on the spot if the pool is empty)."""
        if self.closed:
            raise UserInputError("the pool is closed")
        try:
            sandbox, ref = self._ready.get_nowait()
        except asyncio.QueueEmpty:
            sandbox, ref = await self._make()
        self._out[id(sandbox)] = ref
        self._refill_soon()
        return sandbox

    async def release(self, sandbox: Sandbox) -> None:
        """Reset `sandbox` to how it was acquired and keep it for the next acquire."""
        ref = self._out.pop(id(sandbox), None)
        if ref is None:
            raise UserInputError("release: this sandbox did not come from this pool")
        if self.closed or sandbox.closed or self._ready.qsize() >= self.size:
            await sandbox.close()
            return
        try:
            await sandbox.restore(ref)
        except Exception:
            await sandbox.close()  # a broken sandbox is dropped; the pool makes a new one
            self._refill_soon()
            return
        self._ready.put_nowait((sandbox, ref))

    async def close(self) -> None:
        self.closed = True
        if self._filling is not None:
            self._filling.cancel()
            with contextlib.suppress(BaseException):
                await self._filling
        while not self._ready.empty():
            sandbox, _ = self._ready.get_nowait()
            await sandbox.close()
