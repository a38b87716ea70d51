"""The fake OpenAI server itself: protocol edges that the policy tests do not reach."""

from __future__ import annotations

import asyncio

import httpx

from agentgym.core.types import Action, ToolCall


def test_rejects_what_a_real_server_rejects(openai_server):
    with httpx.Client(base_url=openai_server.base_url) as http:
        assert http.post("/chat/completions", content=b"{not json").status_code == 400
        assert http.post("/chat/completions", json={"model": "m"}).status_code == 400
        streamed = http.post(
            "/chat/completions", json={"model": "m", "messages": [], "stream": True}
        )
        assert streamed.status_code == 400
        assert streamed.json()["error"]["message"] == "the fake server does not stream"
        assert http.post("/embeddings", json={}).status_code == 404
        assert http.get("/files").status_code == 404


def test_responder_may_return_an_action_or_a_message_dict(openai_server):
    replies = iter(
        [
            Action(content="a", tool_calls=[ToolCall(id="x1", name="f", arguments={"k": 1})]),
            {"role": "assistant", "content": "b"},
        ]
    )
    openai_server.responder = lambda request: next(replies)
    url = f"{openai_server.base_url}/chat/completions"
    first = httpx.post(url, json={"model": "m", "messages": []}).json()
    message = first["choices"][0]["message"]
    assert message["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"k": 1}'}
    assert first["choices"][0]["finish_reason"] == "tool_calls"
    second = httpx.post(url, json={"model": "m", "messages": []}).json()
    assert second["choices"][0]["message"]["content"] == "b"
    assert second["usage"]["total_tokens"] == second["usage"]["completion_tokens"] == 1


def test_a_responder_that_raises_gives_a_500_naming_the_error(openai_server):
    def responder(request):
        raise KeyError("tools")

    openai_server.responder = responder
    reply = httpx.post(
        f"{openai_server.base_url}/chat/completions", json={"model": "m", "messages": []}
    )
    assert reply.status_code == 500
    assert "responder raised KeyError" in reply.json()["error"]["message"]


async def test_serves_concurrent_requests(openai_server):
    openai_server.responder = lambda request: request["messages"][0]["content"].upper()
    async with httpx.AsyncClient(base_url=openai_server.base_url) as client:
        replies = await asyncio.gather(
            *(
                client.post(
                    "/chat/completions",
                    json={"model": "m", "messages": [{"role": "user", "content": f"hi {i}"}]},
                )
                for i in range(16)
            )
        )
    contents = [r.json()["choices"][0]["message"]["content"] for r in replies]
    assert contents == [f"HI {i}" for i in range(16)]
    assert len(openai_server.requests) == 16
