"""Nothing of the host shows inside a sandbox: no environment, no host paths, on every backend.

The agent reads every process it can see (/proc/*/environ, cmdline, cwd, root, exe, fds,
mountinfo) and the test greps all of it for a secret the host process holds in its
environment and for host paths (the workspace source, the runtime and cache directories,
the host's home and working directory).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from agentgym.core.paths import cache_dir
from agentgym.sandbox import create
from agentgym.sandbox.images import images_dir
from agentgym.sandbox.layers import runtime_root

from .conftest import limits, need, need_backend

DUMP = r"""
for p in /proc/[0-9]* /proc/self /proc/thread-self; do
  echo "== $p"
  for f in environ cmdline mountinfo mounts; do cat "$p/$f" 2>&1 | tr '\0' ' '; echo; done
  for l in "$p/cwd" "$p/root" "$p/exe" "$p"/fd/*; do readlink "$l" 2>&1; done
done
cat /proc/self/mountinfo /etc/passwd /etc/hosts 2>&1
"""


async def assert_nothing_of_the_host_inside(backend, workspace, monkeypatch, image=None) -> None:
    secret = f"sk-secret-{secrets.token_hex(12)}"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("AGENTGYM_TEST_SECRET", secret)
    source = workspace.resolve()
    host_paths = {str(source), str(runtime_root()), str(cache_dir()), os.getcwd(),
                  str(Path.home()) + "/"}
    async with create(backend, image=image, workspace=workspace, limits=limits()) as sb:
        res = await sb.exec(["bash", "-c", DUMP], timeout=60)
        # nor with a background process of the agent's running beside the dump (docker keeps it)
        await sb.exec("sleep 5 & sleep 0.2", timeout=30)
        bg = await sb.exec(["bash", "-c", DUMP], timeout=60)
    seen = res.stdout + res.stderr + bg.stdout + bg.stderr
    assert "== /proc/1" in seen and "/workspace" in seen  # the dump did run
    assert secret not in seen
    leaked = [p for p in host_paths if p in seen]
    assert not leaked, f"host paths visible inside: {leaked}"


async def test_no_host_environment_or_paths_are_visible_inside(backend, workspace, monkeypatch):
    await assert_nothing_of_the_host_inside(backend, workspace, monkeypatch)


@pytest.mark.bwrap
async def test_a_cached_bwrap_image_does_not_name_where_it_lives(workspace, monkeypatch):
    need_backend("bwrap")
    need((images_dir() / "bookworm" / "usr").is_dir(), "no bookworm image (scripts/setup_sandbox.sh)")
    await assert_nothing_of_the_host_inside("bwrap", workspace, monkeypatch, image="bookworm")
