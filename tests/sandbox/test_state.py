"""Fork, snapshot/restore and the warm pool on every backend."""

from __future__ import annotations

import asyncio

import pytest

from agentgym.core.errors import SandboxError, UserInputError
from agentgym.sandbox import SnapshotRef, WarmPool, create
from agentgym.sandbox.layers import SQUASH_DEPTH

from .conftest import HostMemory, limits, need_backend


async def ls(sb, path="."):
    return sorted((await sb.exec(f"ls -A {path}")).stdout.split())


async def test_fork_copies_files_and_then_diverges(sandbox):
    await sandbox.write_file("parent_before.txt", "1")
    await sandbox.write_file("/tmp/scratch", "tmp state")
    child = await sandbox.fork()
    try:
        assert await child.read_file("parent_before.txt") == "1"
        assert await child.read_file("/tmp/scratch") == "tmp state"
        await child.exec("rm README && echo c > child.txt")
        await sandbox.write_file("parent_after.txt", "2")
        assert await ls(sandbox) == ["README", "parent_after.txt", "parent_before.txt", "pkg"]
        assert await ls(child) == ["child.txt", "parent_before.txt", "pkg"]
        grandchild = await child.fork()
        await child.close()  # the grandchild keeps the layers it shares with its parent
        assert await ls(grandchild) == ["child.txt", "parent_before.txt", "pkg"]
        await grandchild.close()
    finally:
        await child.close()


async def test_a_command_running_during_a_fork_is_killed_by_us(sandbox):
    """Processes never survive a fork; the command it killed is our doing, not the agent's."""
    running = asyncio.create_task(sandbox.exec("sleep 30; echo finished", timeout=60))
    await asyncio.sleep(0.5)
    child = await sandbox.fork()
    try:
        with pytest.raises(SandboxError, match="fork, snapshot, restore or close"):
            await running
        assert (await sandbox.exec("echo still usable")).stdout == "still usable\n"
    finally:
        await child.close()


async def test_snapshot_and_restore(sandbox):
    await sandbox.write_file("a.txt", "v1")
    ref = await sandbox.snapshot()
    assert isinstance(ref, SnapshotRef)
    await sandbox.exec("echo v2 > a.txt; rm -r pkg; mkdir new; echo x > /tmp/t")
    await sandbox.restore(ref)
    assert await sandbox.read_file("a.txt") == "v1"
    assert await ls(sandbox) == ["README", "a.txt", "pkg"]
    assert await ls(sandbox, "/tmp") == []
    await sandbox.exec("echo v3 > a.txt")
    await sandbox.restore(ref)  # a snapshot can be restored more than once
    assert await sandbox.read_file("a.txt") == "v1"


async def test_restore_rejects_a_foreign_snapshot(sandbox):
    other = await sandbox.fork()
    try:
        with pytest.raises(UserInputError):
            await sandbox.restore(await other.snapshot())
    finally:
        await other.close()


@pytest.mark.bwrap
async def test_long_fork_chains_are_squashed_and_stay_correct(workspace):
    """Layer squashing is the same code under both backends; bwrap forks are the cheap way in."""
    need_backend("bwrap")
    current = await create("bwrap", workspace=workspace, limits=limits())
    chain = [current]
    try:
        for i in range(SQUASH_DEPTH + 3):
            await current.exec(f"echo {i} > gen.txt; echo {i} > keep{i}; rm -f keep{i - 2}")
            current = await current.fork()
            chain.append(current)
        assert len(current.fs.stack.layers) <= SQUASH_DEPTH
        n = SQUASH_DEPTH + 2
        assert await current.read_file("gen.txt") == f"{n}\n"
        assert await ls(current) == sorted(["README", "gen.txt", "pkg", f"keep{n - 1}", f"keep{n}"])
    finally:
        for sb in chain:
            await sb.close()


async def test_warm_pool_acquire_and_release_resets(backend, workspace):
    async with WarmPool(size=2, backend=backend, workspace=workspace, limits=limits()) as pool:
        sb = await pool.acquire()
        await sb.exec("echo dirty > README; touch extra")
        await pool.release(sb)
        again = [await pool.acquire(), await pool.acquire(), await pool.acquire()]
        for s in again:
            assert await s.read_file("README") == "hello\n"
            assert await ls(s) == ["README", "pkg"]
        for s in again:
            await pool.release(s)
        with pytest.raises(UserInputError):
            await pool.release(sb.__class__.__new__(sb.__class__))
    with pytest.raises(UserInputError):
        WarmPool(size=0)


async def test_fork_and_snapshot_never_open_the_agents_special_files(sandbox):
    """The host copies /tmp on fork and snapshot: an endless file there must be copied as what
    it is (a FIFO, a socket, a symlink to /dev/zero, a symlink loop), never read."""
    make = ("mkfifo /tmp/fifo fifo; ln -s /dev/zero /tmp/zero; ln -s /tmp/loop /tmp/loop; "
            "python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"/tmp/sock\")'")
    assert (await sandbox.exec(make)).exit_code == 0
    with HostMemory() as mem:
        child = await sandbox.fork()
        ref = await sandbox.snapshot()
        await sandbox.restore(ref)
    try:
        assert mem.growth_mb < 48
        kinds = "stat -c '%n %F' /tmp/fifo /tmp/zero /tmp/loop /tmp/sock fifo"
        expected = ["/tmp/fifo fifo", "/tmp/zero symbolic link", "/tmp/loop symbolic link",
                    "/tmp/sock socket", "fifo fifo"]
        for sb in (child, sandbox):
            assert (await sb.exec(kinds)).stdout.splitlines() == expected
    finally:
        await child.close()


SQUASH_STEPS = [  # each runs in its own layer; together they change every kind of entry
    "mkdir -p d/sub && echo 1 > d/sub/f && echo 2 > d/g && echo s > script && chmod 750 script",
    "ln -s d/g link && ln script hard && mkfifo pipe && mkdir e && echo old > e/x",
    "rm -r d && mkdir d && echo new > d/only",  # a directory replaced: opaque in its layer
    "rm pkg/mod.py && rm -r e && echo now-a-file > e && rm link && mkdir link",  # whiteouts, type changes
    "echo appended >> d/only && touch -d @1000000000 d/only && chmod 700 d",
]
LISTING = ("{ find . -type d -printf '%p %y %m %U:%G\\n'; find . ! -type d -printf '%p %y %m %U:%G %s %n %l\\n'; }"
           " | sort; find . -type f -exec md5sum {} + | sort")  # (a directory's size and links vary)


@pytest.mark.bwrap
async def test_a_squashed_chain_shows_what_the_same_commands_show_without_forks(workspace):
    """Squashing rewrites layers by hand (whiteouts, opaque directories, links, owners,
    modes, times): the squashed view must equal one sandbox that ran the same commands."""
    need_backend("bwrap")
    last = f"echo {SQUASH_DEPTH - 1} > counter"
    async with create("bwrap", workspace=workspace, limits=limits()) as reference:
        for step in [*SQUASH_STEPS, last]:
            assert (await reference.exec(step)).exit_code == 0
        expected = (await reference.exec(LISTING)).stdout
    current = await create("bwrap", workspace=workspace, limits=limits())
    chain = [current]
    try:
        for i in range(SQUASH_DEPTH):  # the last fork makes SQUASH_DEPTH + 1 layers: squashed
            step = SQUASH_STEPS[i] if i < len(SQUASH_STEPS) else f"echo {i} > counter"  # a layer each
            assert (await current.exec(step)).exit_code == 0
            current = await current.fork()
            chain.append(current)
        assert len(current.fs.stack.layers) == 2  # squashed into one layer over the source
        assert (await current.exec(LISTING)).stdout == expected
        assert (await current.exec("stat -c %Y d/only")).stdout == "1000000000\n"  # times kept
        assert "./e f" in expected and "./link d" in expected and "./hard f 750 1000:1000 2 2" in expected
    finally:
        for sb in chain:
            await sb.close()
