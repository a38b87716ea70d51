"""Advantages per step, from outcomes and per-step rewards. Pure functions over lists, so each
case can be checked by hand.

- grpo: an episode's outcome, normalised within its group (the k samples of one task); every
  step of the episode gets it.
- gigpo (GiGPO, Feng et al. 2025): the grpo advantage plus `step_weight` times a step advantage.
  Steps of one group that start from the same env state (same `state_key`) form an anchor
  group; a step's discounted return is normalised within its anchor group. Steps whose state no
  other step shares get no step advantage.
- step: process supervision over per-step rewards (the env's, or a PRM's progress): step rewards
  normalised within the group, and each step's advantage is the discounted sum of its own and
  later normalised rewards.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence

EPS = 1e-6
ALGOS = ("grpo", "gigpo", "step")


def normalize(values: Sequence[float], scale: bool = True) -> list[float]:
    """(v - mean) / (population std + eps); without `scale`, v - mean (Dr. GRPO's choice)."""
    if not values:
        return []
    mean = sum(values) / len(values)
    centred = [v - mean for v in values]
    if not scale:
        return centred
    std = math.sqrt(sum(c * c for c in centred) / len(values))
    return [c / (std + EPS) for c in centred]


def normalize_by(
    values: Sequence[float], keys: Sequence[Hashable], scale: bool = True
) -> list[float]:
    """`normalize` within each set of values sharing a key; a value alone in its set gets 0."""
    members: dict[Hashable, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        members[k].append(i)
    out = [0.0] * len(values)
    for idx in members.values():
        if len(idx) > 1:
            for i, a in zip(idx, normalize([values[i] for i in idx], scale), strict=True):
                out[i] = a
    return out


def discounted_returns(rewards: Sequence[float], gamma: float) -> list[float]:
    """G_t = r_t + gamma * G_{t+1}."""
    out, running = [0.0] * len(rewards), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def grpo(
    outcomes: Sequence[float],
    groups: Sequence[Hashable],
    lengths: Sequence[int],
    scale: bool = True,
) -> list[list[float]]:
    """Per episode, its group-normalised outcome repeated for each of its steps."""
    per_episode = normalize_by(outcomes, groups, scale)
    return [[a] * n for a, n in zip(per_episode, lengths, strict=True)]


def gigpo(
    outcomes: Sequence[float],
    groups: Sequence[Hashable],
    step_rewards: Sequence[Sequence[float]],
    state_keys: Sequence[Sequence[Hashable | None]],
    gamma: float = 0.95,
    step_weight: float = 1.0,
    scale: bool = True,
) -> list[list[float]]:
    """grpo's episode advantage plus `step_weight` x the anchor-state step advantage."""
    episode_adv = grpo(outcomes, groups, [len(r) for r in step_rewards], scale)
    flat_returns, flat_keys, where = [], [], []
    for e, (rewards, keys) in enumerate(zip(step_rewards, state_keys, strict=True)):
        for t, (ret, key) in enumerate(zip(discounted_returns(rewards, gamma), keys, strict=True)):
            flat_returns.append(ret)
            # a step without a state key is in no anchor group: a unique key keeps it alone
            flat_keys.append((groups[e], key) if key is not None else ("__alone__", e, t))
            where.append((e, t))
    step_adv = normalize_by(flat_returns, flat_keys, scale)
    out = [list(a) for a in episode_adv]
    for (e, t), a in zip(where, step_adv, strict=True):
        out[e][t] += step_weight * a
    return out


def step_rewards_advantages(
    groups: Sequence[Hashable],
    step_rewards: Sequence[Sequence[float]],
    gamma: float = 1.0,
    scale: bool = True,
) -> list[list[float]]:
    """Process supervision: every step reward normalised within its group (all steps of all its
    episodes), then A_t = sum over j >= t of gamma^(j-t) * normalised r_j."""
    flat, keys, where = [], [], []
    for e, rewards in enumerate(step_rewards):
        for t, r in enumerate(rewards):
            flat.append(r)
            keys.append(groups[e])
            where.append((e, t))
    normed = normalize_by(flat, keys, scale)
    per_episode: list[list[float]] = [[0.0] * len(r) for r in step_rewards]
    for (e, t), v in zip(where, normed, strict=True):
        per_episode[e][t] = v
    return [discounted_returns(r, gamma) for r in per_episode]


def scale_negatives(advantages: Sequence[Sequence[float]], weight: float) -> list[list[float]]:
    """Every negative advantage times `weight` (1 leaves them; 0 keeps only the better-than-average
    samples, as rejection-sampling fine-tuning does)."""
    return [[a if a > 0 else a * weight for a in episode] for episode in advantages]


def keep_informative(
    advantages: Sequence[Sequence[float]], groups: Sequence[Hashable]
) -> list[bool]:
    """Dynamic sampling (DAPO): per episode, whether its group carries any signal. A group whose
    every step advantage is zero (e.g. all k samples got the same reward under grpo) is dropped."""
    signal: dict[Hashable, bool] = defaultdict(bool)
    for adv, g in zip(advantages, groups, strict=True):
        signal[g] |= any(abs(a) > EPS for a in adv)
    return [signal[g] for g in groups]
