"""Shared fixtures. The framework's own test env is registered here for every test."""

from __future__ import annotations

import pytest

import agentgym
from agentgym.environments.toy import ensure_registered as ensure_toy_registered
from tests.core.counter_env import CounterEnv

try:
    agentgym.register("test/Counter-v0", CounterEnv, description="framework test env")
except agentgym.core.errors.RegistrationError:
    pass

# the toy family registers by entry point (pyproject.toml); an editable install made before it was
# added does not list it yet
ensure_toy_registered()


@pytest.fixture
def counter_env() -> CounterEnv:
    env = CounterEnv()
    env.env_id = "test/Counter-v0"
    return env


@pytest.fixture
def openai_server():
    """A real OpenAI-compatible HTTP server on 127.0.0.1 with a scripted reply queue."""
    from tests.fakes.openai_server import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def openai_env(openai_server, monkeypatch):
    """The fake server, with OPENAI_BASE_URL pointing at it and no API key set."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return openai_server


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 2-layer model with a tokenizer trained on the toy envs' text, never trained itself."""
    from agentgym.environments.toy.world import vocabulary
    from agentgym.training.tiny import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny") / "model", ["toy/Lookup-v0", "toy/LookupChain-v0"],
                      hidden=64, words=vocabulary())


@pytest.fixture(scope="session")
def warm_model(tmp_path_factory):
    """A 128-wide tiny model after a short SFT warm-up on toy/Lookup-v0's train split: it solves
    some tasks and fails others (measured: greedy 0.42, sampled 0.25 on train questions), so
    sampled groups hold both outcomes (the 64-wide one needs far more warm-up to succeed at all)."""
    from agentgym.environments.toy.world import vocabulary
    from agentgym.training.sft import sft_warmup
    from agentgym.training.tiny import build_tiny

    out = build_tiny(tmp_path_factory.mktemp("warm") / "model", ["toy/Lookup-v0", "toy/LookupChain-v0"],
                     hidden=128, words=vocabulary())
    sft_warmup(out, "toy/Lookup-v0", steps=400, save_to=out)
    return out
