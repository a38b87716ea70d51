"""A chat policy for any OpenAI-compatible server (OpenAI, vLLM, SGLang, Ollama).

    policy = OpenAIPolicy("gpt-4o-mini")                       # OPENAI_API_KEY, OPENAI_BASE_URL
    policy = OpenAIPolicy("Qwen/Qwen2.5-7B-Instruct", base_url="http://localhost:8000/v1",
                          temperature=1.0, extra_body={"return_token_ids": True})   # vLLM

Sampling parameters (`Sampling`) are sent as given and recorded with every action, together with
the finish reason, per-token logprobs (requested by default) and, when the server returns them
(vLLM's `return_token_ids`, SGLang), the prompt and completion token ids: a record is token-exact.

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
from pydantic import BaseModel, ConfigDict, Field

from agentgym.core.errors import EndpointError, UserInputError
from agentgym.core.types import (
    Action,
    Generation,
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


class Sampling(BaseModel):
    """What is sent with every request besides the conversation. Unset fields are not sent, so
    the server's defaults apply. `extra_body` goes into the request as it is (vLLM/SGLang fields
    such as `return_token_ids`, `top_k`, `min_p`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(None, ge=0)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    seed: int | None = None
    stop: list[str] | None = None
    logprobs: bool = True
    extra_body: dict[str, Any] = Field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """The request fields, as sent (and as recorded)."""
        out = self.model_dump(exclude_none=True, exclude={"extra_body", "logprobs"})
        if self.logprobs:
            out["logprobs"] = True
        return {**out, **self.extra_body}


class OpenAIPolicy:
    """Sends the conversation and tools to a chat-completions endpoint; returns its reply as an Action.

    Keyword arguments besides the connection settings are `Sampling` fields (temperature, top_p,
    max_tokens, seed, stop, logprobs, extra_body); unknown ones raise ValueError.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        max_retries: int = 4,
        timeout: float = 120.0,
        backoff: Backoff | None = None,
        **sampling: Any,
    ):
        if not model:
            raise ValueError("OpenAIPolicy needs a model name")
        self.model = model
        self.name = f"openai:{model}"
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_API_KEY
        self.sampling = Sampling(**sampling)
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self._rng = random.Random()
        # one client (and connection pool) for every episode: the runner's per-episode shallow
        # copies share this dict. An httpx client belongs to the loop that made it: one per loop.
        self._clients: dict[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = {}

    @property
    def endpoint(self) -> str:
        return self.base_url or "https://api.openai.com/v1"

    def describe(self) -> dict[str, Any]:
        """The full spec of this policy, recorded with a run."""
        return {"kind": "openai", "model": self.model, "endpoint": self.endpoint,
                "sampling": self.sampling.params(), "timeout": self.timeout}

    def _get_client(self) -> openai.AsyncOpenAI:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for old in [lp for lp in self._clients if lp.is_closed()]:
                del self._clients[old]
            client = self._clients[loop] = openai.AsyncOpenAI(
                api_key=self.api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0
            )
        return client

    async def aclose(self) -> None:
        """Close the HTTP client of the running loop (optional; it is also released with the policy)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()

    def request_body(self, observation: Observation, tools: list[ToolSpec]) -> dict[str, Any]:
        """The chat-completions request for this observation (without the model's transport)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_openai() for m in observation.messages],
            **self.sampling.params(),
        }
        if tools:  # some servers reject an empty list
            body["tools"] = [t.to_openai() for t in tools]
        return body

    async def probe(self) -> None:
        """Check before a run that the endpoint answers and serves the model, so a wrong model, a
        refused key or a dead endpoint stops the run at once (UserInputError) instead of failing
        every episode. Asks `GET /models` (free); a server without that route gets one short chat
        request instead."""
        try:
            page = await self._get_client().models.list()
            served = [m.id async for m in page]
        except openai.NotFoundError:
            served = None  # no /models route here: ask for a completion instead
        except openai.APIStatusError as e:
            raise UserInputError(f"{self.name}: {self.endpoint} refused us: HTTP {e.status_code}: "
                                 f"{_server_message(e)}") from None
        except openai.APIConnectionError as e:
            raise UserInputError(f"{self.name}: cannot reach {self.endpoint}: {e.__cause__ or e}") from None
        if served is not None:
            if served and self.model not in served:
                shown = ", ".join(served[:10]) + (" ..." if len(served) > 10 else "")
                raise UserInputError(f"{self.name}: {self.endpoint} does not serve model "
                                     f"{self.model!r} (it serves: {shown})")
            return
        body = {"model": self.model, "messages": [{"role": "user", "content": "Reply with OK."}],
                **self.sampling.params()}
        try:
            await self._send(body, max_retries=min(1, self.max_retries))
        except EndpointError as e:
            raise UserInputError(f"the policy's endpoint does not answer: {e}") from None

    async def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        body = self.request_body(observation, tools)
        completion = await self._send(body, self.max_retries)
        action = completion_to_action(completion)
        action.generation = generation_record(completion, self.model, self.endpoint,
                                              self.sampling.params())
        return action

    async def _send(self, body: dict[str, Any], max_retries: int) -> Any:
        known = {k: v for k, v in body.items() if k not in self.sampling.extra_body}
        extra = {k: body[k] for k in self.sampling.extra_body if k in body}
        attempt = 0
        while True:
            try:
                return await self._get_client().chat.completions.create(
                    **known, **({"extra_body": extra} if extra else {}))
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
            if attempt >= max_retries:
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
        cost = _extra(completion.usage, "cost")
        usage = TokenUsage(
            prompt_tokens=completion.usage.prompt_tokens or 0,
            completion_tokens=completion.usage.completion_tokens or 0,
            cost=float(cost) if isinstance(cost, (int, float)) else None,
        )
    return Action(content=message.content, tool_calls=calls, usage=usage)


def generation_record(completion: Any, model: str, endpoint: str, params: dict[str, Any]) -> Generation:
    """The request as sent and what the server said about the tokens it sampled."""
    choice = completion.choices[0]
    logprobs = token_ids = None
    content = getattr(choice.logprobs, "content", None) if choice.logprobs is not None else None
    if content:
        logprobs = [float(t.logprob) for t in content]
        # vLLM with return_tokens_as_token_ids names each token "token_id:<id>"
        if all(isinstance(t.token, str) and t.token.startswith("token_id:") for t in content):
            token_ids = [int(t.token.split(":", 1)[1]) for t in content]
    token_ids = _ints(_extra(choice, "token_ids")) or token_ids
    prompt_ids = _ints(_extra(completion, "prompt_token_ids") or _extra(choice, "prompt_token_ids"))
    return Generation(model=getattr(completion, "model", None) or model, endpoint=endpoint,
                      params=params, finish_reason=choice.finish_reason,
                      prompt_token_ids=prompt_ids, completion_token_ids=token_ids,
                      logprobs=logprobs)


def _extra(obj: Any, name: str) -> Any:
    """A field the SDK does not model (servers add their own), wherever pydantic kept it."""
    value = getattr(obj, name, None)
    if value is None:
        value = (getattr(obj, "model_extra", None) or {}).get(name)
    return value


def _ints(value: Any) -> list[int] | None:
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return list(value)
    return None


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
