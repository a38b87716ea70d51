"""A short seeded RL run on toy/Lookup-v0 raises the reward of the warm tiny model.

The full-length version (held-out success from <= 0.3 to >= 0.8) is bench/train_curve.py; this
one only has to show that updates move the policy the right way, fast enough for the suite.
"""

from __future__ import annotations

from agentgym.training.trainer import TrainConfig, Trainer


def test_rl_updates_raise_the_reward(warm_model, tmp_path):
    config = TrainConfig(env_id="toy/Lookup-v0", model=str(warm_model), algo="grpo", group_size=8,
                         tasks_per_step=4, steps=8, lr=1e-3, eval_every=0, max_new_tokens=28, seed=0)
    rows = Trainer(config, tmp_path / "run").train()
    rewards = [r["reward"] for r in rows]
    assert sum(r["samples"] for r in rows) > 0
    first, last = sum(rewards[:3]) / 3, sum(rewards[-3:]) / 3
    assert last > first + 0.1, rewards
