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

Retries are ours: 408/409/429/5xx, timeouts and connection errors are retried with exponential
backoff and jitter, honouring a small Retry-After. When retries run out, or the server refuses
the request (400, 401, 404, ...), `EndpointError` is raised: an infrastructure failure, never a
reward of 0.

Requests go out over aiohttp (`_transport.py`), one connection pool per event loop shared by
every episode; the `openai` SDK's client costs ten times the CPU per call (bench/rollout.py).
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
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
from agentgym.policies._transport import HTTPStatusError, JSONClient, ReplyError

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
        # one connection pool per event loop, for every episode: the runner's per-episode shallow
        # copies share this client (and its per-loop sessions)
        self._client = JSONClient(self.endpoint, self.api_key, timeout, _user_agent())

    @property
    def _clients(self) -> dict[asyncio.AbstractEventLoop, Any]:
        """The open HTTP sessions, one per event loop."""
        return self._client.sessions

    @property
    def endpoint(self) -> str:
        return self.base_url or "https://api.openai.com/v1"

    def describe(self) -> dict[str, Any]:
        """The full spec of this policy, recorded with a run."""
        return {"kind": "openai", "model": self.model, "endpoint": self.endpoint,
                "sampling": self.sampling.params(), "timeout": self.timeout}

    def __copy__(self) -> OpenAIPolicy:
        # the runner's per-episode copies share the client (pickling, below, does not)
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        return twin

    def __getstate__(self) -> dict[str, Any]:
        # sent to other processes (Ray workers) without its sessions: each process opens its own
        state = dict(self.__dict__)
        state["_client"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._client = JSONClient(self.endpoint, self.api_key, self.timeout, _user_agent())

    async def aclose(self) -> None:
        """Close the HTTP session of the running loop (optional: asyncio.run closes it anyway)."""
        await self._client.aclose()

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
            listing = await self._client.get("models")
            served = [m["id"] for m in listing.get("data") or [] if isinstance(m, dict) and "id" in m]
        except HTTPStatusError as e:
            if e.status != 404:
                raise UserInputError(f"{self.name}: {self.endpoint} refused us: HTTP {e.status}: "
                                     f"{e.server_message()}") from None
            served = None  # no /models route here: ask for a completion instead
        except ReplyError:
            served = None  # a /models route that says something else: ask for a completion
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            raise UserInputError(f"{self.name}: cannot reach {self.endpoint}: "
                                 f"{_describe_failure(e, self.timeout)}") from None
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
        try:
            action = completion_to_action(completion)
            action.generation = generation_record(completion, self.model, self.endpoint,
                                                  self.sampling.params())
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as e:
            raise EndpointError(f"{self.name} at {self.endpoint}: the reply is not a chat "
                                f"completion ({type(e).__name__}: {e})", retryable=False) from e
        return action

    async def _send(self, body: dict[str, Any], max_retries: int) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return await self._client.post("chat/completions", body)
            except HTTPStatusError as e:
                retryable = e.status in RETRYABLE_STATUS or e.status >= 500
                problem = f"HTTP {e.status}: {e.server_message()}"
                retry_after = _retry_after(e.headers)
                if not retryable:  # 400/401/403/404...: asking again gets the same answer
                    raise EndpointError(
                        f"{self.name} at {self.endpoint} refused the request: {problem}",
                        retryable=False,
                    ) from e
            except ReplyError as e:  # a reply we cannot read is not worth retrying
                raise EndpointError(f"{self.name} at {self.endpoint}: {e}", retryable=False) from e
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                problem, retry_after = _describe_failure(e, self.timeout), None
            if attempt >= max_retries:
                raise EndpointError(
                    f"{self.name} at {self.endpoint} failed after {attempt + 1} attempts: {problem}"
                )
            await asyncio.sleep(self.backoff.delay(attempt, self._rng, retry_after))
            attempt += 1


def _describe_failure(error: BaseException, timeout: float) -> str:
    if isinstance(error, asyncio.TimeoutError):
        return f"no reply within {timeout:g}s"
    return f"connection failed: {error}"


def _user_agent() -> str:
    import agentgym

    return f"agentgym/{agentgym.__version__}"


def completion_to_action(completion: Any) -> Action:
    """Turn a chat completion (the JSON reply, or an SDK object) into an Action: text, parsed
    tool calls, usage."""
    choices = _field(completion, "choices")
    if not choices:
        raise EndpointError("the server replied with no choices")
    message = _field(choices[0], "message")
    if message is None or isinstance(message, (str, bytes, list, int, float)):
        raise ValueError("its first choice has no message object")
    calls = []
    for i, raw in enumerate(_field(message, "tool_calls") or []):
        function = _field(raw, "function")
        if function is None:  # custom (non-function) tools are skipped
            continue
        arguments = _field(function, "arguments")
        calls.append(ToolCall(
            id=_field(raw, "id") or f"call_{i}", name=_field(function, "name"),
            arguments=parse_arguments(arguments if isinstance(arguments, str) else "{}"),
        ))
    usage = None
    reported = _field(completion, "usage")
    if reported is not None:
        cost = _field(reported, "cost")
        usage = TokenUsage(
            prompt_tokens=_field(reported, "prompt_tokens") or 0,
            completion_tokens=_field(reported, "completion_tokens") or 0,
            cost=float(cost) if isinstance(cost, (int, float)) else None,
        )
    return Action(content=_field(message, "content"), tool_calls=calls, usage=usage)


def generation_record(completion: Any, model: str, endpoint: str, params: dict[str, Any]) -> Generation:
    """The request as sent and what the server said about the tokens it sampled."""
    choice = _field(completion, "choices")[0]
    logprobs = token_ids = None
    content = _field(_field(choice, "logprobs"), "content")
    if content:
        logprobs = [float(_field(t, "logprob")) for t in content]
        # vLLM with return_tokens_as_token_ids names each token "token_id:<id>"
        tokens = [_field(t, "token") for t in content]
        if all(isinstance(t, str) and t.startswith("token_id:") for t in tokens):
            token_ids = [int(t.split(":", 1)[1]) for t in tokens]
    token_ids = _ints(_field(choice, "token_ids")) or token_ids
    prompt_ids = _ints(_field(completion, "prompt_token_ids") or _field(choice, "prompt_token_ids"))
    return Generation(model=_field(completion, "model") or model, endpoint=endpoint,
                      params=params, finish_reason=_field(choice, "finish_reason"),
                      prompt_token_ids=prompt_ids, completion_token_ids=token_ids,
                      logprobs=logprobs)


def _field(obj: Any, name: str) -> Any:
    """A field of a JSON object or of an SDK object (where a server's own fields are extras)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None:
        value = (getattr(obj, "model_extra", None) or {}).get(name)
    return value


def _ints(value: Any) -> list[int] | None:
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return list(value)
    return None


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
