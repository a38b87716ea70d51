"""OpenAIPolicy against a real HTTP server that speaks the chat-completions protocol."""

from __future__ import annotations

import time

import pytest

from agentgym.core.errors import EndpointError
from agentgym.core.types import RAW_ARGUMENTS_KEY, Message, Observation, ToolCall, ToolSpec
from agentgym.policies.base import act
from agentgym.policies.openai import (
    PLACEHOLDER_API_KEY,
    Backoff,
    OpenAIPolicy,
)
from tests.fakes.openai_server import FakeOpenAIServer, error, text, tool_call

FAST = Backoff(initial=0.01, maximum=0.05)

GET_ORDER = ToolSpec(
    name="get_order",
    description="Look up an order.",
    parameters={
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
)


def observation() -> Observation:
    return Observation(
        messages=[
            Message(role="system", content="You help customers."),
            Message(role="user", content="Where is order #W0001?"),
            Message(
                role="assistant",
                content=None,
                tool_calls=[
                    ToolCall(id="call_a", name="get_order", arguments={"order_id": "#W0001"})
                ],
            ),
            Message(
                role="tool",
                content='{"status": "shipped"}',
                tool_call_id="call_a",
                name="get_order",
            ),
        ]
    )


def policy(server: FakeOpenAIServer, **kwargs) -> OpenAIPolicy:
    kwargs.setdefault("backoff", FAST)
    return OpenAIPolicy("fake-model", base_url=server.base_url, **kwargs)


async def test_plain_text_reply_with_usage(openai_server):
    openai_server.push(text("It has shipped.", usage={"prompt_tokens": 40, "completion_tokens": 4}))
    action = await act(policy(openai_server), observation(), [GET_ORDER])
    assert action.content == "It has shipped."
    assert action.tool_calls == []
    assert action.usage is not None
    assert (action.usage.prompt_tokens, action.usage.completion_tokens) == (40, 4)


async def test_request_carries_messages_and_tools_in_openai_format(openai_server):
    openai_server.push(text("ok"))
    await act(policy(openai_server, temperature=0.3, max_tokens=64), observation(), [GET_ORDER])
    (body,) = openai_server.requests
    assert body["model"] == "fake-model"
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 64
    assert body["tools"] == [GET_ORDER.to_openai()]
    assert body["messages"] == [m.to_openai() for m in observation().messages]
    assistant = body["messages"][2]
    assert assistant["tool_calls"][0]["function"] == {
        "name": "get_order",
        "arguments": '{"order_id": "#W0001"}',
    }
    assert body["messages"][3]["tool_call_id"] == "call_a"


async def test_no_tools_means_no_tools_field(openai_server):
    openai_server.push(text("ok"))
    await act(policy(openai_server), observation(), [])
    assert "tools" not in openai_server.requests[0]


async def test_tool_calls_are_parsed(openai_server):
    openai_server.push(tool_call("get_order", {"order_id": "#W0002"}, content="Checking."))
    action = await act(policy(openai_server), observation(), [GET_ORDER])
    assert action.content == "Checking."
    (call,) = action.tool_calls
    assert call.name == "get_order"
    assert call.arguments == {"order_id": "#W0002"}
    assert call.id == "call_0_get_order"
    assert action.usage is not None and action.usage.completion_tokens > 0


@pytest.mark.parametrize("raw", ['{"order_id": "#W0002"', "[1, 2]"])
async def test_arguments_that_are_not_a_json_object_are_kept_raw(openai_server, raw):
    openai_server.push(tool_call("get_order", raw))
    action = await act(policy(openai_server), observation(), [GET_ORDER])
    (call,) = action.tool_calls
    assert call.name == "get_order"
    assert call.arguments == {RAW_ARGUMENTS_KEY: raw}


async def test_429_with_retry_after_is_retried(openai_server):
    openai_server.push(error(429, "slow down", retry_after=0.2), text("done"))
    started = time.monotonic()
    action = await act(policy(openai_server), observation(), [])
    assert action.content == "done"
    assert len(openai_server.requests) == 2
    assert time.monotonic() - started >= 0.2  # Retry-After was honoured, not the 10 ms backoff


async def test_a_long_retry_after_falls_back_to_our_backoff(openai_server):
    openai_server.push(error(429, "come back in an hour", retry_after=3600), text("done"))
    started = time.monotonic()
    assert (await act(policy(openai_server), observation(), [])).content == "done"
    assert time.monotonic() - started < 5  # not the hour the server asked for


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    import random

    backoff, rng = Backoff(initial=1.0, maximum=5.0, max_retry_after=10.0), random.Random(0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 5.0), (8, 5.0)]:
        delays = [backoff.delay(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert backoff.delay(0, rng, retry_after=7.0) == 7.0
    assert backoff.delay(0, rng, retry_after=11.0) <= 1.0


async def test_5xx_until_retries_run_out_raises_endpoint_error(openai_server):
    openai_server.push(*[error(500, "boom")] * 2, *[error(503, "overloaded")] * 2)
    with pytest.raises(EndpointError, match=r"after 4 attempts: HTTP 503: overloaded"):
        await act(policy(openai_server, max_retries=3), observation(), [])
    assert len(openai_server.requests) == 4


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_client_errors_are_not_retried(openai_server, status):
    openai_server.push(error(status, "model 'x' does not exist"), text("never sent"))
    with pytest.raises(
        EndpointError, match=rf"refused the request: HTTP {status}: model 'x' does not exist"
    ):
        await act(policy(openai_server), observation(), [])
    assert len(openai_server.requests) == 1


async def test_timeout_is_retried(openai_server):
    openai_server.push(text("late").with_delay(5.0))
    openai_server.responder = lambda request: "on time"
    action = await act(policy(openai_server, timeout=0.5), observation(), [])
    assert action.content == "on time"
    assert len(openai_server.requests) >= 2


async def test_timeouts_until_retries_run_out(openai_server):
    openai_server.push(*[text("late").with_delay(2.0)] * 2)
    with pytest.raises(EndpointError, match="no reply within 0.2s"):
        await act(policy(openai_server, timeout=0.2, max_retries=1), observation(), [])


async def test_connection_refused_is_an_endpoint_error():
    with FakeOpenAIServer() as server:
        url = server.base_url  # a port that is closed once the server stops
    dead = OpenAIPolicy("fake-model", base_url=url, max_retries=2, backoff=FAST)
    with pytest.raises(EndpointError, match="after 3 attempts: connection failed"):
        await act(dead, observation(), [])


async def test_env_vars_are_honoured_and_a_placeholder_key_is_sent(openai_env):
    openai_env.push(text("hi"))
    local = OpenAIPolicy("fake-model", backoff=FAST)
    assert local.name == "openai:fake-model"
    assert (await act(local, observation(), [])).content == "hi"
    assert openai_env.calls[-1].headers["authorization"] == f"Bearer {PLACEHOLDER_API_KEY}"


async def test_responder_scripts_replies_when_the_queue_is_empty(openai_server):
    seen = []

    def responder(request):
        seen.append(len(request["messages"]))
        return f"reply {len(seen)}"

    openai_server.responder = responder
    p = policy(openai_server)
    assert (await act(p, observation(), [])).content == "reply 1"
    assert (await act(p, observation(), [])).content == "reply 2"
    assert seen == [4, 4]


async def test_unscripted_server_fails_loudly(openai_server):
    with pytest.raises(EndpointError, match="no scripted reply"):
        await act(policy(openai_server), observation(), [])


def test_models_endpoint_lists_the_fake_model(openai_server):
    import openai

    client = openai.OpenAI(base_url=openai_server.base_url, api_key="x", max_retries=0)
    assert [m.id for m in client.models.list()] == ["fake-model"]


def test_policy_survives_separate_event_loops(openai_server):
    import asyncio

    openai_server.responder = lambda request: "again"
    p = policy(openai_server)
    for _ in range(2):  # the sync gym facade runs each step in a fresh loop
        assert asyncio.run(act(p, observation(), [])).content == "again"


async def test_responder_drives_a_whole_episode_in_a_real_env(openai_server):
    from tests.core.counter_env import CounterEnv

    def responder(request):
        last = request["messages"][-1]
        if last["role"] == "tool":
            return text(f"Finished: {last['content']}")
        target = int(last["content"].split("reach ")[1].rstrip("."))
        assert request["tools"][0]["function"]["name"] == "add"
        return tool_call("add", {"n": target})

    openai_server.responder = responder
    env, agent = CounterEnv(), policy(openai_server)
    obs, _ = await env.reset(options={"task_id": "reach-4"})
    while not env.done:
        result = await env.step(await act(agent, obs, env.tools))
        obs = result.observation
    assert result.info["outcome"]["value"] == 1.0
    assert obs.messages[-1].content == "Finished: counter is now 4"
    assert len(openai_server.requests) == 2


async def test_records_are_token_exact_when_the_server_gives_tokens(openai_server):
    from tests.fakes.openai_server import fake_logprob, fake_tokenize, render_prompt

    openai_server.push(tool_call("get_order", {"order_id": "#W0002"}, content="Checking."))
    p = policy(openai_server, temperature=0.7, top_p=0.9, seed=3,
               extra_body={"return_token_ids": True, "top_k": 20})
    action = await act(p, observation(), [GET_ORDER])
    (body,) = openai_server.requests
    assert body["logprobs"] is True and body["return_token_ids"] is True and body["top_k"] == 20
    gen = action.generation
    assert gen.model == "fake-model" and gen.endpoint == openai_server.base_url
    assert gen.params == {"temperature": 0.7, "top_p": 0.9, "seed": 3, "logprobs": True,
                          "return_token_ids": True, "top_k": 20}
    assert gen.finish_reason == "tool_calls"
    (sent,) = openai_server.completions
    assert gen.completion_token_ids == sent["choices"][0]["token_ids"]
    assert gen.prompt_token_ids == fake_tokenize(render_prompt(body["messages"]))
    assert gen.logprobs == [fake_logprob(t) for t in gen.completion_token_ids]
    assert len(gen.logprobs) == len(gen.completion_token_ids) > 0


async def test_logprobs_alone_and_vllm_token_id_strings(openai_server):
    openai_server.push(text("fine"))
    action = await act(policy(openai_server), observation(), [])
    assert action.generation.logprobs and action.generation.completion_token_ids is None
    assert action.generation.finish_reason == "stop"

    # vLLM's return_tokens_as_token_ids names each sampled token "token_id:<id>"
    from agentgym.policies.openai import generation_record

    class Obj:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    content = [Obj(token=f"token_id:{i}", logprob=-0.5) for i in (17, 4, 99)]
    completion = Obj(model="m", choices=[Obj(logprobs=Obj(content=content), finish_reason="length")])
    gen = generation_record(completion, "m", "http://x/v1", {})
    assert gen.completion_token_ids == [17, 4, 99] and gen.finish_reason == "length"


async def test_logprobs_can_be_turned_off_and_unknown_sampling_fields_are_refused(openai_server):
    openai_server.push(text("ok"))
    await act(policy(openai_server, logprobs=False), observation(), [])
    assert "logprobs" not in openai_server.requests[0] and "temperature" not in openai_server.requests[0]
    with pytest.raises(ValueError, match="temprature"):
        policy(openai_server, temprature=1.0)


async def test_the_probe_stops_a_run_on_a_missing_model_or_a_dead_endpoint():
    from agentgym.core.errors import UserInputError

    with FakeOpenAIServer(models=("fake-model", "other")) as server:
        with pytest.raises(UserInputError, match="does not serve model 'no-such-model'.*fake-model"):
            await OpenAIPolicy("no-such-model", base_url=server.base_url, backoff=FAST).probe()
        await OpenAIPolicy("fake-model", base_url=server.base_url, backoff=FAST).probe()
        assert server.requests == []  # the model list is enough: no tokens spent
        url = server.base_url
    with pytest.raises(UserInputError, match="cannot reach"):
        await OpenAIPolicy("fake-model", base_url=url, backoff=FAST).probe()


async def test_the_probe_falls_back_to_a_chat_request_without_a_models_route(openai_server):
    from agentgym.core.errors import UserInputError

    openai_server.models_route = False
    openai_server.strict_models = True
    with pytest.raises(UserInputError, match="does not exist"):
        await OpenAIPolicy("missing", base_url=openai_server.base_url, backoff=FAST).probe()
    assert len(openai_server.requests) == 1  # a 404 is not retried
    openai_server.push(text("OK"))
    await OpenAIPolicy("fake-model", base_url=openai_server.base_url, backoff=FAST).probe()


async def test_episodes_share_one_client(openai_server):
    import copy

    p = policy(openai_server)
    openai_server.push(text("a"), text("b"))
    first, second = copy.copy(p), copy.copy(p)  # what the runner does per episode
    await act(first, observation(), [])
    await act(second, observation(), [])
    assert len(p._clients) == 1
