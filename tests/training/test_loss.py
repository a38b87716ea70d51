"""The loss: only the policy's own tokens carry it; clipping (with clip-higher); aggregation."""

from __future__ import annotations

import pytest
import torch

from agentgym.training.loss import LossOptions, Sample, episode_weight, pad_batch, policy_loss


def test_only_completion_tokens_are_in_the_loss_mask():
    samples = [Sample([5, 6, 7], [8, 9], 1.0), Sample([5], [8, 9, 10, 11], -1.0)]
    ids, attention, mask = pad_batch(samples, pad_id=0)
    assert ids.tolist() == [[5, 6, 7, 8, 9], [5, 8, 9, 10, 11]]
    assert mask.tolist() == [[0, 0, 0, 1, 1], [0, 1, 1, 1, 1]]
    short = pad_batch([Sample([5], [8], 1.0), Sample([5, 6], [8, 9], 1.0)], 0)
    assert short[1].tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]] and short[2].tolist() == [
        [0, 1, 0, 0],
        [0, 0, 1, 1],
    ]


def test_prompt_tokens_get_no_gradient():
    _, _, mask = pad_batch([Sample([1, 2, 3], [4, 5], 1.0)], 0)
    logp = torch.full(mask.shape, -1.0, requires_grad=True)
    loss, _ = policy_loss(logp, logp.detach(), torch.tensor([1.0]), mask, LossOptions())
    loss.backward()
    assert logp.grad[0, :3].abs().sum() == 0
    assert (logp.grad[0, 3:] != 0).all()


def test_clip_higher_bounds_the_ratio_asymmetrically():
    mask = torch.ones(1, 4)
    old = torch.zeros(1, 4)
    # ratios e^0.1=1.105, e^0.3=1.35 (above 1 + 0.28), e^-0.1=0.905, e^-0.3=0.741 (below 1 - 0.2)
    logp = torch.tensor([[0.1, 0.3, -0.1, -0.3]], requires_grad=True)
    loss, stats = policy_loss(
        logp, old, torch.tensor([1.0]), mask, LossOptions(clip_low=0.2, clip_high=0.28)
    )
    loss.backward()
    # positive advantage: the token past 1 + clip_high gets no gradient; the others still do
    assert logp.grad[0, 1] == 0 and (logp.grad[0, [0, 2, 3]] != 0).all()
    assert stats["clip_fraction"] == pytest.approx(0.25)
    logp2 = logp.detach().clone().requires_grad_(True)
    loss, _ = policy_loss(
        logp2, old, torch.tensor([-1.0]), mask, LossOptions(clip_low=0.2, clip_high=0.28)
    )
    loss.backward()
    assert logp2.grad[0, 3] == 0 and logp2.grad[0, 1] != 0  # negative: the low clip binds instead


def test_token_level_and_sequence_level_aggregation():
    # sequence 1 has 1 completion token, sequence 2 has 3; per-token loss is -A at ratio 1
    _, _, mask = pad_batch([Sample([1], [2], 1.0), Sample([1], [2, 3, 4], -1.0)], 0)
    logp = torch.zeros(mask.shape)
    adv = torch.tensor([1.0, -1.0])
    token, _ = policy_loss(logp, logp, adv, mask, LossOptions(token_level=True))
    seq, _ = policy_loss(logp, logp, adv, mask, LossOptions(token_level=False))
    assert float(token) == pytest.approx((-1 + 3) / 4)  # every token weighs the same
    assert float(seq) == pytest.approx((-1 + 1) / 2)  # every sequence weighs the same


def test_kl_to_the_reference_is_zero_at_the_reference_and_positive_away_from_it():
    mask = torch.ones(1, 3)
    logp = torch.log(torch.tensor([[0.5, 0.2, 0.9]]))
    _, same = policy_loss(
        logp, logp, torch.tensor([0.0]), mask, LossOptions(kl_coef=0.1), ref_logp=logp
    )
    _, moved = policy_loss(
        logp, logp, torch.tensor([0.0]), mask, LossOptions(kl_coef=0.1), ref_logp=logp - 0.5
    )
    assert same["kl_ref"] == pytest.approx(0.0) and moved["kl_ref"] > 0


def test_episode_weights_make_a_long_and_a_short_episode_weigh_the_same():
    # a 1-token success and a 4-token failure (two turns of 2): per-token loss is -A at ratio 1
    w_short, w_long = episode_weight(1), episode_weight(4)
    samples = [
        Sample([1], [2], 1.0, weight=w_short),
        Sample([1], [2, 3], -1.0, weight=w_long),
        Sample([1], [2, 3], -1.0, weight=w_long),
    ]
    _, _, mask = pad_batch(samples, 0)
    logp = torch.zeros(mask.shape)
    adv = torch.tensor([1.0, -1.0, -1.0])
    by_episode, _ = policy_loss(logp, logp, adv, mask, LossOptions(token_level=True))
    assert float(by_episode) == pytest.approx(0.0)  # (-1 * 1 + 1 * 1) / 2 episodes
    unweighted = pad_batch(
        [Sample(s.prompt_ids, s.completion_ids, s.advantage) for s in samples], 0
    )
    by_token, _ = policy_loss(logp, logp, adv, unweighted[2], LossOptions(token_level=True))
    assert float(by_token) == pytest.approx((-1 + 4) / 5)  # the long failure outweighs the success
