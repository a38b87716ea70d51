"""The policy-gradient loss on per-turn samples: PPO-style clipping with DAPO's options.

A sample is one policy turn: the prompt as the model saw it and the tokens it sampled. Only those
sampled tokens carry loss (`loss_mask`); the prompt, which holds the env's and the user's
messages, never does.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Sample:
    prompt_ids: list[int]
    completion_ids: list[int]
    advantage: float
    old_logprobs: list[float] | None = None  # filled before the update (the behaviour policy)
    weight: float = 1.0  # each completion token's weight in the loss (see `episode_weight`)


@dataclass
class LossOptions:
    clip_low: float = 0.2
    clip_high: float = 0.28  # DAPO's clip-higher: > clip_low lets unlikely tokens grow
    token_level: bool = True  # DAPO: average over all tokens of the batch, not per sequence first
    kl_coef: float = 0.0  # weight of the k3 KL estimate to the reference model


def pad_batch(
    samples: list[Sample], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """input_ids, attention_mask and loss_mask (the sample's weight on its completion tokens, 0
    elsewhere), right-padded."""
    width = max(len(s.prompt_ids) + len(s.completion_ids) for s in samples)
    ids = torch.full((len(samples), width), pad_id, dtype=torch.long)
    attention = torch.zeros_like(ids)
    loss_mask = torch.zeros_like(ids, dtype=torch.float)
    for i, s in enumerate(samples):
        n_prompt, n = len(s.prompt_ids), len(s.prompt_ids) + len(s.completion_ids)
        ids[i, :n] = torch.tensor(s.prompt_ids + s.completion_ids)
        attention[i, :n] = 1
        loss_mask[i, n_prompt:n] = s.weight
    return ids, attention, loss_mask


def token_logprobs(model, ids: torch.Tensor, attention: torch.Tensor, with_entropy: bool = False):
    """log p(token_t | tokens_<t) at every position (position 0 gets 0), and the entropy there."""
    logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
    logp_all = torch.log_softmax(logits, dim=-1)
    chosen = logp_all.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    zero = torch.zeros_like(chosen[:, :1])
    logp = torch.cat([zero, chosen], dim=1)
    if not with_entropy:
        return logp, None
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, torch.cat([zero, entropy], dim=1)


def policy_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    loss_mask: torch.Tensor,
    options: LossOptions,
    ref_logp: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Clipped surrogate (+ k3 KL) over masked tokens; returns the loss and its statistics."""
    ratio = torch.exp(logp - old_logp)
    adv = advantages.unsqueeze(1)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1 - options.clip_low, 1 + options.clip_high) * adv
    per_token = -torch.minimum(unclipped, clipped)
    kl = torch.zeros_like(per_token)
    if ref_logp is not None:
        delta = ref_logp - logp
        kl = torch.exp(delta) - delta - 1  # k3: unbiased, always >= 0
        per_token = per_token + options.kl_coef * kl
    mask = loss_mask
    if options.token_level:
        loss = (per_token * mask).sum() / mask.sum().clamp(min=1e-9)
    else:
        per_seq = (per_token * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        loss = per_seq.mean()
    with torch.no_grad():
        n = mask.sum().clamp(min=1e-9)
        was_clipped = ((clipped < unclipped).float() * mask).sum() / n
        stats = {
            "clip_fraction": float(was_clipped),
            "kl_ref": float((kl * mask).sum() / n),
            "ratio_mean": float((ratio * mask).sum() / n),
        }
    return loss, stats


def episode_weight(completion_tokens: int) -> float:
    """The per-token weight that makes every episode weigh the same in a token-level loss: 1 / the
    episode's completion tokens. Without it a long failed episode outweighs a short success, and
    the tokens every episode shares (the call format) drift down."""
    return 1.0 / max(completion_tokens, 1)
