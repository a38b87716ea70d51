"""Resources shared across episodes on one event loop (a browser, a pool) and how to release them.

A family registers an async closer the first time it creates such a resource; whoever owns the
loop (the CLI, `evaluate`) calls `release_shared()` before the loop ends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

_closers: list[Callable[[], Awaitable[None]]] = []


def on_release(closer: Callable[[], Awaitable[None]]) -> None:
    """Register `closer` (idempotent per function) to run at `release_shared()`."""
    if closer not in _closers:
        _closers.append(closer)


async def release_shared() -> None:
    """Close every shared resource of the running loop; one failure does not stop the others."""
    errors = []
    for closer in list(_closers):
        try:
            await closer()
        except Exception as e:  # keep closing the rest; report after
            errors.append(e)
    if errors:
        raise errors[0]
