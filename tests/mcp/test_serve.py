"""`agentgym mcp serve`: a real server process played by the official SDK's client over stdio and
streamable HTTP, then the session rules and the attacks a client would try, in process (the same
server object, over the SDK's in-memory transport: fast)."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

import agentgym
from agentgym.mcp.episode import ServeOptions
from agentgym.mcp.server import EpisodeServer
from agentgym.rollout.store import EpisodeStore
from tests.core.counter_env import CounterEnv
from tests.mcp.conftest import ROOT, subprocess_env
from tests.mcp.served_envs import SECRET_CODE, SECRET_TASK_ID, VaultEnv, register

register()


def texts(result) -> str:
    return "\n".join(block.text for block in result.content)


def everything(*results) -> str:
    """Every byte a client saw, for the no-leak assertions."""
    return "\n".join(r.model_dump_json() for r in results)


# ---- a real server process, over stdio and over HTTP ----------------------------------------


async def test_a_stdio_client_plays_an_episode_and_never_sees_hidden_data():
    params = StdioServerParameters(command=sys.executable, cwd=str(ROOT),
                                   args=["-m", "tests.mcp.served_envs", "mcp", "serve", "test/Vault-v0"],
                                   env={"PYTHONPATH": subprocess_env()["PYTHONPATH"]})
    with tempfile.TemporaryFile("w+") as log:
        async with Client(stdio_client(params, errlog=log)) as client:
            seen = [client.server_capabilities]
            tools = await client.list_tools()
            assert [t.name for t in tools.tools] == ["try_code", "get_task", "finish", "send_message"]
            task = await client.call_tool("get_task", {})
            prompt = await client.get_prompt("task")
            assert texts(task) == prompt.messages[0].content.text
            assert "Please open my vault." in texts(task)
            answer = await client.call_tool("send_message", {"message": "What is your name?"})
            assert texts(answer) == "Sure. My name is Ada."
            wrong = await client.call_tool("try_code", {"code": "1234"})
            assert texts(wrong) == "Wrong code." and not wrong.is_error
            mistakes = [await client.call_tool("try_code", {}), await client.call_tool("open_vault", {}),
                        await client.call_tool("try_code", {"code": "1", "vault": {"open": True}})]
            assert all(m.is_error and texts(m).startswith("Error:") for m in mistakes)
            verdict = await client.call_tool("finish", {"message": "Sorry, I could not open it."})
            assert verdict.structured_content == {"reward": 0.0, "end_reason": "terminated"}
            after = await client.call_tool("try_code", {"code": SECRET_CODE})
            assert after.is_error and "has ended" in texts(after)
            seen += [tools, task, prompt, answer, wrong, *mistakes, verdict,
                     await client.call_tool("finish", {}), await client.list_prompts()]
        log.seek(0)
        operator_log = log.read()
    seen_text = everything(*seen)
    assert SECRET_CODE not in seen_text.replace(json.dumps(SECRET_CODE), "")  # only the client's own guess
    assert SECRET_TASK_ID not in seen_text
    # the operator's log has what the client must not: the task and the explanation
    assert SECRET_TASK_ID in operator_log and f"the code was {SECRET_CODE}" in operator_log


async def test_http_sessions_each_get_their_own_episode(served_http):
    async with Client(served_http.url) as first, Client(served_http.url) as second:
        assert first.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS  # fell back to sessions
        assert "reach 3" in texts(await first.call_tool("get_task", {}))
        assert texts(await first.call_tool("add", {"n": 3})) == "counter is now 3"
        assert texts(await second.call_tool("add", {"n": 1})) == "counter is now 1"  # not 4
        results = await asyncio.gather(first.call_tool("finish", {"message": "first session"}),
                                       second.call_tool("finish", {"message": "second session"}))
    assert [r.structured_content["reward"] for r in results] == [1.0, 0.0]
    recorded: dict[str, object] = {}
    deadline = time.monotonic() + 30
    while len(recorded) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        recorded = {e.steps[-1].action.content: e for e in EpisodeStore(served_http.record).load()
                    if e.steps and e.steps[-1].action.content in ("first session", "second session")}
    first_ep, second_ep = recorded["first session"], recorded["second session"]
    assert (first_ep.reward, second_ep.reward) == (1.0, 0.0)
    assert first_ep.task_id == second_ep.task_id == "reach-3" and first_ep.env_id == "test/Counter-v0"
    assert [len(first_ep.steps), len(second_ep.steps)] == [2, 2]  # add, then finish's last word


async def test_a_session_that_leaves_mid_episode_is_recorded_as_disconnected(served_http):
    def started() -> list[str]:  # "agentgym mcp: episode N: test/Counter-v0 task reach-3 ..."
        return [line.split("episode ")[1].split(":")[0] for line in served_http.log if ": test/Counter-v0 task" in line]

    before = started()
    async with Client(served_http.url) as client:
        await client.call_tool("add", {"n": 2})
        (number,) = [n for n in started() if n not in before]
    ended = served_http.wait_for_log(f"episode {number}: ended (disconnected)")
    assert "reward 0" in ended  # scored as it stood when the client hung up


def test_requests_without_a_session_are_refused_with_the_fallback_error(served_http):
    response = httpx.post(served_http.url, json={"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {}},
                          headers={"mcp-protocol-version": "2026-07-28", "accept": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert response.json()["id"] == 7 and error["code"] == -32022
    assert set(error["data"]["supported"]) == set(HANDSHAKE_PROTOCOL_VERSIONS)


# ---- the session rules and the attacks, in process -------------------------------------------


def vault_server(**options) -> EpisodeServer:
    return EpisodeServer(agentgym.spec("test/Vault-v0"), ServeOptions(log=lambda text: None, **options))


async def test_concurrent_calls_cannot_outrun_the_step_limit():
    server = vault_server(max_steps=3)
    async with Client(server.mcp, mode="legacy") as client:
        results = await asyncio.gather(*[client.call_tool("try_code", {"code": str(i)}) for i in range(12)])
    await server.close()
    said = [texts(r) for r in results]
    assert sum(s.startswith("Wrong code.") for s in said) == 3, said  # the env's limit held
    assert "(max_steps)" in said[2] and all(s.startswith("The episode has ended.") for s in said[3:])


async def test_the_verdict_is_final_and_finish_ends_the_episode_through_the_env():
    server = vault_server()
    async with Client(server.mcp, mode="legacy") as client:
        assert texts(await client.call_tool("try_code", {"code": SECRET_CODE})) == "The vault is open."
        first = await client.call_tool("finish", {"message": "Done, your vault is open."})
        again = await client.call_tool("finish", {})
        late = await client.call_tool("try_code", {"code": "0000"})
    await server.close()
    assert first.structured_content == again.structured_content == {"reward": 1.0, "end_reason": "terminated"}
    assert late.is_error


@pytest.mark.parametrize("verdict, shows_explanation", [("value", False), ("none", False), ("full", True)])
async def test_the_explanation_reaches_the_client_only_when_the_operator_says_so(verdict, shows_explanation):
    server = vault_server(verdict=verdict)
    async with Client(server.mcp, mode="legacy") as client:
        result = await client.call_tool("finish", {})
    await server.close()
    assert (SECRET_CODE in everything(result)) is shows_explanation  # the explanation quotes the code
    assert ("reward" in (result.structured_content or {})) is (verdict != "none")


async def test_an_env_failure_stops_the_episode_without_details_for_the_client(tmp_path):
    spec = agentgym.register("test/CrashingCounter-v0", CounterEnv, kwargs={"crash_on_step": 1}, override=True)
    record = tmp_path / "episodes.jsonl"
    server = EpisodeServer(spec, ServeOptions(task_id="reach-2", record=str(record), log=lambda text: None))
    async with Client(server.mcp, mode="legacy") as client:
        assert texts(await client.call_tool("add", {"n": 1})) == "counter is now 1"
        crashed = await client.call_tool("add", {"n": 1})
        later = await client.call_tool("add", {"n": 1})
    await server.close()
    assert crashed.is_error and "infrastructure error" in texts(crashed) and "sandbox" not in texts(crashed)
    assert later.is_error
    (episode,) = EpisodeStore(record).load()
    assert episode.status == "infra_error" and "the sandbox died" in episode.error
    assert len(episode.steps) == 1


async def test_control_tools_step_aside_for_env_tools_of_the_same_name():
    from agentgym.tools import Toolbox, tool

    @tool
    def finish(answer: str, *, vault: dict) -> str:
        """Hand in an answer.

        Args:
            answer: The answer.
        """
        return "noted"

    class FinishingVault(VaultEnv):
        toolbox = Toolbox([finish])

    server = EpisodeServer(agentgym.register("test/FinishingVault-v0", FinishingVault, override=True),
                           ServeOptions(log=lambda text: None))
    async with Client(server.mcp, mode="legacy") as client:
        names = [t.name for t in (await client.list_tools()).tools]
        env_tool = await client.call_tool("finish", {"answer": "42"})
        control = await client.call_tool("agentgym_finish", {})
    await server.close()
    assert names == ["finish", "get_task", "agentgym_finish", "send_message"]
    assert texts(env_tool) == "noted" and "reward" in control.structured_content


async def test_idle_sessions_are_closed_and_scored_as_they_stand():
    said: list[str] = []
    server = EpisodeServer(agentgym.spec("test/Vault-v0"), ServeOptions(log=said.append), idle_timeout=0.05)
    async with Client(server.mcp, mode="legacy") as client:
        await client.call_tool("try_code", {"code": "1"})
        await asyncio.sleep(0.1)
        await server.end_idle_sessions()
        assert not server.episodes
    await server.close()
    assert any("ended (disconnected): reward 0" in line for line in said), said


# ---- bad input on the command line -----------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["test/Nope-v0"], "unknown env id"),
    (["test/Vault-v0", "--transport", "carrier-pigeon"], "--transport"),
    (["test/Vault-v0", "--verdict", "loud"], "--verdict"),
    (["test/Vault-v0", "--transport", "http", "--task", "no-such-task", "--port", "0"], "has no task"),
    (["test/Vault-v0", "--transport", "http", "--host", "256.1.1.1", "--port", "0"], "cannot listen"),
    (["test/Vault-v0", "--record", "/no/such/dir/episodes.jsonl"], "cannot write --record"),
    (["tooluse/Retail-v0", "--transport", "http", "--port", "0", "--tasks", "/no/such/tasks.jsonl"],
     "cannot read the task file"),
])
def test_bad_serve_options_get_one_line_and_exit_2(args, message):
    from typer.testing import CliRunner

    from agentgym.cli import app

    result = CliRunner().invoke(app, ["mcp", "serve", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
