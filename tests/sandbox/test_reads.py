"""Host-side reads of sandbox content stay bounded in bytes and time, on every backend.

Each test plays the agent that swaps a file the host will read for something endless (a symlink
to /dev/zero, a FIFO, a device, a huge sparse file, a symlink loop) and measures the memory of
this process (the host) while the host reads it. Before the bounds, /dev/zero alone grew the
host by 2.5 GB in 30 s.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import pytest_asyncio

from agentgym.core.errors import InfraError, UserInputError
from agentgym.sandbox import (
    FileTooLargeError,
    NotRegularFileError,
    OutputTooLargeError,
    SandboxContentError,
    create,
)
from agentgym.sandbox.reads import READ_LIMIT, WHOLE_OUTPUT_LIMIT

from .conftest import HostMemory, host_processes_running, limits, make_workspace

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sb(backend, tmp_path_factory):
    ws = make_workspace(tmp_path_factory.mktemp("reads"))
    async with create(backend, workspace=ws, limits=limits(memory_mb=512)) as sandbox:
        yield sandbox


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("make, error", [
    ("ln -s /dev/zero {f}", NotRegularFileError),
    ("ln -s /dev/urandom {f}", NotRegularFileError),
    ("mkfifo {f}", NotRegularFileError),
    ("ln -s {f} {f}", NotRegularFileError),  # a symlink loop
    ("truncate -s 200M {f}", FileTooLargeError),  # sparse: 200 MB that take no space
    ("head -c $((8 * 1024 * 1024 + 1)) /dev/zero > {f}", FileTooLargeError),
])
async def test_reading_an_endless_or_special_file_is_refused_with_bounded_host_memory(sb, make, error):
    f = unique("/workspace/attack")
    assert (await sb.exec(make.format(f=f))).exit_code == 0
    start = time.monotonic()
    with HostMemory() as mem, pytest.raises(error) as info:
        await sb.read_file(f)
    assert time.monotonic() - start < 10
    assert mem.growth_mb < 48, f"host grew {mem.growth_mb:.0f} MB"
    # the agent made the file unreadable: an OSError the caller scores as the agent's failure
    assert isinstance(info.value, OSError) and not isinstance(info.value, InfraError)


async def test_ordinary_reads_still_work_up_to_the_limit(sb):
    f = unique("big")
    await sb.exec(f"head -c {READ_LIMIT} /dev/zero | tr '\\0' a > {f}; ln -s {f} link-{f}")
    data = await sb.read_bytes(f)
    assert len(data) == READ_LIMIT and set(data) == {ord("a")}
    assert await sb.read_bytes(f"link-{f}") == data  # a symlink to a regular file is followed
    assert await sb.read_file("README", max_bytes=6) == "hello\n"
    with pytest.raises(FileTooLargeError):
        await sb.read_file("README", max_bytes=5)
    assert await sb.read_bytes(f, max_bytes=READ_LIMIT * 2) == data
    for bad in (dict(max_bytes=-1), dict(max_bytes=WHOLE_OUTPUT_LIMIT + 1), dict(timeout=0)):
        with pytest.raises(UserInputError):
            await sb.read_bytes(f, **bad)


async def test_a_file_swapped_while_the_host_reads_it_stays_bounded(sb):
    """A concurrent command flips the path between a real file, /dev/zero and a FIFO."""
    f = unique("/tmp/flip")
    flip = (f"while true; do echo x > {f}.r; ln -sfn /dev/zero {f}.z; mv -f {f}.z {f}; "
            f"ln -sfn {f}.r {f}.l; mv -f {f}.l {f}; rm -f {f}.p; mkfifo {f}.p; mv -f {f}.p {f}; done")
    flipper = asyncio.create_task(sb.exec(flip, timeout=20))
    await asyncio.sleep(0.5)
    outcomes = set()
    with HostMemory() as mem:
        for _ in range(12):
            try:
                outcomes.add(await sb.read_bytes(f, timeout=3))
            except (SandboxContentError, FileNotFoundError) as exc:
                outcomes.add(type(exc).__name__)
    flipper.cancel()  # giving up on a command kills it
    await asyncio.gather(flipper, return_exceptions=True)
    await asyncio.sleep(0.3)
    assert host_processes_running(f"{f}.r") == []
    assert mem.growth_mb < 48, f"host grew {mem.growth_mb:.0f} MB"
    assert outcomes <= {b"x\n", "NotRegularFileError", "FileTooLargeError", "FileTimeoutError",
                        "FileNotFoundError"}, outcomes


async def test_whole_output_commands_have_a_hard_ceiling(sb):
    """`_exec(capped=False)` (the SWE verifier's listings) cannot grow the host without bound,
    whatever limit the caller asks for."""
    marker = "4331"
    with HostMemory() as mem, pytest.raises(OutputTooLargeError):
        await sb._exec(["sh", "-c", f"cat /dev/zero; sleep {marker}"], 60, None, {}, None,
                       capped=False, max_output=1 << 40)
    assert mem.growth_mb < WHOLE_OUTPUT_LIMIT * 3 / (1 << 20), f"host grew {mem.growth_mb:.0f} MB"
    await asyncio.sleep(0.3)
    assert host_processes_running(f"sleep {marker}") == []  # the writer was killed
    with HostMemory() as mem, pytest.raises(OutputTooLargeError):
        await sb._exec(["cat", "/dev/zero"], 60, None, {}, None, capped=False, max_output=1 << 20)
    assert mem.growth_mb < 24
    res = await sb._exec(["head", "-c", "1048576", "/dev/zero"], 60, None, {}, None, capped=False,
                         max_output=1 << 20)
    assert len(res.stdout) == 1 << 20
    assert (await sb.exec("echo alive", timeout=10)).stdout == "alive\n"  # the sandbox goes on


async def test_writing_into_a_fifo_is_refused_not_blocked(sb):
    f = unique("/tmp/fifo")
    await sb.exec(f"mkfifo {f}")
    start = time.monotonic()
    with pytest.raises(NotRegularFileError):
        await sb.write_file(f, "data")
    assert time.monotonic() - start < 10
