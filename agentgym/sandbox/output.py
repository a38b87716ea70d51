"""Reading a process's output with a cap: keep the head and the tail, or all of it up to a limit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class CappedBuffer:
    """Collects bytes up to `cap`; past that it keeps the first and last `cap/2` bytes."""

    def __init__(self, cap: int):
        self.cap = cap
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.cap // 2 - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            keep = self.cap - self.cap // 2
            if len(self.tail) > keep:
                del self.tail[: len(self.tail) - keep]

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    def raw(self) -> bytes:
        return bytes(self.head) + bytes(self.tail)

    def text(self) -> str:
        if not self.truncated:
            return (bytes(self.head) + bytes(self.tail)).decode("utf-8", errors="replace")
        dropped = self.total - len(self.head) - len(self.tail)
        marker = f"\n[... {dropped} bytes of output truncated ...]\n".encode()
        return (bytes(self.head) + marker + bytes(self.tail)).decode("utf-8", errors="replace")


class WholeBuffer:
    """Keeps every byte up to `limit`; one byte more and it keeps nothing further, marks itself
    `overflowed` and calls `on_full` once (the caller kills the writer: the host never grows)."""

    def __init__(self, limit: int, on_full: Callable[[], None] | None = None):
        self.limit = limit
        self.data = bytearray()
        self.total = 0
        self.overflowed = False
        self.on_full = on_full

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.overflowed:
            return
        if len(self.data) + len(chunk) > self.limit:
            self.overflowed = True
            if self.on_full is not None:
                self.on_full()
            return
        self.data += chunk

    @property
    def truncated(self) -> bool:
        return self.overflowed

    def raw(self) -> bytes:
        return bytes(self.data)

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


async def drain(stream: asyncio.StreamReader | None, buffer: CappedBuffer | WholeBuffer) -> None:
    """Read `stream` to its end into `buffer` (never holding more than its cap in memory)."""
    if stream is None:
        return
    while chunk := await stream.read(65536):
        buffer.feed(chunk)
