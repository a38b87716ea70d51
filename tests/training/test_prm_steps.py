"""Step rewards from a trained PRM: each step's reward becomes its progress V(after) - V(before)."""

from __future__ import annotations

import pytest

from agentgym.training.trainer import TrainConfig, Trainer, compute_advantages, prm_progress
from agentgym.verifiers.prm import train_prm


def test_prm_progress_replaces_step_rewards_and_feeds_the_step_algo(warm_model, tmp_path):
    config = TrainConfig(
        env_id="toy/Lookup-v0",
        model=str(warm_model),
        algo="step",
        group_size=8,
        tasks_per_step=4,
        steps=1,
        eval_every=0,
        max_new_tokens=28,
    )
    trainer = Trainer(config, tmp_path / "run")
    rollouts = trainer.rollouts(trainer.train_ids[:8], 8, 1.0, first_seed=11)
    episodes = [r.episode for r in rollouts]
    assert any(e.success for e in episodes) and not all(e.success for e in episodes)
    prm, _ = train_prm(episodes, tmp_path / "prm", epochs=3, holdout=0.0, seed=0)
    prm_progress(rollouts, prm)
    for r in rollouts:
        values = prm.episode_values(r.episode)
        assert sum(s.reward for s in r.episode.steps) == pytest.approx(
            values[-1] - values[0], abs=1e-5
        )
    advantages = compute_advantages(rollouts, config)
    assert any(abs(a) > 1e-6 for episode in advantages for a in episode)
