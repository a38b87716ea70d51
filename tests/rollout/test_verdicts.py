"""Extra verifiers in the episode runner: the task's own and the ones passed in score each
episode beside the env, their failures are recorded, and the outcome stays the env's."""

from __future__ import annotations

import json

import pytest

import agentgym
from agentgym.core.types import Episode
from agentgym.policies import load_policy
from agentgym.rollout import EpisodeStore, Job, run_episode, run_many
from agentgym.verifiers import load_verifier
from tests.fakes.openai_server import error
from tests.rollout.verdict_helpers import JUDGED_ENV, Boom, EvenOnly, Peeks, verdict


async def play(env_id, policy, task_id, **kwargs) -> Episode:
    env = agentgym.make_async(env_id)
    try:
        return await run_episode(env, policy, task_id, **kwargs)
    finally:
        await env.close()


async def test_the_judge_a_task_names_scores_the_episode_and_the_outcome_stays_the_envs(openai_env):
    openai_env.push(verdict(3))  # the judge thinks poorly of a perfect run: it is only an opinion
    episode = await play(JUDGED_ENV, load_policy("oracle"), "reach-2")
    assert episode.status == "ok" and episode.success and episode.reward == 1.0
    assert episode.outcome.source == "counter"
    judged = episode.verdicts["task:judge"]
    assert judged.value == pytest.approx(0.3) and judged.source == "judge"
    assert episode.verdict_errors == {}
    # it judged this episode's conversation, after the episode had ended
    prompt = openai_env.requests[0]["messages"][-1]["content"]
    assert "counter is now 2" in prompt and "Make the counter reach 2." in prompt


async def test_a_task_naming_its_envs_own_verifier_is_not_scored_twice():
    env = agentgym.make_async("tooluse/Retail-v0")
    task_id = sorted(env.tasks)[0]
    await env.close()
    episode = await play("tooluse/Retail-v0", load_policy("oracle"), task_id)
    assert agentgym.make_async("tooluse/Retail-v0").tasks[task_id].verifier["name"] == "state_diff"
    assert episode.success and episode.verdicts == {} and episode.verdict_errors == {}


async def test_failing_verifiers_are_recorded_and_the_episode_is_untouched(openai_env, tmp_path):
    openai_env.push(error(500, "judge endpoint down"))
    plain = await play("test/Counter-v0", EvenOnly(), "reach-2")
    rules = load_verifier("tooluse_rules")  # cannot score a counter episode: VerifierError
    episode = await play(
        JUDGED_ENV,
        EvenOnly(),
        "reach-2",
        verifiers={"rules": rules, "boom": Boom(), "execution": load_verifier("execution")},
    )
    assert (episode.status, episode.reward, episode.error) == ("ok", 1.0, None)
    assert episode.outcome == plain.outcome
    assert set(episode.verdict_errors) == {"rules", "boom", "task:judge"}
    assert (
        episode.verdict_errors["rules"].startswith("VerifierError")
        and "tool-use" in episode.verdict_errors["rules"]
    )
    assert "KeyError" in episode.verdict_errors["boom"] and "bug" in episode.verdict_errors["boom"]
    assert "500" in episode.verdict_errors["task:judge"]
    assert set(episode.verdicts) == {"execution"}  # the one that could score did
    assert episode.verdicts["execution"].value == 1.0


async def test_run_many_stores_verdicts_and_verifiers_see_the_ended_episode_only(tmp_path):
    peeks = Peeks()
    store = EpisodeStore(tmp_path / "episodes.jsonl")
    jobs = [Job("reach-1"), Job("reach-2"), Job("reach-3")]
    ran = await run_many(
        lambda: agentgym.make_async("test/Counter-v0"),
        EvenOnly(),
        jobs,
        concurrency=2,
        store=store,
        verifiers={"peeks": peeks, "boom": Boom()},
    )
    stored = {e.task_id: e for e in store.load(strict=True)}
    assert {e.task_id: e.success for e in ran} == {
        "reach-1": False,
        "reach-2": True,
        "reach-3": False,
    }
    for episode in ran:
        assert stored[episode.task_id].verdicts == episode.verdicts
        assert episode.verdicts["peeks"].value == 1.0 and "boom" in episode.verdict_errors
        assert episode.status == "ok"
    assert len(peeks.seen) == 3
    for seen, task, live in peeks.seen:
        assert live  # scored while the env was still open on the episode's task
        assert seen.verdicts == {} and seen.verdict_errors == {}  # no other verifier's opinion
        assert task.data == {}  # a deployable verifier never sees hidden task data


def test_episode_records_without_verdicts_still_load(tmp_path, counter_env):
    record = Episode(env_id="test/Counter-v0", task_id="reach-1", policy="old").model_dump(
        mode="json"
    )
    for key in ("verdicts", "verdict_errors"):
        del record[key]
    path = tmp_path / "episodes.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (episode,) = EpisodeStore(path).load(strict=True)
    assert episode.verdicts == {} and episode.verdict_errors == {}
