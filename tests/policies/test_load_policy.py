"""load_policy: every spec form, and a clear PolicySpecError for every bad one."""

from __future__ import annotations

import pytest

from agentgym.core.errors import PolicySpecError, TaskFileError
from agentgym.core.types import Episode, Message, Observation
from agentgym.policies import Policy, act, load_policy
from agentgym.policies.openai import OpenAIPolicy
from agentgym.policies.oracle import OraclePolicy
from agentgym.policies.random import RandomPolicy
from agentgym.policies.replay import ReplayPolicy

AGENTS = "tests.policies.sample_agents"
OBS = Observation(messages=[Message(role="user", content="hi")])


def test_openai_spec_keeps_colons_in_the_model_name():
    policy = load_policy("openai:qwen2.5:7b", base_url="http://127.0.0.1:9/v1", temperature=0.5)
    assert isinstance(policy, OpenAIPolicy)
    assert policy.model == "qwen2.5:7b"
    assert policy.name == "openai:qwen2.5:7b"
    assert policy.sampling.temperature == 0.5


def test_oracle_random_and_replay_specs(tmp_path):
    assert isinstance(load_policy("oracle"), OraclePolicy)
    plain = load_policy("random")
    assert isinstance(plain, RandomPolicy) and plain.seed == 0 and plain.name == "random"
    seeded = load_policy("random:7", p_stop=0.5)
    assert (seeded.seed, seeded.p_stop, seeded.name) == (7, 0.5, "random:7")
    path = tmp_path / "episodes.jsonl"
    path.write_text(
        Episode(env_id="test/Counter-v0", task_id="t", policy="x").model_dump_json() + "\n"
    )
    replay = load_policy(f"replay:{path}")
    assert isinstance(replay, ReplayPolicy) and replay.name == f"replay:{path}"
    for policy in (plain, seeded, replay):
        assert isinstance(policy, Policy)


async def test_class_factory_and_instance_specs():
    by_class = load_policy(f"{AGENTS}:EchoAgent", greeting="hey")
    assert by_class.name == f"{AGENTS}:EchoAgent"
    assert (await act(by_class, OBS, [])).content == "hey: hi"
    by_factory = load_policy(f"{AGENTS}:make_agent")
    assert (await act(by_factory, OBS, [])).content == "from factory: hi"
    by_instance = load_policy(f"{AGENTS}:instance")
    assert (await act(by_instance, OBS, [])).content == "instance: hi"
    named = load_policy(f"{AGENTS}:NamedAgent")
    assert named.name == "my-named-agent"  # a policy's own name is kept
    assert (await act(named, OBS, [])).content == "named"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt4", r"unknown policy 'gpt4'"),
        ("oracel", r"Did you mean 'oracle'\?"),
        ("openai:", r"needs a model"),
        ("oracle:x", r"oracle takes no argument"),
        ("random:abc", r"seed must be an integer"),
        ("replay:", r"needs a file"),
        ("replay:/no/such/episodes.jsonl", r"replay file not found: /no/such/episodes.jsonl"),
        ("no_such_module_xyz:Agent", r"cannot import 'no_such_module_xyz': ModuleNotFoundError"),
        (
            "tests.policies.broken_agent:Agent",
            r"cannot import .*RuntimeError: this agent module is broken",
        ),
        (f"{AGENTS}:Missing", r"has no 'Missing'"),
        (f"{AGENTS}:NoAct", r"NoAct has no act\(observation, tools\) method"),
        (f"{AGENTS}:not_a_policy", r"int has no act"),
        (f"{AGENTS}:failing_factory", r"creating it failed: RuntimeError: no GPU here"),
        (":Agent", r"expected module:attr"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(PolicySpecError, match=message):
        load_policy(spec)


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("random", {"p_stop": 2.0}, r"p_stop must be between 0 and 1"),
        ("random", {"temperature": 1.0}, r"unexpected keyword argument 'temperature'"),
        ("oracle", {"seed": 1}, r"unexpected keyword argument"),
        (f"{AGENTS}:instance", {"greeting": "x"}, r"is an instance; it takes no options"),
    ],
)
def test_bad_options(spec, options, message):
    with pytest.raises(PolicySpecError, match=message):
        load_policy(spec, **options)


def test_replay_file_with_a_bad_line_names_the_line(tmp_path):
    path = tmp_path / "episodes.jsonl"
    good = Episode(env_id="test/Counter-v0", task_id="t", policy="x").model_dump_json()
    path.write_text(good + "\n\n" + '{"env_id": "e"}\n')
    with pytest.raises(TaskFileError, match=rf"{path}:3: not a recorded episode"):
        load_policy(f"replay:{path}")
    path.write_text("not json\n")
    with pytest.raises(TaskFileError, match=rf"{path}:1: not a recorded episode \(Invalid JSON"):
        load_policy(f"replay:{path}")
