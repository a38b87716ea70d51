import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import agentgym
from agentgym.core.errors import SandboxError, UserInputError
from tests.core.counter_env import CounterEnv


def call(name, **arguments):
    return {"role": "assistant", "content": None,
            "tool_calls": [{"id": "c1", "type": "function",
                            "function": {"name": name, "arguments": __import__("json").dumps(arguments)}}]}


def test_facade_passes_gymnasium_check_env():
    env = agentgym.make("test/Counter-v0")
    assert isinstance(env, gymnasium.Env)
    check_env(env.unwrapped)
    env.close()


def test_facade_episode_return_equals_verified_outcome():
    env = agentgym.make("test/Counter-v0")
    obs, info = env.reset(seed=0, options={"task_id": "reach-3"})
    assert obs["messages"][-1] == {"role": "user", "content": "Make the counter reach 3."}
    assert env.tools[0]["function"]["name"] == "add"
    total = 0.0
    for action in (call("add", n=2), call("add", n=5), call("add", n=-4), "all done"):
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
    assert terminated and not truncated
    assert info["outcome"]["value"] == 1.0
    assert total == pytest.approx(1.0)
    env.close()


def test_outcome_reward_mode_pays_only_at_the_end():
    env = agentgym.make("test/Counter-v0", reward="outcome")
    env.reset(seed=0, options={"task_id": "reach-2"})
    _, r1, *_ = env.step(call("add", n=2))
    _, r2, terminated, _, _ = env.step("done")
    assert (r1, r2, terminated) == (0.0, 1.0, True)


def test_step_reward_scores_progress_as_it_happens():
    env = agentgym.make("test/Counter-v0")
    env.reset(seed=0, options={"task_id": "reach-4"})
    _, good, *_ = env.step(call("add", n=2))
    _, bad, *_ = env.step(call("add", n=-1))
    assert good == pytest.approx(0.5) and bad == pytest.approx(-0.25)


def test_truncation_at_max_steps_still_scores_the_outcome():
    env = agentgym.make("test/Counter-v0", max_steps=2)
    env.reset(seed=0, options={"task_id": "reach-5"})
    env.step(call("add", n=1))
    _, _, terminated, truncated, info = env.step(call("add", n=1))
    assert truncated and not terminated
    assert info["outcome"]["value"] == 0.0 and info["outcome"]["components"]["value"] == 2


def test_agent_mistakes_are_observations_not_exceptions():
    env = agentgym.make("test/Counter-v0")
    env.reset(seed=0, options={"task_id": "reach-1"})
    obs, _, terminated, _, _ = env.step(call("add", n=99))
    assert "n must be between -10 and 10" in obs["messages"][-1]["content"] and not terminated
    obs, _, terminated, _, _ = env.step(call("ad", n=1))
    assert "unknown tool 'ad'" in obs["messages"][-1]["content"] and "Did you mean add" in obs["messages"][-1]["content"]
    obs, _, terminated, _, _ = env.step(call("add", n="many"))
    assert "invalid arguments for add: n:" in obs["messages"][-1]["content"] and not terminated
    obs, _, terminated, _, _ = env.step("<tool_call>{not json</tool_call>")
    assert "could not read <tool_call> block 1" in obs["messages"][-1]["content"] and not terminated


def test_text_tool_calls_are_recorded_as_structured_calls():
    env = agentgym.make("test/Counter-v0")
    env.reset(seed=0, options={"task_id": "reach-1"})
    obs, *_ = env.step('Sure. <tool_call>{"name": "add", "arguments": {"n": 1}}</tool_call>')
    assistant, tool_msg = obs["messages"][-2], obs["messages"][-1]
    assert assistant["content"] == "Sure."
    assert assistant["tool_calls"][0]["function"]["name"] == "add"
    assert tool_msg["tool_call_id"] == assistant["tool_calls"][0]["id"]
    assert tool_msg["content"] == "counter is now 1"


async def test_fork_gives_independent_state_and_history():
    env = CounterEnv()
    await env.reset(options={"task_id": "reach-3"})
    await env.step(call("add", n=1))
    child = await env.fork()
    await child.step(call("add", n=2))
    assert (env.state["value"], child.state["value"]) == (1, 3)
    assert len(child.messages) == len(env.messages) + 2
    assert (await child.score()).value == 1.0 and (await env.score()).value == 0.0


async def test_unknown_task_and_misuse_are_clear_errors():
    env = CounterEnv()
    with pytest.raises(UserInputError, match="has no task 'nope'"):
        await env.reset(options={"task_id": "nope"})
    with pytest.raises(RuntimeError, match="reset"):
        await env.step("hi")
    await env.reset(options={"task_id": "reach-1"})
    await env.step("bye")
    with pytest.raises(RuntimeError, match="ended"):
        await env.step("again")


async def test_infrastructure_failure_raises_typed_error():
    env = CounterEnv(crash_on_step=0)
    await env.reset(options={"task_id": "reach-1"})
    with pytest.raises(SandboxError):
        await env.step("hi")


def test_seed_picks_the_task_reproducibly():
    env = agentgym.make("test/Counter-v0")
    a = env.reset(seed=7)[1]["task_id"]
    b = env.reset(seed=7)[1]["task_id"]
    assert a == b


def test_render_ansi_shows_the_conversation():
    env = agentgym.make("test/Counter-v0", render_mode="ansi")
    env.reset(seed=0, options={"task_id": "reach-1"})
    env.step(call("add", n=1))
    text = env.render()
    assert "[user] Make the counter reach 1." in text and "add({'n': 1})" in text


def test_malformed_native_arguments_are_the_agents_mistake_not_a_crash():
    env = agentgym.make("test/Counter-v0")
    env.reset(seed=0, options={"task_id": "reach-1"})
    action = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"n": 1'}}]}
    obs, _, terminated, _, _ = env.step(action)
    assert not terminated
    assert obs["messages"][-1]["content"] == 'Error: the arguments of add are not a JSON object: {"n": 1'
