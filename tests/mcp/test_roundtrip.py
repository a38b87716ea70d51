"""Both ways at once: an agentgym env served over MCP (a real `agentgym mcp serve` process over
HTTP) and wrapped again as an MCPEnv by URL. The served env's own verdict, read through its
`finish` tool, is the wrapper's score, and the wrapper passes `agentgym check`."""

from __future__ import annotations

import asyncio

import pytest

from agentgym.conformance import run_checks
from agentgym.core.registry import EnvSpec
from agentgym.core.types import Action, Task
from agentgym.mcp.env import MCPEnv
from agentgym.policies.oracle import OraclePolicy
from agentgym.rollout.runner import run_episode
from agentgym.rollout.store import EpisodeStore

REACH_3 = [Task(id="reach-3", family="mcp", prompt="Make the counter reach 3.",
                reference=[Action(tool_calls=[{"name": "add", "arguments": {"n": 3}}]), Action(content="Done.")])]
HIDDEN = ["finish", "get_task"]  # the wrapper's verifier ends the served episode, not its agent


async def served_verdict(env: MCPEnv) -> float:
    return (await env.read_state("finish", {"message": "scored by the wrapper"}))["reward"]


async def test_the_served_envs_verdict_is_the_wrappers_score(served_http):
    env = MCPEnv(served_http.url, REACH_3, check=served_verdict, hide_tools=HIDDEN)
    assert [t.name for t in env.tools] == ["add"]
    good = await run_episode(env, OraclePolicy(), "reach-3")
    await env.reset()
    bad = await env.step(Action(tool_calls=[{"name": "add", "arguments": {"n": 2}}]))
    bad = await env.step(Action(content="Done."))
    await env.close()
    assert good.success and bad.info["outcome"]["value"] == 0.0
    scored = [e for e in EpisodeStore(served_http.record).load()
              if e.steps and e.steps[-1].action.content == "scored by the wrapper"]
    assert sorted(e.reward for e in scored)[-2:] == [0.0, 1.0]  # the server recorded both verdicts


@pytest.mark.slow  # gymnasium's checker alone opens a dozen sessions
def test_an_mcp_server_wrapped_by_url_passes_agentgym_check(served_http):
    spec = EnvSpec("mcp/ServedCounter-v0", MCPEnv, kwargs={
        "server": served_http.url, "tasks": REACH_3, "check": served_verdict, "hide_tools": HIDDEN})
    results = {r.name: r for r in asyncio.run(run_checks(spec, n_tasks=1))}
    assert not [r for r in results.values() if r.status == "fail"], results
    assert results["oracle"].status == results["no-op"].status == "pass"
