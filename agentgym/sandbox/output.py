"""Reading a process's output with a cap: keep the head and the tail, drop the middle."""

from __future__ import annotations

import asyncio


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


async def drain(stream: asyncio.StreamReader | None, buffer: CappedBuffer) -> None:
    """Read `stream` to its end into `buffer` (never holding more than the cap in memory)."""
    if stream is None:
        return
    while chunk := await stream.read(65536):
        buffer.feed(chunk)
