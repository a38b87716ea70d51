"""User-style policies that `load_policy("tests.policies.sample_agents:...")` imports in tests."""

from __future__ import annotations

from agentgym.core.types import Action


class EchoAgent:
    """A class with `act` and no name: load_policy fills the name from the spec."""

    def __init__(self, greeting: str = "hello"):
        self.greeting = greeting

    def act(self, observation, tools):
        return f"{self.greeting}: {observation.messages[-1].content}"


class NamedAgent:
    name = "my-named-agent"

    async def act(self, observation, tools):
        return Action(content="named")


def make_agent() -> EchoAgent:
    return EchoAgent(greeting="from factory")


instance = EchoAgent(greeting="instance")


class NoAct:
    name = "no-act"


def failing_factory():
    raise RuntimeError("no GPU here")


not_a_policy = 42
