"""The Sandbox contract on every backend: exec, files, bad input, shell sessions, a dead sandbox.

Tests here share one sandbox per backend (each uses files of its own), which keeps the Docker
side fast; tests that change limits or break the sandbox make their own.
"""

from __future__ import annotations

import subprocess
import uuid

import pytest
import pytest_asyncio

from agentgym.core.errors import SandboxError, UserInputError
from agentgym.sandbox import ExecResult, Limits, ShellSession, create

from .conftest import limits, make_workspace

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def shared_workspace(tmp_path_factory):
    return make_workspace(tmp_path_factory.mktemp("contract"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sb(backend, shared_workspace):
    async with create(backend, workspace=shared_workspace, limits=limits()) as sandbox:
        yield sandbox


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def test_exec_reports_exit_code_output_and_duration(sb):
    res = await sb.exec("echo out; echo err >&2; exit 3", timeout=10)
    assert isinstance(res, ExecResult)
    assert (res.exit_code, res.stdout, res.stderr) == (3, "out\n", "err\n")
    assert not res.timed_out and not res.truncated and res.duration_s > 0 and res.killed is None


async def test_exec_argv_cwd_env_and_stdin(sb):
    assert (await sb.exec(["cat", "README"])).stdout == "hello\n"
    assert (await sb.exec("pwd", cwd="/workspace/pkg")).stdout == "/workspace/pkg\n"
    assert (await sb.exec("echo $GREETING", env={"GREETING": "hi"})).stdout == "hi\n"
    assert (await sb.exec("tr a-z A-Z", stdin="abc")).stdout == "ABC"


async def test_runs_as_unprivileged_user_with_python(sb):
    res = await sb.exec("id -u; grep CapEff /proc/self/status; python3 -c 'print(6*7)'")
    uid, caps, answer = res.stdout.split("\n")[:3]
    assert uid == "1000" and caps.split()[1] == "0000000000000000" and answer == "42"


async def test_files_round_trip_and_source_is_untouched(sb, shared_workspace):
    name = unique("new")
    await sb.write_file(f"{name}/dir/f.bin", b"\x00\xff data")
    assert await sb.read_bytes(f"/workspace/{name}/dir/f.bin") == b"\x00\xff data"
    await sb.write_file(f"/tmp/{name}.txt", "changed")
    assert await sb.read_file(f"/tmp/{name}.txt") == "changed"
    assert not (shared_workspace / name).exists()


async def test_writing_a_workspace_file_leaves_the_source_alone(backend, workspace):
    async with create(backend, workspace=workspace, limits=limits()) as sb:
        await sb.write_file("README", "changed")
        assert await sb.read_file("README") == "changed"
    assert (workspace / "README").read_text() == "hello\n"


async def test_file_errors_are_typed(sb):
    with pytest.raises(FileNotFoundError):
        await sb.read_file("missing.txt")
    with pytest.raises(IsADirectoryError):
        await sb.read_file("pkg")
    with pytest.raises(PermissionError):
        await sb.write_file("/usr/evil", "x")
    with pytest.raises(UserInputError):
        await sb.read_file("")


@pytest.mark.parametrize(
    "kwargs",
    [dict(cmd=""), dict(cmd=[]), dict(cmd="true", timeout=0), dict(cmd="true", timeout=-1),
     dict(cmd="true", cwd="relative"), dict(cmd="true", env={"A=B": "x"}),
     dict(cmd="true", env={"A": "x\0--bind\0/\0/host"}), dict(cmd="true", cwd="/tmp\0--bind")],
)
async def test_bad_exec_arguments_are_user_errors(sb, kwargs):
    with pytest.raises(UserInputError):
        await sb.exec(**kwargs)


async def test_shell_session_keeps_cwd_and_exports(sb):
    sh = ShellSession(sb)
    d = unique("a")
    res = await sh.run(f"mkdir -p {d}/b && cd {d}/b && export FOO=bar && LOCAL=1 && echo ok")
    assert res.stdout == "ok\n" and sh.cwd == f"/workspace/{d}/b"
    res = await sh.run("pwd; echo $FOO; echo ${LOCAL:-unset}")
    assert res.stdout == f"/workspace/{d}/b\nbar\nunset\n"
    assert (await sh.run("unset FOO; cd /tmp; exit 4")).exit_code == 4
    assert sh.cwd == "/tmp" and "FOO" not in sh.env
    assert (await sh.run("if then fi")).exit_code != 0  # a syntax error is just a failed command
    assert (await sh.run("pwd")).stdout == "/tmp\n"


async def test_bad_create_arguments(backend, tmp_path):
    with pytest.raises(UserInputError, match="unknown sandbox backend"):
        create("lxc")
    with pytest.raises(UserInputError, match="limits"):
        create(backend, limits=42)
    with pytest.raises(ValueError):
        create(backend, limits={"memory_mb": 1})
    with pytest.raises(ValueError):
        Limits(pids=0)
    with pytest.raises(ValueError):
        Limits(unknown=1)
    with pytest.raises(UserInputError, match="not a directory"):
        await create(backend, workspace=tmp_path / "nope")
    image = "no-such-image" if backend == "bwrap" else "agentgym-no-such-image:1"
    with pytest.raises(UserInputError, match="not found"):
        await create(backend, image=image, workspace=tmp_path)


async def test_closed_or_broken_sandbox_raises_sandbox_error(backend, workspace):
    sb = await create(backend, workspace=workspace, limits=limits())
    try:
        if backend == "docker":  # the engine loses the container mid-episode
            sb.container.remove(force=True)
        else:  # something outside the agent's control unmounts its workspace
            subprocess.run(["umount", "-l", str(sb.fs.merged)], check=False)
        if backend == "docker" or sb.fs.overlay:  # (a plain-copy workspace has no mount to lose)
            with pytest.raises(SandboxError):
                await sb.exec("true")
    finally:
        await sb.close()
    await sb.close()  # twice is fine
    with pytest.raises(SandboxError):
        await sb.exec("true")
