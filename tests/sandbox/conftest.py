"""Sandbox test fixtures: one contract, run on every backend (`backend` is "bwrap" or "docker").

In CI (CI=true) a missing bwrap or Docker engine fails, never skips.
"""

from __future__ import annotations

import os
import resource
import shutil
import threading
import time
from pathlib import Path

import pytest

from agentgym.sandbox import Limits, create

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKEND_PARAMS = [pytest.param("bwrap", marks=pytest.mark.bwrap),
                  pytest.param("docker", marks=pytest.mark.docker)]


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


def need_backend(backend: str) -> None:
    if backend == "bwrap":
        need(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    else:
        reason = docker_reason()
        need(reason is None, reason or "")


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def backend(request) -> str:
    """Each test that takes `backend` runs once per backend (grouped by module)."""
    need_backend(request.param)
    return request.param


def limits(**kw) -> Limits:
    return Limits(**{"timeout_s": 30, **kw})


def make_workspace(root: Path) -> Path:
    ws = root / "ws"
    ws.mkdir()
    (ws / "README").write_text("hello\n")
    (ws / "pkg").mkdir()
    (ws / "pkg" / "mod.py").write_text("X = 1\n")
    return ws


@pytest.fixture
def workspace(tmp_path):
    return make_workspace(tmp_path)


@pytest.fixture
async def sandbox(backend, workspace):
    """A fresh sandbox of its own for tests that change limits, state or kill things."""
    async with create(backend, workspace=workspace, limits=limits()) as sb:
        yield sb


def sleep_marker(seconds: int) -> str:
    """`seconds` made unique to this test process (as a fraction), so host-wide process searches
    never find another run's sleeper (two test runs on one machine, or parallel workers)."""
    return f"{seconds}.{os.getpid():07d}"


def host_processes_running(marker: str) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if marker in (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    out.append(int(p.name))
            except OSError:
                pass
    return out


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


class HostMemory:
    """Samples this (the host) process's resident memory every 2 ms while the block runs."""

    def __enter__(self) -> HostMemory:
        self.baseline = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / (1 << 20)
