"""The tool-env base: one turn loop, the same transcript shape, users, limits, fork, returns."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from agentgym.core.types import Action, Message, Reward, Task
from agentgym.environments.base import ToolEnv, Turn
from agentgym.tools import Toolbox, tool
from agentgym.users import UserTurn

_spec = importlib.util.spec_from_file_location("counter_example", Path(__file__).parents[2] / "examples" / "counter_env.py")
counter_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(counter_example)


@tool
def note(text: str, *, notes: list) -> str:
    """Write a note.

    Args:
        text: What to write.
    """
    notes.append(text)
    return f"{len(notes)} note(s)"


class AsyncUser:
    """An async user that answers twice, then is done; it sees the conversation so far."""

    def __init__(self):
        self.seen = []

    def opening(self) -> str:
        return "Please take notes."

    async def respond(self, agent_text, conversation):
        self.seen.append(len(conversation))
        return UserTurn(f"ok ({len(self.seen)})", done=len(self.seen) >= 2)


class NotesEnv(ToolEnv):
    toolbox = Toolbox([note])

    def __init__(self, max_steps=20, max_steps_per_turn=None, **kw):
        tasks = [Task(id="t", family="notes", prompt="Take notes.")]
        super().__init__(tasks, max_steps=max_steps, max_steps_per_turn=max_steps_per_turn)
        self.notes: list[str] = []
        self.reasons: list[str | None] = []

    async def _start(self, task, seed):
        self.notes, self.user = [], AsyncUser()
        return [Message(role="user", content=self.user.opening())]

    def tool_context(self):
        return {"notes": self.notes}

    async def step_reward(self, turn: Turn) -> Reward:
        return Reward(value=0.1 * sum(r.ok for r in turn.results))

    async def score(self):
        self.reasons.append(self.end_reason)
        return Reward(value=float(self.end_reason == "terminated" and len(self.notes) >= 1))


def call(text, i=0):
    return {"id": f"n{i}", "name": "note", "arguments": {"text": text}}


async def test_calls_run_in_order_and_text_goes_to_the_user():
    env = NotesEnv()
    await env.reset()
    r = await env.step(Action(tool_calls=[call("a", 0), call("b", 1)]))
    new = r.observation.messages[-3:]
    assert [m.role for m in new] == ["assistant", "tool", "tool"]
    assert [m.tool_call_id for m in new[1:]] == ["n0", "n1"] and env.notes == ["a", "b"]
    r = await env.step("Noted. Anything else?")
    assert r.observation.messages[-1].content == "ok (1)" and not r.terminated
    r = await env.step("Done?")
    assert r.terminated and r.info["end_reason"] == "terminated" and env.reasons == ["terminated"]


async def test_text_calls_get_ids_by_step_and_clean_text_and_errors_one_way():
    env = NotesEnv()
    await env.reset()
    r = await env.step('Sure. <tool_call>{"name": "note", "arguments": {"text": "x"}}</tool_call>'
                       '<tool_call>{"name": broken</tool_call>')
    assistant, result, error = r.observation.messages[-3:]
    assert assistant.content == "Sure." and assistant.tool_calls[0].id == "call_0_0"
    assert result.tool_call_id == "call_0_0"
    assert error.role == "user" and error.content.startswith("[environment] Error: could not read <tool_call> block 2")
    r = await env.step(Action(tool_calls=[{"id": "call_0_0", "name": "note", "arguments": {"text": "y"}}]))
    assert r.observation.messages[-2].tool_calls[0].id == "call_1_0"  # a reused native id is renumbered


async def test_one_call_per_turn_and_native_only_are_choices_of_the_env():
    class Strict(NotesEnv):
        max_calls_per_turn = 1
        text_tool_calls = False

    env = Strict()
    await env.reset()
    r = await env.step(Action(tool_calls=[call("a", 0), call("b", 1)]))
    assert env.notes == ["a"] and r.observation.messages[-1].content.startswith("Not run: only 1 tool call")
    r = await env.step('<tool_call>{"name": "note", "arguments": {"text": "z"}}</tool_call>')
    assert env.notes == ["a"]  # text that looks like a call stays text: it went to the user
    assert r.observation.messages[-1].content == "ok (1)"


async def test_the_per_turn_step_limit_truncates_and_score_knows_why():
    env = NotesEnv(max_steps_per_turn=2)
    await env.reset()
    await env.step(Action(tool_calls=[call("a")]))
    r = await env.step(Action(tool_calls=[call("b")]))
    assert r.truncated and not r.terminated and r.info["end_reason"] == "max_steps_per_turn"
    assert r.info["outcome"]["value"] == 0.0  # the env refused credit to a cut conversation
    env = NotesEnv(max_steps_per_turn=2)
    await env.reset()
    await env.step(Action(tool_calls=[call("a")]))
    await env.step("Anything else?")  # the user answered: the count starts again
    r = await env.step(Action(tool_calls=[call("b")]))
    assert not r.truncated


async def test_step_rewards_sum_to_the_outcome_unless_returns_are_earned():
    class Earned(NotesEnv):
        returns = "earned"

    for cls, expected in ((NotesEnv, 1.0), (Earned, 0.1)):
        env = cls()
        await env.reset()
        total = 0.0
        for action in (Action(tool_calls=[call("a")]), "A?", "B?"):
            r = await env.step(action)
            total += r.reward.value
        assert r.info["outcome"]["value"] == 1.0 and total == pytest.approx(expected)


async def test_fork_deep_copies_state_by_default():
    env = NotesEnv()
    await env.reset()
    await env.step(Action(tool_calls=[call("a")]))
    child = await env.fork()
    await child.step(Action(tool_calls=[call("child")]))
    assert env.notes == ["a"] and child.notes == ["a", "child"]
    assert env.user is not child.user and env.toolbox is child.toolbox  # declared shared


async def test_the_smallest_example_env_passes_agentgym_check():
    import agentgym
    from agentgym.conformance import run_checks

    spec = agentgym.register("example/Counter-v0", counter_example.CounterEnv, override=True)
    results = await run_checks(spec, n_tasks=5)
    assert [r.status for r in results] == ["pass"] * 7, results


FAMILIES = [
    pytest.param("tooluse/Retail-v0", id="tooluse"),
    pytest.param("swe/Mutants-v1", marks=[pytest.mark.bwrap, pytest.mark.slow], id="swe"),
    pytest.param("web/Shop-v0", marks=[pytest.mark.browser, pytest.mark.slow], id="web"),
]


def shape(messages):
    """Roles, ids and the first words of each message: what must not differ between families."""
    return [(m.role, [c.id for c in m.tool_calls], m.tool_call_id, (m.content or "").split(":")[0][:40])
            for m in messages]


@pytest.mark.parametrize("env_id", FAMILIES)
async def test_every_family_has_the_same_transcript_shape(env_id):
    import agentgym

    if env_id.startswith("web/"):
        from tests.environments.web.conftest import require_browser

        require_browser()
    env = agentgym.make_async(env_id)
    try:
        obs, _ = await env.reset(seed=0)
        seen = len(obs.messages)
        steps = [
            '<tool_call>{"name": broken</tool_call>',
            '<tool_call>{"name": "no_such_tool", "arguments": {}}</tool_call>',
            Action(tool_calls=[{"id": "mine", "name": "no_such_tool", "arguments": {}}]),
        ]
        shapes = []
        for action in steps:
            r = await env.step(action)
            shapes.append(shape(r.observation.messages[seen:]))
            seen = len(r.observation.messages)
    finally:
        await env.close()
        from agentgym.core.shutdown import release_shared

        await release_shared()
    assert shapes == [
        [("assistant", [], None, ""), ("user", [], None, "[environment] Error")],
        [("assistant", ["call_1_0"], None, ""), ("tool", [], "call_1_0", "Error")],
        [("assistant", ["mine"], None, ""), ("tool", [], "mine", "Error")],
    ]


@pytest.mark.bwrap
async def test_the_sandbox_example_passes_agentgym_check():
    import shutil

    import agentgym
    from agentgym.conformance import run_checks
    from tests.sandbox.conftest import need
    need(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    spec_ = importlib.util.spec_from_file_location("sandbox_example", Path(__file__).parents[2] / "examples" / "sandbox_env.py")
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    spec = agentgym.register("example/Script-v0", module.ScriptEnv, override=True)
    results = await run_checks(spec, n_tasks=2)
    assert [r.status for r in results] == ["pass"] * 7, results
