"""Advantages, by hand: grpo, gigpo's anchor-state groups, step rewards, dynamic sampling."""

from __future__ import annotations

import math

import pytest

from agentgym.training import advantages as adv


def close(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        if isinstance(x, list):
            close(x, y)
        else:
            assert x == pytest.approx(y, abs=1e-4)


def test_normalize_and_groups():
    close(adv.normalize([1, 0, 0, 1]), [1, -1, -1, 1])  # mean 0.5, population std 0.5
    close(adv.normalize([3, 1], scale=False), [1, -1])
    # a value alone in its group carries no signal
    close(adv.normalize_by([1, 0, 5, 2], ["a", "a", "b", "c"]), [1, -1, 0, 0])


def test_discounted_returns():
    close(adv.discounted_returns([1, 0, 2], 0.5), [1.5, 1.0, 2.0])


def test_grpo_gives_every_step_its_episode_advantage():
    out = adv.grpo([1, 0, 0, 0], ["t", "t", "u", "u"], [2, 1, 3, 1])
    close(out, [[1, 1], [-1], [0, 0, 0], [0]])


def test_gigpo_adds_step_advantage_within_anchor_states():
    # episode A reaches the goal in three steps, B gives up after two; both start in state s0.
    # gamma 0.5: A's returns are [0.25, 0.5, 1], B's [0, 0]. Only s0 is shared: there A's step
    # (0.25) beats B's (0): +1 / -1. Other states are alone: no step advantage.
    out = adv.gigpo(
        outcomes=[1, 0],
        groups=["t", "t"],
        step_rewards=[[0, 0, 1], [0, 0]],
        state_keys=[["s0", "s1", "s2"], ["s0", "s3"]],
        gamma=0.5,
        step_weight=1.0,
    )
    close(out, [[2, 1, 1], [-2, -1]])


def test_gigpo_separates_a_detour_from_the_direct_path_in_the_same_state():
    # both episodes succeed (grpo sees nothing), but in s1 A answers at once while B loops once
    # through s1 again: from the shared state s1, A's return (1) beats B's first visit (0.5)
    out = adv.gigpo(
        outcomes=[1, 1],
        groups=["t", "t"],
        step_rewards=[[0, 1], [0, 0, 1]],
        state_keys=[["s0", "s1"], ["s0", "s1", "s1"]],
        gamma=0.5,
    )
    # s0: A 0.5 vs B 0.25 -> +1/-1. s1: A 1, B 0.5 and 1 -> mean 0.8333, std 0.2357
    s1 = [
        (1 - 5 / 6) / math.sqrt(1 / 18),
        (0.5 - 5 / 6) / math.sqrt(1 / 18),
        (1 - 5 / 6) / math.sqrt(1 / 18),
    ]
    close(out, [[1, s1[0]], [-1, s1[1], s1[2]]])
    assert adv.keep_informative(out, ["t", "t"]) == [True, True]
    assert adv.keep_informative(adv.grpo([1, 1], ["t", "t"], [2, 3]), ["t", "t"]) == [False, False]


def test_steps_without_a_state_key_get_no_step_advantage():
    out = adv.gigpo([1, 0], ["t", "t"], [[1], [0]], [[None], [None]], gamma=1.0)
    close(out, [[1], [-1]])


def test_step_rewards_are_normalised_in_the_group_then_summed_forward():
    # rewards 1, 0 | 0: mean 1/3, std sqrt(2/9): normalised 1.4142, -0.7071 | -0.7071
    close(
        adv.step_rewards_advantages(["g", "g"], [[1, 0], [0]], gamma=1.0),
        [[0.7071, -0.7071], [-0.7071]],
    )
    close(
        adv.step_rewards_advantages(["g", "g"], [[1, 0], [0]], gamma=0.5),
        [[1.0607, -0.7071], [-0.7071]],
    )


def test_dynamic_sampling_drops_only_groups_without_signal():
    advantages = adv.grpo([1, 0, 1, 1, 0, 0], list("aabbcc"), [1] * 6)
    assert adv.keep_informative(advantages, list("aabbcc")) == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]


def test_scale_negatives_shrinks_only_the_negative_advantages():
    scaled = adv.scale_negatives([[1.5, -1.0], [-0.5, 0.0]], 0.2)
    assert scaled == [[1.5, -0.2], [-0.1, 0.0]]
    assert adv.scale_negatives([[-2.0]], 1.0) == [[-2.0]]
    assert adv.scale_negatives([[-2.0, 3.0]], 0.0) == [[0.0, 3.0]]
