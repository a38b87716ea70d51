"""RandomPolicy: schema-valid calls (checked by the tools' own validators), reproducible per seed."""

from __future__ import annotations

from enum import Enum
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from agentgym.core.types import Message, Observation, Task, ToolSpec
from agentgym.policies import act, begin
from agentgym.policies.random import RandomPolicy
from agentgym.tools import Toolbox, tool
from tests.core.counter_env import CounterEnv


class Size(str, Enum):
    small = "small"
    large = "large"


class Address(BaseModel):
    street: str
    zip_code: int | None = None


@tool
def find_user(email: str, *, db: dict) -> str:
    """Find a user by email.

    Args:
        email: The user's email address.
    """
    return db.get(email, "no such user")


@tool
def update_order(
    order_id: str,
    quantity: int,
    price: float,
    gift: bool = False,
    size: Size = Size.small,
    mode: Literal["fast", "slow"] = "fast",
    item_ids: list[str] | None = None,
    note: str | None = None,
    address: Address | None = None,
    extras: dict[str, int] | None = None,
    pair: tuple[int, str] = (1, "a"),
) -> str:
    """Change an order.

    Args:
        order_id: Such as "#W1234567".
    """
    return "ok"


class Constrained(BaseModel):
    """Bounds that JSON schemas carry (pydantic writes them; the policy must respect them)."""

    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=1, le=5)
    price: float = Field(gt=0, lt=100)
    code: str = Field(min_length=3, max_length=4)
    item_ids: list[str] = Field(min_length=1, max_length=3)
    note: str | None = Field(default=None, max_length=12)
    nested: list[Address] = Field(default_factory=list, max_length=2)


TOOLBOX = Toolbox([find_user, update_order])
TASK = Task(id="retail-1", family="test", prompt="Help the user.")


def conversation(*extra: str) -> Observation:
    return Observation(
        messages=[
            Message(role="system", content="Serve the customer."),
            Message(
                role="user",
                content="I am ada@example.com, please fix order #W1234567 (2 items).",
            ),
            *[Message(role="user", content=text) for text in extra],
        ]
    )


async def test_calls_validate_against_the_tool_schemas():
    policy = RandomPolicy(seed=3, p_stop=0.0)
    await begin(policy, TASK, None, 0)
    seen_tools, hit_real_values = set(), 0
    for turn in range(150):
        obs = conversation()
        obs.messages += [Message(role="assistant", content="...")] * turn
        action = await act(policy, obs, TOOLBOX.specs)
        (call,) = action.tool_calls
        seen_tools.add(call.name)
        TOOLBOX.get(call.name).validate(call.arguments)  # raises ToolCallError if invalid
        hit_real_values += call.arguments.get("order_id") == "#W1234567"
        hit_real_values += call.arguments.get("email") == "ada@example.com"
    assert seen_tools == {"find_user", "update_order"}
    assert hit_real_values > 30  # string values come from the conversation


async def test_values_respect_schema_bounds():
    spec = ToolSpec(name="constrained", parameters=Constrained.model_json_schema())
    policy = RandomPolicy(seed=0, p_stop=0.0)
    for turn in range(100):
        obs = conversation()
        obs.messages += [Message(role="assistant", content="...")] * turn
        (call,) = (await act(policy, obs, [spec])).tool_calls
        Constrained.model_validate(call.arguments)  # raises if a bound is broken


async def test_same_seed_task_and_sample_give_the_same_actions():
    async def run(seed: int, sample: int) -> list:
        policy = RandomPolicy(seed=seed, p_stop=0.2)
        await begin(policy, TASK, None, sample)
        obs, actions = conversation(), []
        for _ in range(8):
            action = await act(policy, obs, TOOLBOX.specs)
            actions.append(action.model_dump())
            obs.messages.append(
                Message(role="assistant", content=action.content, tool_calls=action.tool_calls)
            )
        return actions

    assert await run(1, 0) == await run(1, 0)
    assert await run(1, 0) != await run(2, 0)
    assert await run(1, 0) != await run(1, 1)


async def test_sends_text_with_probability_p_stop_or_without_tools():
    always = RandomPolicy(p_stop=1.0)
    assert (await act(always, conversation(), TOOLBOX.specs)).tool_calls == []
    no_tools = await act(RandomPolicy(p_stop=0.0), conversation(), [])
    assert no_tools.content and not no_tools.tool_calls


async def test_random_episode_in_a_real_env_is_reproducible():
    async def run() -> tuple[list, float]:
        env, policy = CounterEnv(max_steps=6), RandomPolicy(seed=5, p_stop=0.1)
        obs, _ = await env.reset(options={"task_id": "reach-3"})
        await begin(policy, env.task, None, 0)
        calls = []
        while True:
            action = await act(policy, obs, env.tools)
            calls.append([c.arguments for c in action.tool_calls])
            result = await env.step(action)
            obs = result.observation
            if result.terminated or result.truncated:
                return calls, result.info["outcome"]["value"]

    first = await run()
    assert first == await run()
    assert any(calls for calls in first[0])  # it did call `add`


def test_p_stop_out_of_range():
    with pytest.raises(ValueError, match="p_stop"):
        RandomPolicy(p_stop=-0.1)
