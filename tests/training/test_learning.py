"""RL updates move the tiny model the right way, and a short seeded run raises its reward.

The full-length version (held-out success before and after RL) is bench/train_curve.py.
"""

from __future__ import annotations

import torch

from agentgym.training import advantages as adv
from agentgym.training.loss import pad_batch, token_logprobs
from agentgym.training.trainer import TrainConfig, Trainer, compute_advantages, to_samples


def config(model, **kw):
    base = dict(
        env_id="toy/Lookup-v0",
        model=str(model),
        algo="grpo",
        group_size=8,
        tasks_per_step=4,
        steps=8,
        lr=5e-4,
        eval_every=0,
        max_new_tokens=28,
        seed=0,
    )
    return TrainConfig(**{**base, **kw})


def mean_logprob(trainer, samples):
    with torch.no_grad():
        ids, attention, mask = pad_batch(samples, trainer.tokenizer.pad_token_id)
        logp, _ = token_logprobs(trainer.model, ids, attention)
    return ((logp * mask).sum(1) / mask.sum(1)).tolist()


def test_updates_raise_rewarded_completions_and_lower_the_others(warm_model, tmp_path):
    trainer = Trainer(config(warm_model), tmp_path / "run")
    rollouts = trainer.rollouts(trainer.train_ids[:6], 8, 1.0, first_seed=7)
    advantages = compute_advantages(rollouts, trainer.config)
    keep = adv.keep_informative(advantages, [r.group for r in rollouts])
    samples = to_samples(rollouts, advantages, keep)
    assert any(s.advantage > 0 for s in samples) and any(s.advantage < 0 for s in samples)
    before = mean_logprob(trainer, samples)
    for _ in range(3):
        trainer.update(samples)
    after = mean_logprob(trainer, samples)
    up = [a - b for a, b, s in zip(after, before, samples, strict=True) if s.advantage > 0]
    down = [a - b for a, b, s in zip(after, before, samples, strict=True) if s.advantage < 0]
    assert sum(up) / len(up) > 0 > sum(down) / len(down)
