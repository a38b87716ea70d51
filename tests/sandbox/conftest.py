"""Sandbox test fixtures. In CI (CI=true) a missing bwrap or Docker engine fails, never skips."""

from __future__ import annotations

import os
import shutil

import pytest

from agentgym.sandbox import Limits, create

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(ok: bool, why: str) -> None:
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{why} (CI=true: run scripts/setup_sandbox.sh first)")
    pytest.skip(why)


def docker_reason() -> str | None:
    """None when a Docker engine answers and the base image exists, else why not."""
    try:
        import docker
    except ImportError:
        return "the docker Python package is not installed (pip install agentgym[docker])"
    try:
        client = docker.from_env(timeout=5)
        client.ping()
        client.images.get("agentgym-base:bookworm")
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable here"
        return f"no usable Docker engine/base image: {exc}"
    return None


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README").write_text("hello\n")
    (ws / "pkg").mkdir()
    (ws / "pkg" / "mod.py").write_text("X = 1\n")
    return ws


@pytest.fixture
async def sandbox(workspace):
    need(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    async with create("bwrap", workspace=workspace, limits=Limits(timeout_s=30)) as sb:
        yield sb


def bwrap_limits(**kw) -> Limits:
    return Limits(**{"timeout_s": 30, **kw})
