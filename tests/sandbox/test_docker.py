"""The docker backend against a real engine: contract, containment, fork/snapshot and timeouts."""

from __future__ import annotations

import pytest

from agentgym.core.errors import SandboxError, UserInputError
from agentgym.sandbox import Limits, create

from .conftest import docker_reason, need

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture
async def dsb(workspace):
    need(docker_reason() is None, docker_reason() or "")
    async with create("docker", workspace=workspace, limits=Limits(timeout_s=30, memory_mb=256, pids=64)) as sb:
        yield sb


async def test_exec_files_and_hardening(dsb):
    res = await dsb.exec("id -u; grep CapEff /proc/self/status; cat README; echo err >&2; exit 2")
    assert res.exit_code == 2 and res.stderr == "err\n"
    uid, caps, readme = res.stdout.splitlines()
    assert uid == "1000" and caps.split()[1] == "0000000000000000" and readme == "hello"
    assert (await dsb.exec("tr a-z A-Z", stdin="abc")).stdout == "ABC"
    await dsb.write_file("d/f.txt", "x")
    assert await dsb.read_file("/workspace/d/f.txt") == "x"
    with pytest.raises(FileNotFoundError):
        await dsb.read_file("nope")
    assert (await dsb.exec("echo x > /etc/x")).exit_code != 0
    net = "python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 53), 2)'"
    assert (await dsb.exec(net)).exit_code != 0
    assert "agentgym" not in (await dsb.exec("env")).stdout.lower()


async def test_timeout_kills_and_pids_limit_holds(dsb):
    res = await dsb.exec("sleep 4323 & sleep 4323", timeout=1)
    assert res.timed_out
    assert "sleep 4323" not in (await dsb.exec("ps -eo args 2>/dev/null || ls /proc")).stdout
    # in a container background processes outlive their command; the timeout kill ends them
    res = await dsb.exec("bomb() { bomb | bomb & }; bomb; sleep 100", timeout=3)
    assert res.timed_out
    assert (await dsb.exec("echo alive")).stdout == "alive\n"


async def test_fork_and_restore_are_seen_by_running_containers(dsb):
    await dsb.write_file("a.txt", "parent")
    child = await dsb.fork()
    try:
        await child.exec("echo child > a.txt; rm README")
        assert await dsb.read_file("a.txt") == "parent"
        assert await child.read_file("a.txt") == "child\n"
        ref = await dsb.snapshot()
        await dsb.exec("rm -rf pkg a.txt")
        await dsb.restore(ref)
        assert sorted((await dsb.exec("ls")).stdout.split()) == ["README", "a.txt", "pkg"]
        with pytest.raises(UserInputError):
            await dsb.restore(await child.snapshot())
    finally:
        await child.close()


async def test_dead_container_raises_sandbox_error(workspace):
    need(docker_reason() is None, docker_reason() or "")
    sb = await create("docker", workspace=workspace)
    try:
        sb.container.remove(force=True)  # the engine loses it mid-episode
        with pytest.raises(SandboxError):
            await sb.exec("true")
    finally:
        await sb.close()


async def test_unknown_image_is_a_user_error(workspace):
    need(docker_reason() is None, docker_reason() or "")
    with pytest.raises(UserInputError, match="not found"):
        await create("docker", image="agentgym-no-such-image:1", workspace=workspace)
