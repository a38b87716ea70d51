"""`create(...)`: one entry point for every backend; await it or use it with `async with`."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any, Literal

from agentgym.core.errors import UserInputError
from agentgym.sandbox.base import Limits, Sandbox

Backend = Literal["bwrap", "docker"]
BACKENDS = ("bwrap", "docker")


class PendingSandbox:
    """`sb = await create(...)` or `async with create(...) as sb:` (closed on exit)."""

    def __init__(self, backend: str, image: str | None, workspace: str | os.PathLike | None,
                 limits: Limits, network: bool):
        self.args = (backend, image, workspace, limits, network)
        self.sandbox: Sandbox | None = None

    async def start(self) -> Sandbox:
        backend, image, workspace, limits, network = self.args
        if backend == "bwrap":
            from agentgym.sandbox.bwrap import BwrapSandbox

            self.sandbox = await BwrapSandbox.create(image, workspace, limits, network)
        else:
            from agentgym.sandbox.docker_backend import DockerSandbox

            self.sandbox = await DockerSandbox.create(image, workspace, limits, network)
        return self.sandbox

    def __await__(self) -> Generator[Any, None, Sandbox]:
        return self.start().__await__()

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        if self.sandbox is not None:
            await self.sandbox.close()


def create(
    backend: Backend = "bwrap",
    image: str | None = None,
    workspace: str | os.PathLike | None = None,
    limits: Limits | dict | None = None,
    network: bool = False,
) -> PendingSandbox:
    """A sandbox on `backend` whose /workspace starts as a copy of `workspace` (never modified).

    `image`: for bwrap "host" (default) or a root filesystem name/path; for docker an image
    tag (default agentgym-base:bookworm). No network unless `network=True`.
    """
    if backend not in BACKENDS:
        raise UserInputError(f"unknown sandbox backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if isinstance(limits, dict):
        limits = Limits(**limits)
    elif limits is None:
        limits = Limits()
    elif not isinstance(limits, Limits):
        raise UserInputError(f"limits must be a Limits or a dict, got {type(limits).__name__}")
    return PendingSandbox(backend, image, workspace, limits, bool(network))
