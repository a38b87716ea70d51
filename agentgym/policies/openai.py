"""A chat policy for any OpenAI-compatible server (OpenAI, vLLM, SGLang, Ollama).

    policy = OpenAIPolicy("gpt-4o-mini")                       # OPENAI_API_KEY, OPENAI_BASE_URL
    policy = OpenAIPolicy("Qwen/Qwen2.5-7B-Instruct", base_url="http://localhost:8000/v1")

Tools are sent for native tool calling. A call whose arguments are not valid JSON is kept, with
its arguments as `{"__raw__": "<text>"}` (see `RAW_ARGUMENTS_KEY`), so the env can show the agent
its mistake instead of the policy hiding it.

Retries are ours (the client's own are off): 408/409/429/5xx, timeouts and connection errors are
retried with exponential backoff and jitter, honouring a small Retry-After. When retries run out,
or the server refuses the request (400, 401, 404, ...), `EndpointError` is raised: an
infrastructure failure, never a reward of 0.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import time
from dataclasses import dataclass
from typing import Any

import openai

from agentgym.core.errors import EndpointError
from agentgym.core.types import (
    Action,
    Observation,
    TokenUsage,
    ToolCall,
    ToolSpec,
    parse_arguments,
)

#: sent when no key is configured: local servers (vLLM, Ollama) accept anything
PLACEHOLDER_API_KEY = "agentgym-no-key"
RETRYABLE_STATUS = frozenset({408, 409, 429})


@dataclass(frozen=True)
class Backoff:
    """Delays between retries: `initial * 2**attempt`, capped at `maximum`, with jitter."""

    initial: float = 1.0
    maximum: float = 30.0
    #: a server's Retry-After is followed when it asks for at most this many seconds
    max_retry_after: float = 60.0

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        if retry_after is not None and 0 <= retry_after <= self.max_retry_after:
            return retry_after
        ceiling = min(self.maximum, self.initial * (2**attempt))
        return rng.uniform(ceiling / 2, ceiling)


class OpenAIPolicy:
    """Sends the conversation and tools to a chat-completions endpoint; returns its reply as an Action."""

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        max_retries: int = 4,
        timeout: float = 120.0,
        backoff: Backoff | None = None,
    ):
        if not model:
            raise ValueError("OpenAIPolicy needs a model name")
        self.model = model
        self.name = f"openai:{model}"
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_API_KEY
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self._rng = random.Random()
        # an httpx client belongs to the event loop that made it; keep one per loop
        self._client: openai.AsyncOpenAI | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @property
    def endpoint(self) -> str:
        return self.base_url or "https://api.openai.com/v1"

    def _get_client(self) -> openai.AsyncOpenAI:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = openai.AsyncOpenAI(
                api_key=self.api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client (optional; it is also released with the policy)."""
        if self._client is not None:
            await self._client.close()
            self._client = self._client_loop = None

    def request_body(self, observation: Observation, tools: list[ToolSpec]) -> dict[str, Any]:
        """The chat-completions request for this observation (without the model's transport)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_openai() for m in observation.messages],
            "temperature": self.temperature,
        }
        if tools:  # some servers reject an empty list
            body["tools"] = [t.to_openai() for t in tools]
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        return body

    async def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        body = self.request_body(observation, tools)
        attempt = 0
        while True:
            try:
                completion = await self._get_client().chat.completions.create(**body)
                return completion_to_action(completion)
            except openai.APIStatusError as e:
                retryable = e.status_code in RETRYABLE_STATUS or e.status_code >= 500
                problem = f"HTTP {e.status_code}: {_server_message(e)}"
                retry_after = _retry_after(e.response.headers)
                if not retryable:  # 400/401/403/404...: asking again gets the same answer
                    raise EndpointError(
                        f"{self.name} at {self.endpoint} refused the request: {problem}",
                        retryable=False,
                    ) from e
            except openai.APITimeoutError:
                problem, retry_after = f"no reply within {self.timeout:g}s", None
            except openai.APIConnectionError as e:
                problem, retry_after = f"connection failed: {e.__cause__ or e}", None
            except openai.APIError as e:  # a reply we cannot read is not worth retrying
                raise EndpointError(f"{self.name} at {self.endpoint}: {e}", retryable=False) from e
            if attempt >= self.max_retries:
                raise EndpointError(
                    f"{self.name} at {self.endpoint} failed after {attempt + 1} attempts: {problem}"
                )
            await asyncio.sleep(self.backoff.delay(attempt, self._rng, retry_after))
            attempt += 1


def completion_to_action(completion: Any) -> Action:
    """Turn a ChatCompletion into an Action: text, parsed tool calls, usage, logprobs if sent."""
    if not completion.choices:
        raise EndpointError("the server replied with no choices")
    choice = completion.choices[0]
    message = choice.message
    calls = [
        ToolCall(
            id=raw.id or f"call_{i}",
            name=raw.function.name,
            arguments=parse_arguments(raw.function.arguments),
        )
        for i, raw in enumerate(message.tool_calls or [])
        if getattr(raw, "function", None) is not None  # custom (non-function) tools are skipped
    ]
    usage = None
    if completion.usage is not None:
        usage = TokenUsage(
            prompt_tokens=completion.usage.prompt_tokens or 0,
            completion_tokens=completion.usage.completion_tokens or 0,
        )
    logprobs = None
    if choice.logprobs is not None and choice.logprobs.content:
        logprobs = [t.logprob for t in choice.logprobs.content]
    return Action(content=message.content, tool_calls=calls, usage=usage, logprobs=logprobs)


def _server_message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    text = error.response.text.strip() if error.response is not None else ""
    return text[:500] or error.message


def _retry_after(headers: Any) -> float | None:
    """Seconds asked for by `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if headers is None:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return max(0.0, when.timestamp() - time.time())
    return None
