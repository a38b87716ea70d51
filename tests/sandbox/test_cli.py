"""`agentgym sandbox doctor` and `cleanup()` on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from agentgym.sandbox.cli import checks, cleanup, sandbox_app
from agentgym.sandbox.layers import overlay_works, sandbox_root

pytestmark = pytest.mark.bwrap


def test_doctor_reports_each_backend():
    result = CliRunner().invoke(sandbox_app, ["doctor"])
    assert "bwrap backend" in result.output and "docker backend" in result.output
    assert "fork/snapshot" in result.output


def test_doctor_says_how_forks_mount(monkeypatch):
    """(The system-call default is asserted by test_mounts.py; one doctor run costs seconds.)"""
    monkeypatch.setenv("AGENTGYM_MOUNT_SYSCALLS", "0")
    detail = next(c.detail for c in checks() if c.name == "fork/snapshot")
    assert ("(mounts by mount(8))" if overlay_works() else "copy fallback") in detail


def test_cleanup_removes_what_a_killed_process_left(tmp_path):
    script = textwrap.dedent(f"""
        import asyncio, os
        from agentgym.sandbox import create
        async def main():
            sb = await create(workspace={str(tmp_path)!r})
            print(sb.id, flush=True)
            os._exit(0)  # dies without closing: mounts, dirs and cgroups stay behind
        asyncio.run(main())
    """)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    sandbox_id = out.stdout.strip()
    assert (sandbox_root() / f"sbx-{sandbox_id}").exists()
    removed = cleanup()
    assert any(sandbox_id in item for item in removed)
    assert not (sandbox_root() / f"sbx-{sandbox_id}").exists()
    assert not any(sandbox_id in line for line in open("/proc/self/mounts"))
