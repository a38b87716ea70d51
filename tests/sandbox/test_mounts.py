"""Mounting by system call (the fork's hot path) and by mount(8) (the fallback), both for real.

Which path ran is observed from outside: a `mount`/`umount` first on PATH that logs each call
and then runs the real one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentgym.core.errors import SandboxError
from agentgym.sandbox import create, mounts
from agentgym.sandbox.layers import SQUASH_DEPTH, can_mount, sandbox_root

from .conftest import limits, need, need_backend

pytestmark = pytest.mark.skipif(not can_mount(), reason="mounting needs root")


@pytest.fixture
def mount_log(tmp_path, monkeypatch) -> Path:
    """Puts logging `mount` and `umount` wrappers first on PATH; returns the log file."""
    bin_dir, log = tmp_path / "bin", tmp_path / "mount.log"
    bin_dir.mkdir()
    for name in ("mount", "umount"):
        real = shutil.which(name)
        assert real is not None
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\nexec {real} "$@"\n')
        wrapper.chmod(0o755)
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return log


@pytest.fixture(params=["syscall", "mount(8)"])
def method(request, monkeypatch) -> str:
    if request.param == "mount(8)":
        monkeypatch.setenv("AGENTGYM_MOUNT_SYSCALLS", "0")
    else:
        monkeypatch.delenv("AGENTGYM_MOUNT_SYSCALLS", raising=False)
    assert mounts.method() == request.param
    return request.param


def mounted_under(*dirs: Path) -> list[str]:
    with open("/proc/self/mounts") as f:
        targets = [line.split()[1] for line in f]
    return [t for t in targets if any(t == str(d) or t.startswith(f"{d}/") for d in dirs)]


async def ls(sb) -> list[str]:
    return sorted((await sb.exec("ls -A")).stdout.split())


@pytest.mark.bwrap
async def test_fork_isolates_parent_and_child_by_either_mount_path(method, mount_log, workspace):
    need_backend("bwrap")
    parent = await create("bwrap", workspace=workspace, limits=limits())
    child = grandchild = None
    try:
        await parent.write_file("before.txt", "1")
        child = await parent.fork()
        await child.exec("echo c > child.txt; rm README")
        await parent.exec("echo p > parent.txt; echo changed > pkg/mod.py")
        grandchild = await child.fork()
        await child.close()  # the grandchild keeps what it shares with its parent
        assert await ls(parent) == ["README", "before.txt", "parent.txt", "pkg"]
        assert await ls(grandchild) == ["before.txt", "child.txt", "pkg"]
        assert await grandchild.read_file("pkg/mod.py") == "X = 1\n"
        assert (
            workspace / "pkg" / "mod.py"
        ).read_text() == "X = 1\n"  # the source is never written
        dirs = [parent.dir, grandchild.dir, parent.fs.volume.path, grandchild.fs.volume.path]
        assert {d.parent for d in dirs} == {sandbox_root()}
        assert os.path.ismount(sandbox_root())  # a tmpfs: no disk journal on the fork's path
    finally:
        for sb in (grandchild, child, parent):
            if sb is not None:
                await sb.close()
    assert mounted_under(*dirs) == []  # closing leaves nothing mounted, by either path
    calls = mount_log.read_text().splitlines()
    if method == "syscall":
        assert calls == []  # no mount(8)/umount(8) process at all
    else:
        assert any(c.startswith("mount -t overlay") for c in calls)
        assert any(c.startswith("umount") for c in calls)


@pytest.mark.bwrap
async def test_deep_fork_chain_is_squashed_by_the_fallback_too(monkeypatch, workspace):
    """Chains deeper than SQUASH_DEPTH stay correct when mount(8) does the mounting (the
    system-call path runs the same chain in test_state.py)."""
    need_backend("bwrap")
    monkeypatch.setenv("AGENTGYM_MOUNT_SYSCALLS", "0")
    current = await create("bwrap", workspace=workspace, limits=limits())
    chain = [current]
    try:
        for i in range(SQUASH_DEPTH + 2):
            await current.write_file(f"keep{i}", str(i))
            current = await current.fork()
            chain.append(current)
        assert len(current.fs.stack.layers) <= SQUASH_DEPTH
        await current.exec(f"rm keep0 && echo gone > keep{SQUASH_DEPTH + 1}")
        names = await ls(current)
        assert names == sorted(["README", "pkg", *(f"keep{i}" for i in range(1, SQUASH_DEPTH + 2))])
        assert await current.read_file(f"keep{SQUASH_DEPTH + 1}") == "gone\n"
        assert await chain[0].read_file("keep0") == "0"  # the first parent is untouched
    finally:
        for sb in chain:
            await sb.close()


async def test_a_busy_mount_is_detached_and_errors_are_said(method, tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    await mounts.mount("tmpfs", target, "size=1m")
    held = open(target / "f", "w")  # noqa: SIM115 - holds the mount busy
    try:
        await mounts.unmount(target)  # EBUSY: detached instead; it goes when released
        assert not os.path.ismount(target)
    finally:
        held.close()
    with pytest.raises(SandboxError, match="umount"):
        await mounts.unmount(target)  # not a mount point
    with pytest.raises(SandboxError, match="mount"):
        await mounts.mount("tmpfs", tmp_path / "missing", "size=1m")


def test_a_refused_system_call_switches_to_mount8(tmp_path):
    """In a user namespace that does not own its mount namespace, the kernel refuses mount(2)
    with EPERM: the process says so and mount(8) gets the call (which is refused too)."""
    need(shutil.which("unshare") is not None, "unshare (util-linux) is not installed")
    (tmp_path / "m").mkdir()
    script = (
        "import asyncio, sys\n"
        "from agentgym.sandbox import mounts\n"
        "assert mounts.method() == 'syscall', mounts.method()\n"
        "try:\n"
        f"    asyncio.run(mounts.mount('tmpfs', {str(tmp_path / 'm')!r}, 'size=1m'))\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "print(mounts.method())\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("AGENTGYM_MOUNT_SYSCALLS", None)
    res = subprocess.run(
        ["unshare", "--user", "--map-root-user", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    need(
        res.returncode == 0 or "unshare" not in res.stderr, f"no user namespaces here: {res.stderr}"
    )
    assert res.returncode == 0, res.stderr
    first, last = res.stdout.splitlines()[0], res.stdout.splitlines()[-1]
    assert first.startswith("SandboxError mount -t tmpfs")  # the message is mount(8)'s
    assert last == "mount(8)"
    assert not os.path.ismount(tmp_path / "m")
