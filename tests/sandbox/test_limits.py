"""Each limit and each wall, tested with the real attack on every backend."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

from agentgym.sandbox import ExecResult, create

from .conftest import host_processes_running, limits, sleep_marker

S4321 = sleep_marker(4321)
S4322 = sleep_marker(4322)
S4329 = sleep_marker(4329)


async def host_responsive() -> None:
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec("true")
    await proc.wait()
    assert time.monotonic() - start < 1.0


async def test_timeout_kills_the_whole_process_tree(sandbox):
    cmd = f"sleep {S4321} & (setsid sleep {S4321} &) ; nohup sleep {S4321} >/dev/null 2>&1 & sleep {S4321}"
    res = await sandbox.exec(cmd, timeout=1)
    assert res.timed_out and res.exit_code != 0 and res.duration_s < 5
    await asyncio.sleep(0.2)
    assert host_processes_running(f"sleep {S4321}") == []


async def test_a_command_that_closes_its_output_still_times_out(sandbox):
    res = await sandbox.exec(f"exec >&- 2>&-; sleep {S4329}", timeout=2)
    assert res.timed_out and res.duration_s < 8
    await asyncio.sleep(0.2)
    assert host_processes_running(f"sleep {S4329}") == []


async def test_background_processes_end_with_their_command_or_the_next_fork(backend, sandbox):
    res = await sandbox.exec(f"(sleep {S4322} &) ; echo started")
    assert res.stdout == "started\n" and not res.timed_out
    await asyncio.sleep(0.2)
    if backend == "docker":  # a container keeps them until a fork/snapshot/restore
        await sandbox.snapshot()
    assert host_processes_running(f"sleep {S4322}") == []


async def test_output_is_capped_keeping_head_and_tail(backend, workspace):
    async with create(backend, workspace=workspace, limits=limits(output_bytes=4096)) as sb:
        res = await sb.exec("echo FIRST; yes filler | head -c 1000000; echo; echo LAST")
    assert res.truncated and len(res.stdout) < 5000
    assert res.stdout.startswith("FIRST\n") and res.stdout.endswith("LAST\n")
    assert "truncated" in res.stdout


async def test_memory_bomb_is_killed_and_host_unharmed(backend, workspace):
    async with create(backend, workspace=workspace, limits=limits(memory_mb=128)) as sb:
        bomb = "python3 -c 'x = []\nwhile True: x.append(bytearray(16 << 20))'"
        res = await sb.exec(bomb, timeout=30)
        assert res.exit_code != 0 and not res.timed_out
        assert (await sb.exec("echo alive")).stdout == "alive\n"
    await host_responsive()


async def test_fork_bomb_is_contained(backend, workspace):
    async with create(backend, workspace=workspace, limits=limits(pids=64)) as sb:
        res = await sb.exec("bomb() { bomb | bomb & }; bomb; sleep 3; echo done", timeout=8)
        await host_responsive()
        if backend == "docker":
            # the bomb outlives its command in a container and may hold every pid: a command
            # that cannot start is the agent's result, and a snapshot's kill ends the bomb
            assert isinstance(await sb.exec("echo alive"), ExecResult)
            await sb.snapshot()
        assert (await sb.exec("echo alive")).stdout == "alive\n"
    assert res.duration_s < 10


async def test_disk_filling_loop_stops_at_the_quota(backend, workspace):
    async with create(backend, workspace=workspace, limits=limits(disk_mb=32, memory_mb=256)) as sb:
        fill = "i=0; while head -c 1048576 /dev/zero > f$i; do i=$((i+1)); done; echo stopped at $i"
        res = await sb.exec(fill, timeout=30)
        assert "stopped at" in res.stdout and "No space left" in res.stderr
        assert int(res.stdout.split()[-1]) <= 32
        await sb.exec("rm -f f*")
        assert (await sb.exec("echo ok > small && cat small")).stdout == "ok\n"


async def test_yes_into_a_file_hits_the_file_size_limit(backend, workspace):
    async with create(backend, workspace=workspace, limits=limits(file_size_mb=8, disk_mb=64)) as sb:
        res = await sb.exec("yes > big; echo $?", timeout=20)
        assert not res.timed_out
        size = int((await sb.exec("stat -c %s big")).stdout)
        assert size <= 8 << 20


async def test_cpu_time_limit_stops_a_busy_loop(backend, workspace):
    async with create(backend, workspace=workspace, limits=limits(cpu_seconds=1)) as sb:
        res = await sb.exec("python3 -c 'while True: pass'", timeout=20)
    assert res.exit_code != 0 and not res.timed_out and res.duration_s < 10
    assert res.killed == "CPU time limit (1 s per process)"


async def test_no_network_not_even_the_hosts_loopback(sandbox):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        probe = f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 2)'"
        assert (await sandbox.exec(probe)).exit_code != 0
        outside = "python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 53), 2)'"
        res = await sandbox.exec(outside)
        assert res.exit_code != 0 and "unreachable" in res.stderr.lower()
    finally:
        server.close()


async def test_no_host_files_or_writes_outside_the_workspace(sandbox):
    res = await sandbox.exec("ls /root /home /work 2>&1; cat /etc/shadow 2>&1")
    assert "No such file" in res.stdout or "Permission denied" in res.stdout
    for target in ("/usr/x", "/etc/x", "/x", "/workspace/../x"):
        res = await sandbox.exec(f"echo pwned > {target}")
        assert res.exit_code != 0, target
    # the sandbox has its own UTS namespace: renaming it leaves the host's name alone
    hostname = socket.gethostname()
    await sandbox.exec("echo pwned > /proc/sys/kernel/hostname")
    assert socket.gethostname() == hostname
    assert not Path("/usr/x").exists() and not Path("/x").exists()
    assert (await sandbox.exec("echo fine > /tmp/x && cat /tmp/x")).stdout == "fine\n"
