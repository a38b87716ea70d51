"""The records that cross module boundaries: messages, actions, rewards, steps, episodes, tasks.

Messages follow the OpenAI chat format so that an observation can be sent to any
OpenAI-compatible server as it is.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]

#: tool-call arguments that were not a JSON object are kept as {RAW_ARGUMENTS_KEY: text}, so the
#: env can show the agent its mistake instead of the episode crashing
RAW_ARGUMENTS_KEY = "__raw__"


def parse_arguments(text: str | None) -> dict[str, Any]:
    """JSON-object arguments, or `{"__raw__": text}` when the model wrote something else."""
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {RAW_ARGUMENTS_KEY: text}
    return value if isinstance(value, dict) else {RAW_ARGUMENTS_KEY: text}
#: ok / truncated: the episode ran and was scored. error: a bug or crash in the policy or env that
#: is not an infrastructure error (a failure in every metric, reported apart). infra_error: our
#: machinery failed; the episode is left out of every metric and only counted.
EpisodeStatus = Literal["ok", "truncated", "error", "infra_error"]


class ToolCall(BaseModel):
    """A call the agent asks for: a tool name and its arguments (already parsed from JSON)."""

    id: str = ""
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments)},
        }


class Message(BaseModel):
    """One chat message in OpenAI format (tool calls kept parsed). Frozen: an env's history is
    shared with every observation and record made from it, so nobody may change a message in
    place (make a new one with `model_copy(update=...)`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    role: Role
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None

    def to_openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None and self.role == "tool":
            out["name"] = self.name
        return out


class ToolSpec(BaseModel):
    """What the agent is told about a tool: name, description and a JSON schema of its parameters."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


class TokenUsage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None  # in USD, when the server reports it (OpenRouter's usage.cost)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        costs = [c for c in (self.cost, other.cost) if c is not None]
        return TokenUsage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost=sum(costs) if costs else None,
        )


class Generation(BaseModel):
    """How a policy made one action: the request as sent and, when the model gives them, its
    tokens. Token ids and logprobs make a record token-exact, so a trainer need not re-tokenize
    (re-tokenized text often differs from what was sampled)."""

    model: str = ""
    endpoint: str = ""
    #: sampling parameters and extra request fields exactly as sent (temperature, top_p, ...)
    params: dict[str, Any] = Field(default_factory=dict)
    finish_reason: str | None = None
    #: the whole prompt as the model saw it (chat template applied), when the server returns it
    prompt_token_ids: list[int] | None = None
    completion_token_ids: list[int] | None = None
    #: one per completion token
    logprobs: list[float] | None = None


class Action(BaseModel):
    """What a policy returns: an assistant message, plus what the policy knows about how it made it.

    `generation` is filled by policies that call a model (the request, token ids, logprobs);
    trainers use it, environments ignore it.
    """

    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: TokenUsage | None = None
    generation: Generation | None = None

    @classmethod
    def coerce(cls, value: Action | str | dict[str, Any]) -> Action:
        """Accept an Action, a plain string, or an OpenAI-style assistant message dict."""
        if isinstance(value, Action):
            return value
        if isinstance(value, str):
            return cls(content=value)
        if isinstance(value, dict):
            calls = []
            for i, raw in enumerate(value.get("tool_calls") or []):
                fn = raw.get("function", raw)
                args = fn.get("arguments", {})
                if not isinstance(args, dict):
                    args = parse_arguments(args if isinstance(args, str) else json.dumps(args))
                calls.append(ToolCall(id=raw.get("id") or f"call_{i}", name=fn["name"], arguments=args))
            return cls(content=value.get("content"), tool_calls=calls)
        raise TypeError(f"an action is an Action, a str or a message dict, not {type(value).__name__}")


class Reward(BaseModel):
    """A score with its parts and the reason for it. A verifier that fails raises instead."""

    value: float
    components: dict[str, float] = Field(default_factory=dict)
    explanation: str = ""
    source: str = ""


class Observation(BaseModel):
    """What the agent sees: the whole conversation so far, plus structured extras.

    Policies are stateless: every observation carries the full history, so a forked env and a
    replayed episode need no hidden policy state.
    """

    messages: list[Message]
    extras: dict[str, Any] = Field(default_factory=dict)


class StepResult(BaseModel):
    observation: Observation
    reward: Reward
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any] = Field(default_factory=dict)


class Step(BaseModel):
    """One recorded turn of an episode. `reward` is the step reward; over an episode the step
    rewards sum to the outcome (the last step carries the difference)."""

    index: int
    # messages added since the previous step; concatenated over steps they give the conversation
    observation: list[Message]
    action: Action
    tool_results: list[Message] = Field(default_factory=list)
    reward: float = 0.0
    reward_components: dict[str, float] = Field(default_factory=dict)
    latency_s: float = 0.0  # time the policy took to act
    env_latency_s: float = 0.0  # time the env took to step
    started_at: float = 0.0  # wall clock (Unix time) when the policy was asked


class Versions(BaseModel):
    agentgym: str
    python: str
    packages: dict[str, str] = Field(default_factory=dict)


#: version of the episode record; bumped whenever a field changes meaning (docs/trajectories.md)
EPISODE_SCHEMA_VERSION = 2


class Episode(BaseModel):
    """Everything needed to audit, score, replay or train on one rollout."""

    schema_version: int = EPISODE_SCHEMA_VERSION
    env_id: str
    task_id: str
    seed: int | None = None
    sample: int = 0
    policy: str
    steps: list[Step] = Field(default_factory=list)
    outcome: Reward | None = None
    status: EpisodeStatus = "ok"
    error: str | None = None
    usage: TokenUsage = Field(default_factory=TokenUsage)
    versions: Versions | None = None
    started_at: float = Field(default_factory=time.time)
    duration_s: float = 0.0
    #: second opinions: the extra verifiers' scores by label (`--verifier`, the task's own). They
    #: never change `outcome`, which stays the env's execution verdict
    verdicts: dict[str, Reward] = Field(default_factory=dict)
    #: extra verifiers that could not score this episode, by label: why (never a 0 in `verdicts`)
    verdict_errors: dict[str, str] = Field(default_factory=dict)

    @property
    def reward(self) -> float:
        return self.outcome.value if self.outcome else 0.0

    @property
    def success(self) -> bool:
        return self.status in ("ok", "truncated") and self.reward >= 1.0 - 1e-9

    @property
    def counted(self) -> bool:
        """Whether the episode counts in metrics: everything but infrastructure errors."""
        return self.status != "infra_error"


class Task(BaseModel):
    """One task: what the agent is asked, what the env needs, how it is checked.

    Families subclass this with typed `data`; the base keeps a task file readable by any tool.
    """

    id: str
    family: str
    prompt: str
    data: dict[str, Any] = Field(default_factory=dict)
    reference: list[Action] | None = None
    verifier: dict[str, Any] = Field(default_factory=dict)
    difficulty: int | None = None

    def public_view(self) -> Task:
        """What an agent may know of the task: its id, family and prompt. No data (it can hold
        hidden tests, gold answers or the reference end state), no reference, no verifier."""
        return Task(id=self.id, family=self.family, prompt=self.prompt, difficulty=self.difficulty)
