import pytest

from agentgym.core.types import Action, Episode, Message, Reward, TokenUsage


def test_action_from_openai_message_dict():
    a = Action.coerce({"role": "assistant", "content": "hi", "tool_calls": [
        {"id": "x", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}]})
    assert a.content == "hi" and a.tool_calls[0].arguments == {"a": 1} and a.tool_calls[0].id == "x"


def test_action_rejects_other_types():
    with pytest.raises(TypeError, match="an action is"):
        Action.coerce(42)


def test_message_round_trips_to_openai_format():
    m = Message(role="assistant", content=None,
                tool_calls=[{"id": "c", "name": "f", "arguments": {"x": "y"}}])
    out = m.to_openai()
    assert out["tool_calls"][0] == {"id": "c", "type": "function",
                                    "function": {"name": "f", "arguments": '{"x": "y"}'}}


def test_episode_success_ignores_infra_errors():
    ok = Episode(env_id="e/A-v0", task_id="t", policy="p", outcome=Reward(value=1.0))
    broken = Episode(env_id="e/A-v0", task_id="t", policy="p", status="infra_error")
    assert ok.success and not broken.success and broken.reward == 0.0


def test_token_usage_adds():
    assert (TokenUsage(prompt_tokens=1, completion_tokens=2) + TokenUsage(prompt_tokens=3)).total_tokens == 6
