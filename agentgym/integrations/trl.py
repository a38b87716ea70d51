"""agentgym envs in TRL's GRPOTrainer (extra `train`).

Multi-turn, the env owns the reward — TRL's `environment_factory` interface:

    dataset = task_dataset("toy/Lookup-v0", split="train")            # prompt + task_id per task
    trainer = GRPOTrainer(model=model, processing_class=tokenizer, train_dataset=dataset,
                          environment_factory=environment_factory("toy/Lookup-v0"), args=config)

Every env tool becomes a method TRL offers the model (its schema from the env's JSON schema);
`reset(task_id=...)` starts the dataset row's task; `get_reward()` is the env's outcome, so step
rewards sum to it; the group is TRL's `num_generations` samples of one row. Step rewards stay in
`instance.step_rewards` (TRL's GRPO has no step-level credit: agentgym.training does that).

Single-turn (one completion, scored by the env's verifier): `reward_func(env_id)` for
`GRPOTrainer(reward_funcs=...)`. `prepare_tokenizer` gives a tokenizer with our chat template
the response template TRL needs to read tool calls back.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from agentgym.core.errors import UserInputError
from agentgym.core.registry import make_async
from agentgym.core.types import Action, Message, ToolCall, ToolSpec
from agentgym.policies.local import hf_messages

_JSON_TYPES = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}
RESERVED = ("reset", "get_reward")

# how TRL (transformers' response parsing) reads an assistant turn rendered by agentgym's tiny
# chat template (agentgym.training.tiny): `<tool_call>{json}</tool_call>` blocks, then `<|end|>`
TINY_RESPONSE_TEMPLATE = {
    "defaults": {"role": "assistant"},
    "start_anchor": "<|assistant|>",
    "fields": {
        "tool_calls": {
            "open": "<tool_call>",
            "close_pattern": r"</tool_call>\s*",
            "repeats": True,
            "content": "json",
            "transform": {"type": "function", "function": "{content}"},
        },
        "content": {"close_pattern": r"<\|end\|>\s*", "content": "text"},
    },
}


def prepare_tokenizer(tokenizer):
    """Set the response template TRL needs on a tokenizer built by agentgym.training.tiny."""
    from agentgym.training.tiny import CHAT_TEMPLATE

    if tokenizer.chat_template != CHAT_TEMPLATE:
        raise UserInputError(
            "prepare_tokenizer knows agentgym's tiny chat template only; for another "
            "model use trl.chat_template_utils.add_response_schema"
        )
    tokenizer.response_template = TINY_RESPONSE_TEMPLATE
    return tokenizer


def _opening(env_id: str, task_id: str, env_kwargs: dict[str, Any]) -> list[Message]:
    async def go():
        env = make_async(env_id, **env_kwargs)
        try:
            obs, _ = await env.reset(options={"task_id": task_id})
            return obs.messages
        finally:
            await env.close()

    return asyncio.run(go())


def task_dataset(env_id: str, split: str | None = None, repeat: int = 1, **env_kwargs: Any):
    """A `datasets.Dataset` of the env's tasks: `prompt` (the opening messages), `task_id`.
    `split` keeps tasks whose data["split"] matches (the toy envs have train/heldout)."""
    from datasets import Dataset

    env = make_async(env_id, **env_kwargs)
    task_ids = sorted(
        t.id for t in env.tasks.values() if split is None or t.data.get("split") == split
    )
    asyncio.run(env.close())
    if not task_ids:
        raise UserInputError(f"{env_id} has no tasks in split {split!r}")
    rows = [
        {"prompt": hf_messages(_opening(env_id, t, env_kwargs)), "task_id": t} for t in task_ids
    ]
    return Dataset.from_list(rows * repeat)


def _tool_method(spec: ToolSpec) -> Callable[..., str]:
    """A method named after the tool, with a signature and Google docstring built from its
    JSON schema, which TRL (transformers' get_json_schema) turns back into the same schema."""
    props = spec.parameters.get("properties", {})
    required = set(spec.parameters.get("required", []))
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    annotations: dict[str, Any] = {}
    doc_args = []
    for name, schema in props.items():
        kind = _JSON_TYPES.get(schema.get("type"), str)
        annotations[name] = kind
        default = inspect.Parameter.empty if name in required else None
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind
            )
        )
        doc_args.append(f"    {name}: {schema.get('description') or name}")

    def method(self, **arguments: Any) -> str:
        return self._call(spec.name, {k: v for k, v in arguments.items() if v is not None})

    method.__name__ = method.__qualname__ = spec.name
    method.__signature__ = inspect.Signature(params, return_annotation=str)
    method.__annotations__ = {**annotations, "return": str}
    method.__doc__ = (spec.description or spec.name).strip() + (
        "\n\nArgs:\n" + "\n".join(doc_args) if doc_args else ""
    )
    return method


class AgentgymEnvironment:
    """One agentgym env as a TRL environment (subclassed per env id by `environment_factory`)."""

    env_id: str = ""
    env_kwargs: dict[str, Any] = {}

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()  # TRL calls from its own thread; the env is async
        self._env = make_async(self.env_id, **self.env_kwargs)
        self.step_rewards: list[float] = []
        self.outcome: float | None = None

    def _run(self, coro):
        return self._loop.run_until_complete(coro)

    def reset(self, task_id: str | None = None, **row: Any) -> None:
        """Start the row's task (the prompt already holds its opening messages)."""
        if task_id is None:
            raise UserInputError(
                "the dataset needs a task_id column (agentgym.integrations.trl.task_dataset)"
            )
        self._run(self._env.reset(options={"task_id": task_id}))
        self.step_rewards, self.outcome = [], None
        return None

    def _call(self, name: str, arguments: dict[str, Any]) -> str:
        if self._env.done:
            return "Error: the episode has ended."
        result = self._run(
            self._env.step(Action(tool_calls=[ToolCall(name=name, arguments=arguments)]))
        )
        self.step_rewards.append(result.reward.value)
        if result.terminated or result.truncated:
            self.outcome = float(result.info["outcome"]["value"])
        tools = [
            m
            for m in result.observation.messages[-result.info["new_messages"] :]
            if m.role == "tool"
        ]
        return "\n".join(m.content or "" for m in tools)

    def get_reward(self) -> float:
        """The env's outcome: the final score if the episode ended, else the score of the state as it
        stands (an agent that stops early is scored on what it did)."""
        if self.outcome is not None:
            return self.outcome
        return float(self._run(self._env.score()).value)

    def __del__(self) -> None:
        try:
            self._run(self._env.close())
            self._loop.close()
        except Exception:  # interpreter shutdown: nothing left to release
            pass


def environment_factory(env_id: str, **env_kwargs: Any) -> Callable[[], AgentgymEnvironment]:
    """A class TRL can instantiate per rollout: `GRPOTrainer(environment_factory=...)`."""
    probe = make_async(env_id, **env_kwargs)
    tools = probe.tools
    asyncio.run(probe.close())
    clashes = [t.name for t in tools if t.name in RESERVED or t.name.startswith("_")]
    if clashes:
        raise UserInputError(f"{env_id}: tools {clashes} clash with TRL's environment methods")
    methods = {t.name: _tool_method(t) for t in tools}
    name = (
        "".join(p.title() for p in env_id.replace("/", "-").replace(".", "-").split("-"))
        + "Environment"
    )
    return type(
        name, (AgentgymEnvironment,), {"env_id": env_id, "env_kwargs": dict(env_kwargs), **methods}
    )


def reward_func(env_id: str, **env_kwargs: Any) -> Callable[..., list[float]]:
    """A GRPOTrainer reward function: each completion is one action on a fresh episode of its row's
    task (`task_id` column), scored by the env's verifier."""

    async def score_one(task_id: str, completion: Any) -> float:
        env = make_async(env_id, **env_kwargs)
        try:
            await env.reset(options={"task_id": task_id})
            if isinstance(completion, list):  # conversational: the assistant message(s)
                completion = completion[-1]
            result = await env.step(Action.coerce(completion))
            if result.terminated or result.truncated:
                return float(result.info["outcome"]["value"])
            return float((await env.score()).value)
        finally:
            await env.close()

    def agentgym_reward(
        prompts: list, completions: list, task_id: list[str], **_: Any
    ) -> list[float]:
        async def all_of():
            return await asyncio.gather(
                *(score_one(t, c) for t, c in zip(task_id, completions, strict=True))
            )

        return list(asyncio.run(all_of()))

    agentgym_reward.__name__ = f"agentgym:{env_id}"
    return agentgym_reward
