"""What the agent changed, read from a live SWE sandbox: a changed file bigger than a command's
output cap comes back whole (the listing goes through a file, not stdout)."""

from __future__ import annotations

import pytest

from agentgym.environments.swe.env import SWEEnv
from agentgym.verifiers.swe_workspace import agent_changes, agent_patch
from tests.environments.swe.helpers import call, sample_task

pytestmark = pytest.mark.bwrap


async def test_a_changed_file_above_the_output_cap_is_read_whole():
    env = SWEEnv([sample_task()])
    try:
        await env.reset()
        cap = env.sandbox.limits.output_bytes
        lines = cap // 6 + 1000  # "x = 1\n" is 6 bytes: the file is past the cap, base64 more so
        await env.step(
            call("bash", command=f"python -c \"open('big.py', 'w').write('x = 1\\\\n' * {lines})\"")
        )
        changes, problem = await agent_changes(env)
        assert problem == "" and changes["big.py"] == b"x = 1\n" * lines
        patch = await agent_patch(env)
        assert patch.count("+x = 1\n") == lines
        listed = await env.sandbox.exec("ls /tmp", timeout=30)
        assert "agentgym-listing" not in listed.stdout  # the listing file is removed
    finally:
        await env.close()
