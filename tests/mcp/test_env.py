"""MCPEnv driving a real MCP server process (the example notes server): episodes scored on the
server's end state, the oracle, the agent's mistakes as observations, infrastructure failures as
InfraError, bad configuration as one clear error, and the attacks a reward-seeking agent would try."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from agentgym.conformance import run_checks
from agentgym.core.errors import InfraError, UserInputError, VerifierError
from agentgym.core.taskfile import read_tasks
from agentgym.core.types import Action, Episode, Reward, Task
from agentgym.mcp.client import MCPServerError
from agentgym.mcp.env import MCPEnv
from agentgym.mcp.remote import MAX_RESULT_CHARS, clip
from agentgym.policies.oracle import OraclePolicy
from agentgym.rollout.runner import Job, run_episode, run_with_retries
from agentgym.verifiers.base import Verifier
from tests.mcp.conftest import NOTES, NOTES_SERVER, children, load_notes_example

TASKS = str(NOTES / "tasks.jsonl")


def notes_env(**kwargs) -> MCPEnv:
    kwargs.setdefault("hide_tools", ["export_notes"])
    return MCPEnv(NOTES_SERVER, kwargs.pop("tasks", TASKS), **kwargs)


def call(name: str, **arguments) -> Action:
    return Action(tool_calls=[{"name": name, "arguments": arguments}])


async def play(env: MCPEnv, task_id: str, actions: list[Action]):
    await env.reset(options={"task_id": task_id})
    result = None
    for action in actions:
        result = await env.step(action)
        if result.terminated or result.truncated:
            break
    return result


# ---- the example env -------------------------------------------------------------------------


def test_the_example_env_passes_agentgym_check():
    spec = load_notes_example().register()
    results = {r.name: r for r in asyncio.run(run_checks(spec, n_tasks=2))}
    failed = {name: r.detail for name, r in results.items() if r.status == "fail"}
    assert not failed, failed
    assert results["oracle"].status == "pass" and results["no-op"].status == "pass"
    assert results["fork"].status == "skip"  # a live server process cannot be copied


async def test_an_episode_is_scored_on_the_servers_end_state():
    env = notes_env()
    try:
        wrong = await play(env, "notes-add", [
            call("add_note", title="Groceries", body="milk, eggs, bread", tags=["shopping"]), Action(content="Done.")])
        assert wrong.terminated and wrong.info["outcome"]["value"] == 0.0
        assert "tags" in wrong.info["outcome"]["explanation"]  # says what differs
        right = await play(env, "notes-add", [
            call("add_note", title="Groceries", body="milk, eggs, bread", tags=["home"]), Action(content="Done.")])
        assert right.info["outcome"] == {**right.info["outcome"], "value": 1.0, "source": "mcp_state"}
    finally:
        await env.close()


async def test_each_episode_gets_a_fresh_server():
    env = notes_env()
    try:
        await play(env, "notes-delete", [call("add_note", title="Leftover", body="from episode one")])
        first_server = set(children())
        await env.reset(options={"task_id": "notes-delete"})
        state = await env.read_state("export_notes")
        assert [n["title"] for n in state["notes"]] == ["Monday", "Team sync", "Book club"]  # setup only
        assert not first_server & set(children())  # the first episode's process is gone
    finally:
        await env.close()
    assert not children()


async def test_the_agents_mistakes_are_observations():
    env = notes_env()
    try:
        await env.reset(options={"task_id": "notes-edit"})
        for action, expected in [
            (call("read_note", id=99), "Error: no note with id 99"),  # the server's tool error
            (call("read_note", id="first"), "Error: invalid arguments for read_note"),  # our validation
            (call("rename_note", id=1), "Error: unknown tool 'rename_note'"),
        ]:
            result = await env.step(action)
            assert result.observation.messages[-1].content.startswith(expected), result.observation.messages[-1]
            assert not (result.terminated or result.truncated)
        result = await env.step(call("read_note", id=1))
        assert '"title": "Report"' in result.observation.messages[-1].content
    finally:
        await env.close()


# ---- what a reward-seeking agent would try ----------------------------------------------------


async def test_the_verifiers_tool_is_out_of_the_agents_reach():
    env = notes_env()
    try:
        await env.reset(options={"task_id": "notes-add"})
        assert "export_notes" not in [t.name for t in env.tools]
        hidden = await env.step(call("export_notes"))
        assert hidden.observation.messages[-1].content.startswith("Error: unknown tool 'export_notes'")
        # the connection the tools are bound to is the env's, not an argument the agent can set
        smuggled = await env.step(call("add_note", title="x", body="y", _mcp="elsewhere"))
        assert "Extra inputs are not permitted" in smuggled.observation.messages[-1].content
        assert (await env.read_state("export_notes")) == {"notes": []}
    finally:
        await env.close()


@pytest.mark.parametrize("actions", [
    [Action(content="I cannot help with that.")],  # no-op
    [call("add_note", title="Groceries", body="milk, eggs, bread", tags=["home"]),  # the task, twice over
     call("add_note", title="Groceries", body="milk, eggs, bread", tags=["home"]), Action(content="Done.")],
    [call("add_note", title="Groceries", body="milk, eggs, bread", tags=["home", "shopping", "food", "todo"]),
     Action(content="Done.")],  # hedging: every tag it can think of
])
async def test_no_op_overdoing_and_hedging_score_zero(actions):
    env = notes_env()
    try:
        result = await play(env, "notes-add", actions)
        assert result.info["outcome"]["value"] == 0.0
    finally:
        await env.close()


def test_tool_results_are_bounded():
    text = "x" * (MAX_RESULT_CHARS * 3)
    clipped = clip(text)
    assert len(clipped) < MAX_RESULT_CHARS + 100 and "characters cut" in clipped


# ---- infrastructure failures ------------------------------------------------------------------


async def test_a_server_that_dies_mid_episode_is_an_infra_error():
    env = notes_env()
    try:
        await env.reset(options={"task_id": "notes-add"})
        (pid,) = children()
        os.kill(pid, signal.SIGKILL)  # killed from outside, as an OOM killer would
        with pytest.raises(InfraError, match="MCP server"):
            await env.step(call("list_notes"))
    finally:
        await env.close()
    assert not children()


class KillsTheServer:
    """A policy that (standing in for the outside world) kills the server after its first call."""

    name = "killer"

    def act(self, observation, tools):
        if len(observation.messages) > 2:
            for pid in children():
                os.kill(pid, signal.SIGKILL)
        return call("list_notes")


async def test_the_runner_records_a_dead_server_as_infra_error():
    episode = await run_with_retries(lambda: notes_env(), KillsTheServer(), Job("notes-add"), retries=0)
    assert episode.status == "infra_error" and "MCP server" in episode.error
    assert not children()


async def test_a_server_that_exits_at_start_says_why():
    env = MCPEnv([sys.executable, "-c", "import sys; sys.stderr.write('no config file found\\n'); sys.exit(3)"],
                 TASKS)
    with pytest.raises(MCPServerError, match="no config file found"):
        await env.reset()
    await env.close()


@pytest.mark.parametrize("server, message", [
    ("no-such-mcp-server --stdio", "command not found"),
    ("ftp://example.com/mcp", "not an MCP server URL"),
    ("", "empty"),
    ({"command": "python3", "argz": []}, "unknown field"),
    ({"url": "http://x", "command": "python3"}, "not both"),
])
def test_bad_commands_and_urls_are_user_errors(server, message):
    with pytest.raises(UserInputError, match=message):
        MCPEnv(server, TASKS)


# ---- verifiers and checks ---------------------------------------------------------------------


async def one_note(env):
    return len((await env.read_state("export_notes"))["notes"]) == 1


def broken_check(env):
    raise KeyError("expected")


class AddedANote(Verifier):
    """A verifier that reads only the episode record: did a call to add_note succeed?"""

    name = "added_a_note"
    privileged = False

    async def score_episode(self, episode: Episode, task: Task, env=None) -> Reward:
        ok = any(c.name == "add_note" and not r.content.startswith("Error")
                 for s in episode.steps for c, r in zip(s.action.tool_calls, s.tool_results, strict=True))
        return Reward(value=float(ok), explanation=f"{len(episode.steps)} steps")


@pytest.mark.parametrize("scoring", [{"check": one_note}, {"check": "tests.mcp.test_env:one_note"},
                                     {"verifier": AddedANote()}])
async def test_a_check_or_a_registry_verifier_scores_instead(scoring):
    tasks = [Task(id="one", family="mcp", prompt="Add any note.")]
    env = notes_env(tasks=tasks, **scoring)
    try:
        result = await play(env, "one", [call("add_note", title="a", body="b"), Action(content="Done.")])
        assert result.info["outcome"]["value"] == 1.0
        assert (await play(env, "one", [Action(content="Done.")])).info["outcome"]["value"] == 0.0
    finally:
        await env.close()


async def test_a_check_that_fails_is_a_verifier_error_not_a_zero():
    env = notes_env(tasks=[Task(id="one", family="mcp", prompt="Add any note.")], check=broken_check)
    try:
        await env.reset()
        with pytest.raises(VerifierError, match="broken_check"):
            await env.step(Action(content="Done."))
    finally:
        await env.close()


@pytest.mark.parametrize("kwargs, message", [
    ({"tasks": [Task(id="t", family="mcp", prompt="p")]}, "nothing scores"),
    ({"check": one_note, "verifier": "mcp_state:export_notes"}, "not both"),
    ({"verifier": "execution"}, "its own verdict"),
    ({"verifier": "mcp_state"}, "needs the tool"),
    ({"verifier": "no_such_verifier"}, "unknown verifier"),
    ({"check": "tests.mcp.test_env:nothing_here"}, "cannot load the check"),
    ({"tasks": NOTES / "missing.jsonl"}, "cannot read the task file"),
])
def test_bad_scoring_options_are_user_errors(kwargs, message):
    with pytest.raises(UserInputError, match=message):
        notes_env(**kwargs)


async def test_a_misspelt_hidden_tool_is_refused_rather_than_left_to_the_agent():
    env = notes_env(hide_tools=["export_note"])
    with pytest.raises(UserInputError, match="export_note, which the MCP server does not offer"):
        await env.reset()
    await env.close()


async def test_a_failing_setup_call_names_the_task():
    tasks = [Task(id="broken-setup", family="mcp", prompt="p",
                  data={"setup": [{"name": "read_note", "arguments": {"id": 5}}]})]
    env = notes_env(tasks=tasks, check=one_note)
    with pytest.raises(UserInputError, match="broken-setup.*setup call read_note failed: no note with id 5"):
        await env.reset()
    await env.close()


@pytest.mark.parametrize("task_id", [t.id for t in read_tasks(TASKS)])
async def test_the_oracle_solves_every_example_task_through_the_server(task_id):
    env = notes_env()
    episode = await run_episode(env, OraclePolicy(), task_id)
    await env.close()
    assert episode.success, episode.outcome
    assert all(s.tool_results and not s.tool_results[0].content.startswith("Error") for s in episode.steps[:-1])
