"""Who ended a command: the agent's own kills are normal results, ours are SandboxError.

The attacker's goal here is the other way round from usual: an agent that can turn its failing
episode into an infrastructure error drops it from every metric. So every kill the agent can
cause must come back as a normal result, and only kills from outside raise.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from agentgym.core.errors import SandboxError
from agentgym.sandbox import ExecResult, create
from agentgym.sandbox.cgroups import kill_all

from .conftest import host_processes_running, limits, need_backend, sleep_marker

OOM = "python3 -c 'x = []\nwhile True: x.append(bytearray(16 << 20))'"

S4342 = sleep_marker(4342)
S4343 = sleep_marker(4343)
S4344 = sleep_marker(4344)


def bwrap_processes(marker: str) -> tuple[int, int]:
    """(bwrap's outer process, our child; bwrap's pid 1 inside the sandbox) running `marker`."""
    mine = [pid for pid in host_processes_running(marker) if _ppid(pid) == os.getpid()]
    assert len(mine) == 1, mine
    inner = [pid for pid in host_processes_running(marker) if _ppid(pid) == mine[0]]
    return mine[0], inner[0]


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


async def wait_for_host_process(marker: str) -> None:
    for _ in range(100):
        if host_processes_running(marker):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{marker} never started")


# --- the agent's own doing: normal results ----------------------------------------------------


ATTACKS = [
    "kill -9 $$",
    "kill -9 -1",
    "kill -9 1; kill -STOP 1; echo survived",
    "exec >&- 2>&-; exit 0",
    "python3 -c 'import ctypes; print(ctypes.CDLL(None).ptrace(16, 1, 0, 0))'",  # trace init
]


async def test_whatever_the_agent_kills_is_its_own_result(backend, workspace):
    async with create(backend, workspace=workspace, limits=limits()) as sb:
        for attack in ATTACKS:
            res = await sb.exec(attack, timeout=5)
            assert isinstance(res, ExecResult) and res.killed is None, attack
            assert res.exit_code >= 0, attack  # a signal death reads as 128+n, never negative
            if attack == "kill -9 $$":
                assert res.exit_code == 137 and not res.timed_out
            assert (await sb.exec("echo alive")).stdout == "alive\n", attack


async def test_running_out_of_memory_is_the_agents_result_and_says_so(backend, workspace):
    async with create(backend, workspace=workspace, limits=limits(memory_mb=128)) as sb:
        res = await sb.exec(OOM, timeout=30)
        assert res.exit_code == 137 and not res.timed_out
        assert res.killed == "out of memory (limit 128 MB)"
        assert res.stderr.endswith("[sandbox] killed: out of memory (limit 128 MB)\n")
        assert (await sb.exec("echo alive")).stdout == "alive\n"


async def test_filling_memory_with_tmp_files_stays_the_agents_doing(backend, workspace):
    """/tmp is RAM: the agent can fill its memory for good; every result stays its own."""
    async with create(backend, workspace=workspace, limits=limits(memory_mb=64, disk_mb=256)) as sb:
        res = await sb.exec("head -c 200M /dev/zero > /tmp/fill", timeout=30)
        assert res.exit_code != 0 and res.killed == "out of memory (limit 64 MB)"
        assert isinstance(await sb.exec("rm -f /tmp/fill; echo alive", timeout=10), ExecResult)


@pytest.mark.bwrap
async def test_the_oom_killer_taking_bwrap_itself_is_still_the_agents_doing(workspace):
    need_backend("bwrap")
    async with create("bwrap", workspace=workspace, limits=limits(memory_mb=128)) as sb:
        task = asyncio.create_task(sb.exec(f"sleep 1.5; echo 4341 >/dev/null; {OOM}", timeout=30))
        await wait_for_host_process("sleep 1.5; echo 4341")
        outer, inner = bwrap_processes("sleep 1.5; echo 4341")
        for pid in (outer, inner):  # make the kernel pick bwrap over the memory hog
            Path(f"/proc/{pid}/oom_score_adj").write_text("1000")
        res = await task
        assert res.killed == "out of memory (limit 128 MB)" and res.exit_code == 137


@pytest.mark.docker
async def test_the_oom_killer_taking_the_containers_init_restarts_it(workspace):
    need_backend("docker")
    async with create("docker", workspace=workspace, limits=limits(memory_mb=128)) as sb:
        await sb.write_file("/tmp/kept", "state")
        top = sb.api.top(sb.container.id, ps_args="-eo pid,uid")
        for pid, uid in (row[:2] for row in top["Processes"]):
            if uid == "0":  # init and its sleep: make the kernel pick them over the hog
                Path(f"/proc/{pid}/oom_score_adj").write_text("1000")
        res = await sb.exec(OOM, timeout=30)
        assert res.killed == "out of memory (limit 128 MB)" and res.exit_code == 137
        assert (await sb.exec("echo alive; cat /tmp/kept")).stdout == "alive\nstate"


# --- ours: a fork, snapshot, restore or close while a command runs ------------------------------


@pytest.mark.parametrize("operation", ["close", "restore"])
async def test_our_own_teardown_under_a_command_is_a_sandbox_error(backend, workspace, operation):
    async with create(backend, workspace=workspace, limits=limits()) as sb:
        ref = await sb.snapshot()
        task = asyncio.create_task(sb.exec(f"sleep {S4342}", timeout=30))
        await wait_for_host_process(f"sleep {S4342}")
        await (sb.close() if operation == "close" else sb.restore(ref))
        with pytest.raises(SandboxError, match="fork, snapshot, restore or close"):
            await task
    assert host_processes_running(f"sleep {S4342}") == []


# --- from outside: SandboxError -------------------------------------------------------------


@pytest.mark.bwrap
@pytest.mark.parametrize("how", ["kill bwrap", "kill the cgroup"])
async def test_bwrap_killed_from_the_host_is_a_sandbox_error(workspace, how):
    need_backend("bwrap")
    async with create("bwrap", workspace=workspace, limits=limits()) as sb:
        task = asyncio.create_task(sb.exec(f"sleep {S4343}", timeout=30))
        await wait_for_host_process(f"sleep {S4343}")
        if how == "kill bwrap":
            os.kill(bwrap_processes(f"sleep {S4343}")[0], signal.SIGKILL)
        else:
            if not sb.cgroup.available:
                pytest.skip("no cgroups here")
            for d in sb.cgroup.dirs:
                for group in d.glob("e*"):
                    kill_all(group)
        with pytest.raises(SandboxError, match="killed from outside"):
            await task
        assert (await sb.exec("echo alive")).stdout == "alive\n"  # the sandbox itself is fine


@pytest.mark.docker
@pytest.mark.parametrize("how", ["kill", "stop", "remove"])
async def test_a_container_killed_from_outside_is_a_sandbox_error(workspace, how):
    need_backend("docker")
    async with create("docker", workspace=workspace, limits=limits()) as sb:
        task = asyncio.create_task(sb.exec(f"sleep {S4344}", timeout=30))
        await wait_for_host_process(f"sleep {S4344}")
        if how == "kill":
            await asyncio.to_thread(sb.container.kill)
        elif how == "stop":
            await asyncio.to_thread(sb.container.stop, timeout=1)
        else:
            await asyncio.to_thread(sb.container.remove, force=True)
        with pytest.raises(SandboxError):
            await task
        with pytest.raises(SandboxError):
            await sb.exec("true")
