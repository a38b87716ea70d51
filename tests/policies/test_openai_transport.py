"""The chat policy's HTTP transport: replies that are not chat completions, a session per event
loop closed with its loop, and a policy that travels to another process without its sessions."""

from __future__ import annotations

import asyncio
import pickle

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from agentgym.core.errors import EndpointError
from agentgym.core.types import Message, Observation
from agentgym.policies.base import act
from agentgym.policies.openai import Backoff, OpenAIPolicy
from tests.fakes.openai_server import text

FAST = Backoff(initial=0.01, maximum=0.05)
HELLO = Observation(messages=[Message(role="user", content="Hello?")])


@pytest.fixture
async def odd_server():
    """A real HTTP server whose /v1/chat/completions answers whatever the test sets."""
    state = {"status": 200, "body": b"", "calls": 0}

    async def reply(request):
        state["calls"] += 1
        return web.Response(status=state["status"], body=state["body"],
                            content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", reply)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state["url"] = str(server.make_url("/v1"))
    yield state
    await server.close()


@pytest.mark.parametrize("body", [b"<html>gateway</html>", b"[1, 2]",
                                  b'{"choices": [{"message": "not an object"}]}'])
async def test_a_reply_that_is_not_a_chat_completion_is_an_endpoint_error(odd_server, body):
    odd_server["body"] = body
    policy = OpenAIPolicy("m", base_url=odd_server["url"], backoff=FAST)
    with pytest.raises(EndpointError) as raised:
        await act(policy, HELLO, [])
    assert not raised.value.retryable and odd_server["calls"] == 1  # asking again would not help
    await policy.aclose()


async def test_no_choices_is_an_endpoint_error(odd_server):
    odd_server["body"] = b'{"choices": []}'
    policy = OpenAIPolicy("m", base_url=odd_server["url"], backoff=FAST)
    with pytest.raises(EndpointError, match="no choices"):
        await act(policy, HELLO, [])
    await policy.aclose()


async def test_an_error_page_without_json_still_says_what_the_server_said(odd_server):
    odd_server["status"], odd_server["body"] = 502, b"upstream timed out"
    policy = OpenAIPolicy("m", base_url=odd_server["url"], backoff=FAST, max_retries=1)
    with pytest.raises(EndpointError, match="after 2 attempts: HTTP 502: upstream timed out"):
        await act(policy, HELLO, [])
    await policy.aclose()


def test_the_session_of_a_loop_is_closed_when_asyncio_run_ends(openai_server):
    openai_server.responder = lambda request: text("hi")
    policy = OpenAIPolicy("fake-model", base_url=openai_server.base_url, backoff=FAST)
    sessions = []

    async def one_call():
        await act(policy, HELLO, [])
        sessions.extend(session for _, session in policy._clients.values())

    for _ in range(2):  # as the sync facade's callers may do: a fresh loop each time
        asyncio.run(one_call())
    assert len(sessions) == 2 and all(session.closed for session in sessions)


async def test_a_pickled_policy_opens_its_own_session_and_keeps_its_settings(openai_server):
    openai_server.responder = lambda request: text("from a copy")
    policy = OpenAIPolicy("fake-model", base_url=openai_server.base_url, api_key="k-123",
                          temperature=0.3, backoff=FAST)
    await act(policy, HELLO, [])
    twin = pickle.loads(pickle.dumps(policy))  # what Ray does to send it to a worker
    assert twin._clients == {} and policy._clients
    assert (await act(twin, HELLO, [])).content == "from a copy"
    assert openai_server.calls[-1].headers["authorization"] == "Bearer k-123"
    assert openai_server.requests[-1]["temperature"] == 0.3
    await policy.aclose()
    await twin.aclose()
