"""TRL's GRPOTrainer on an agentgym env: env tools as TRL environment methods, the env's reward,
a few updates of a tiny model on CPU; and the single-turn reward function."""

from __future__ import annotations

import os

import pytest

from agentgym.environments.toy.world import build_world
from agentgym.integrations.trl import environment_factory, reward_func, task_dataset

pytest.importorskip("trl")

# the world of a seedless episode about the apple (seed 0, the apple always in it)
APPLE = build_world(0, include=("apple",)).items["apple"]


def call(name, **arguments):
    import json

    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def test_the_environment_class_exposes_env_tools_with_their_schemas():
    from transformers.utils import get_json_schema

    env_class = environment_factory("toy/Lookup-v0")
    env = env_class()
    schema = get_json_schema(env.color)
    assert schema["function"]["name"] == "color"
    assert schema["function"]["parameters"]["required"] == ["item"]
    env.reset(task_id="color-apple")
    assert env.color(item="apple") == APPLE["color"]
    assert env.get_reward() == 0.0  # looked up, not answered
    env.answer(value=APPLE["color"])
    assert (
        env.get_reward() == 1.0 and sum(env.step_rewards) == 1.0
    )  # step rewards sum to the outcome
    assert env.answer(value="x").startswith("Error")  # the episode has ended


def test_reward_func_scores_each_completion_with_the_env_verifier():
    score = reward_func("toy/Lookup-v0")
    right = APPLE["color"]
    wrong = next(v for v in ("red", "blue") if v != right)
    completions = [
        [{"role": "assistant", "content": call("answer", value=right)}],
        [{"role": "assistant", "content": call("answer", value=wrong)}],
        [{"role": "assistant", "content": "no idea"}],
    ]
    assert score(prompts=[None] * 3, completions=completions, task_id=["color-apple"] * 3) == [
        1.0,
        0.0,
        0.0,
    ]


def _trainer(model_dir, out, **kwargs):
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from agentgym.integrations.trl import prepare_tokenizer

    torch.manual_seed(0)
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(model_dir))
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    args = GRPOConfig(
        output_dir=str(out),
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=80,
        max_steps=2,
        learning_rate=1e-3,
        logging_steps=1,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        max_tool_calling_iterations=3,
        seed=0,
        beta=0.0,
    )
    return GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        args=args,
        train_dataset=task_dataset("toy/Lookup-v0", split="train"),
        **kwargs,
    ), model


def test_grpo_trainer_runs_multi_turn_on_an_agentgym_env(warm_model, tmp_path):
    import torch

    trainer, model = _trainer(
        warm_model, tmp_path / "trl", environment_factory=environment_factory("toy/Lookup-v0")
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer.train()
    logs = [r for r in trainer.state.log_history if "reward" in r]
    assert len(logs) == 2
    assert all(r["tools/call_frequency"] > 0 for r in logs)  # the env's tools ran
    assert all("rewards/ToyLookupV0Environment/mean" in r for r in logs)  # the env's reward
    if any(r["reward_std"] > 0 for r in logs):  # an update with signal moves the weights
        assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_grpo_trainer_with_the_single_turn_reward_func(warm_model, tmp_path):
    trainer, _ = _trainer(
        warm_model, tmp_path / "trl1", reward_funcs=[reward_func("toy/Lookup-v0")]
    )
    trainer.train()
    logs = [r for r in trainer.state.log_history if "reward" in r]
    assert logs and all("rewards/agentgym:toy/Lookup-v0/mean" in r for r in logs)
