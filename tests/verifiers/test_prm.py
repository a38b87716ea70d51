"""The process reward model: Monte-Carlo targets, training on generated episodes, held-out
separation of successes from failures, step rewards as progress, save/load, a transformers
backbone built from a config."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")  # the `train` extra

from agentgym.core.errors import UserInputError
from agentgym.verifiers import load_verifier, score_episode, score_step
from agentgym.verifiers.metrics import auroc
from agentgym.verifiers.prm import PRMVerifier, ProcessRewardModel, train_prm
from agentgym.verifiers.prm_data import collect_states, split_by_group
from agentgym.verifiers.trajectory import state_key
from tests.verifiers.counter_episodes import counter_episodes


@pytest.fixture(scope="module")
def episodes():
    import asyncio

    return asyncio.run(counter_episodes(n_tasks=30, samples=8, seed=0))


@pytest.fixture(scope="module")
def trained(episodes, tmp_path_factory):
    out = tmp_path_factory.mktemp("prm")
    prm, report = train_prm(episodes, out, epochs=10, holdout=0.25, seed=0)
    return out, prm, report


def test_targets_are_success_rates_of_the_episodes_through_a_state(episodes):
    states = {s.key: s for s in collect_states(episodes)}
    for task_id in {e.task_id for e in episodes}:
        mine = [e for e in episodes if e.task_id == task_id]
        root = states[state_key(mine[0], 0)]  # before any action: every sample of the task
        assert root.visits == len(mine)
        assert root.target == pytest.approx(sum(e.success for e in mine) / len(mine))
    ends = [states[state_key(e, len(e.steps))] for e in episodes]
    assert all(s.target in (0.0, 1.0) for s in ends)  # the deterministic end state knows its outcome


def test_the_prm_separates_held_out_successes_from_failures(episodes, trained):
    _, prm, report = trained
    train, held = split_by_group(episodes, lambda e: f"{e.env_id}/{e.task_id}", 0.25, 0)
    assert {e.task_id for e in train}.isdisjoint({e.task_id for e in held})
    assert report.heldout_episodes == len(held) > 0
    scores = [prm.episode_values(e)[-1] for e in held]
    value = auroc(scores, [e.success for e in held])
    assert value == pytest.approx(report.heldout_auroc)
    assert value > 0.75  # chance is 0.5; the habits that fail visibly are learned


async def test_step_rewards_are_progress_and_sum_to_the_change_in_value(episodes, trained):
    out, prm, _ = trained
    verifier = load_verifier(f"prm:{out}")
    assert isinstance(verifier, PRMVerifier) and verifier.privileged is False
    from tests.core.counter_env import counter_tasks

    tasks = {t.id: t for t in counter_tasks(30)}
    episode = next(e for e in episodes if len(e.steps) >= 3)
    steps = [await score_step(verifier, episode, i, tasks[episode.task_id]) for i in range(len(episode.steps))]
    values = prm.episode_values(episode)
    assert sum(s.value for s in steps) == pytest.approx(values[-1] - values[0], abs=1e-5)
    outcome = await score_episode(verifier, episode, tasks[episode.task_id])
    assert outcome.value == pytest.approx(values[-1], abs=1e-6) and 0 <= outcome.value <= 1
    # failing visibly (a refused tool call) lowers the value
    reckless = [e for e in episodes if any((m.content or "").startswith("Error") for s in e.steps
                                           for m in s.tool_results)]
    careful = [e for e in episodes if e.success]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    assert mean([prm.episode_values(e)[-1] for e in reckless]) < mean([prm.episode_values(e)[-1] for e in careful]) - 0.3


def test_a_saved_prm_loads_with_the_same_predictions(trained, episodes):
    out, prm, _ = trained
    again = ProcessRewardModel.load(out)
    assert again.episode_values(episodes[0]) == pytest.approx(prm.episode_values(episodes[0]), abs=1e-6)
    assert again.meta["report"]["heldout_auroc"] is not None


def test_bad_training_input_is_a_clear_error(episodes, tmp_path):
    with pytest.raises(UserInputError, match="all successes or all failures"):
        train_prm([e for e in episodes if e.success], tmp_path / "x", epochs=1)
    with pytest.raises(UserInputError, match="not a trained PRM"):
        load_verifier(f"prm:{tmp_path}")


@pytest.mark.slow  # importing transformers alone takes seconds
def test_a_transformers_backbone_trains_saves_and_loads(episodes, tmp_path):
    config = {"model_type": "bert", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
              "intermediate_size": 32, "max_position_embeddings": 260}
    prm, report = train_prm(episodes[:64], tmp_path / "tiny", backbone=config, epochs=1, holdout=0.0,
                            batch_size=16)
    assert prm.model.kind == "transformers" and report.train_states > 0
    loaded = load_verifier(f"prm:{tmp_path / 'tiny'}")
    assert loaded.prm.episode_values(episodes[1]) == pytest.approx(prm.episode_values(episodes[1]), abs=1e-5)
