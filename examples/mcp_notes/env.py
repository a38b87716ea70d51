"""The MCP example env: a notes app served by an MCP server we did not have to wrap by hand.

    python examples/mcp_notes/env.py      # registers mcp/Notes-v0 and runs `agentgym check` on it

`server.py` is any MCP server as far as agentgym is concerned (spawned fresh for each episode);
`tasks.jsonl` holds the tasks: a prompt, `setup` calls that create the notes the task starts
from, the reference calls, and the expected end state, which the `mcp_state` verifier compares
with what the hidden `export_notes` tool returns at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import agentgym
from agentgym.core.registry import EnvSpec

HERE = Path(__file__).resolve().parent
ENV_ID = "mcp/Notes-v0"


def register() -> EnvSpec:
    return agentgym.register(
        ENV_ID,
        "agentgym.mcp.env:MCPEnv",
        kwargs={
            "server": [sys.executable, str(HERE / "server.py")],
            "tasks": str(HERE / "tasks.jsonl"),
            "hide_tools": ["export_notes"],  # the verifier's view of the state, not the agent's
        },
        description="a notes app behind an MCP server; scored on the server's end state",
        max_episode_steps=15,
        override=True,
    )


if __name__ == "__main__":
    import asyncio

    from agentgym.conformance import run_checks

    for result in asyncio.run(run_checks(register(), n_tasks=5)):
        print(f"{result.status:5} {result.name:12} {result.detail}")
