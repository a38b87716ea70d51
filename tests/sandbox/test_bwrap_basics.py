"""The Sandbox contract on the bwrap backend: exec, files, bad input, a dead sandbox."""

from __future__ import annotations

import subprocess

import pytest

from agentgym.core.errors import SandboxError, UserInputError
from agentgym.sandbox import ExecResult, Limits, ShellSession, create

pytestmark = pytest.mark.bwrap


async def test_exec_reports_exit_code_output_and_duration(sandbox):
    res = await sandbox.exec("echo out; echo err >&2; exit 3", timeout=10)
    assert isinstance(res, ExecResult)
    assert (res.exit_code, res.stdout, res.stderr) == (3, "out\n", "err\n")
    assert not res.timed_out and not res.truncated and res.duration_s > 0


async def test_exec_argv_cwd_env_and_stdin(sandbox):
    assert (await sandbox.exec(["cat", "README"])).stdout == "hello\n"
    assert (await sandbox.exec("pwd", cwd="/workspace/pkg")).stdout == "/workspace/pkg\n"
    assert (await sandbox.exec("echo $GREETING", env={"GREETING": "hi"})).stdout == "hi\n"
    assert (await sandbox.exec("tr a-z A-Z", stdin="abc")).stdout == "ABC"


async def test_runs_as_unprivileged_user_with_python(sandbox):
    res = await sandbox.exec("id -u; grep CapEff /proc/self/status; python3 -c 'print(6*7)'")
    uid, caps, answer = res.stdout.split("\n")[:3]
    assert uid == "1000" and caps.split()[1] == "0000000000000000" and answer == "42"


async def test_files_round_trip_and_source_is_untouched(sandbox, workspace):
    await sandbox.write_file("new/dir/f.bin", b"\x00\xff data")
    assert await sandbox.read_bytes("/workspace/new/dir/f.bin") == b"\x00\xff data"
    await sandbox.write_file("README", "changed")
    assert await sandbox.read_file("README") == "changed"
    assert (workspace / "README").read_text() == "hello\n"
    assert not (workspace / "new").exists()


async def test_file_errors_are_typed(sandbox):
    with pytest.raises(FileNotFoundError):
        await sandbox.read_file("missing.txt")
    with pytest.raises(PermissionError):
        await sandbox.write_file("/usr/evil", "x")
    with pytest.raises(UserInputError):
        await sandbox.read_file("")


@pytest.mark.parametrize(
    "kwargs",
    [dict(cmd=""), dict(cmd=[]), dict(cmd="true", timeout=0), dict(cmd="true", timeout=-1),
     dict(cmd="true", cwd="relative"), dict(cmd="true", env={"A=B": "x"})],
)
async def test_bad_exec_arguments_are_user_errors(sandbox, kwargs):
    with pytest.raises(UserInputError):
        await sandbox.exec(**kwargs)


async def test_bad_create_arguments(tmp_path):
    with pytest.raises(UserInputError, match="unknown sandbox backend"):
        create("lxc")
    with pytest.raises(UserInputError, match="limits"):
        create(limits=42)
    with pytest.raises(ValueError):
        create(limits={"memory_mb": 1})
    with pytest.raises(UserInputError, match="not a directory"):
        await create(workspace=tmp_path / "nope")
    with pytest.raises(UserInputError, match="not found"):
        await create(image="no-such-image")


async def test_closed_or_broken_sandbox_raises_sandbox_error(workspace):
    sb = await create(workspace=workspace)
    # something outside the agent's control removes its workspace mount mid-episode
    subprocess.run(["umount", "-l", str(sb.fs.merged)], check=False)
    if sb.fs.overlay:
        with pytest.raises(SandboxError):
            await sb.exec("true")
    await sb.close()
    await sb.close()  # twice is fine
    with pytest.raises(SandboxError):
        await sb.exec("true")


async def test_shell_session_keeps_cwd_and_exports(sandbox):
    sh = ShellSession(sandbox)
    res = await sh.run("mkdir -p a/b && cd a/b && export FOO=bar && LOCAL=1 && echo ok")
    assert res.stdout == "ok\n" and sh.cwd == "/workspace/a/b"
    res = await sh.run("pwd; echo $FOO; echo ${LOCAL:-unset}")
    assert res.stdout == "/workspace/a/b\nbar\nunset\n"
    assert (await sh.run("unset FOO; cd /tmp; exit 4")).exit_code == 4
    assert sh.cwd == "/tmp" and "FOO" not in sh.env
    assert (await sh.run("if then fi")).exit_code != 0  # a syntax error is just a failed command
    assert (await sh.run("pwd")).stdout == "/tmp\n"


async def test_limits_validation():
    with pytest.raises(ValueError):
        Limits(pids=0)
    with pytest.raises(ValueError):
        Limits(unknown=1)
