"""`agentgym eval --verifier`: extra verifiers in the records, in results.json with their
agreement with the env's verdict, in the printed table, and in the resume guard."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentgym.cli import app
from agentgym.core.types import Episode
from tests.fakes.openai_server import text
from tests.rollout.verdict_helpers import TASK_JUDGE, verdict

EVEN_ONLY = "tests.rollout.verdict_helpers:EvenOnly"  # reaches targets 2 and 4 of 1..5
JUDGE = json.dumps(TASK_JUDGE)  # the same judge, given on the command line


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def episodes(out: Path) -> list[Episode]:
    return [
        Episode.model_validate_json(x) for x in (out / "episodes.jsonl").read_text().splitlines()
    ]


def judge_by_final_count(request):
    """The fake judge: 0.9 when the conversation shows the counter at its target, else 0.2 —
    except for target 3, which it gets wrong (it misses what happened)."""
    prompt = request["messages"][-1]["content"]
    target = int(prompt.split("Make the counter reach ")[1][0])
    reached = f"counter is now {target}" in prompt
    return verdict(9 if reached or target == 3 else 2)


def test_verifiers_score_every_episode_and_results_report_their_agreement(openai_env, tmp_path):
    openai_env.responder = judge_by_final_count
    result = invoke(
        "eval",
        "test/Counter-v0",
        "-p",
        EVEN_ONLY,
        "--out",
        tmp_path,
        "--verifier",
        JUDGE,
        "--verifier",
        "execution",
        "--verifier",
        "tooluse_rules",
    )
    assert result.exit_code == 0, result.output
    eps = {e.task_id: e for e in episodes(tmp_path)}
    assert {t: e.success for t, e in eps.items()} == {
        "reach-1": False,
        "reach-2": True,
        "reach-3": False,
        "reach-4": True,
        "reach-5": False,
    }
    assert {t: e.verdicts["judge"].value for t, e in eps.items()} == {
        "reach-1": 0.2,
        "reach-2": 0.9,
        "reach-3": 0.9,
        "reach-4": 0.9,
        "reach-5": 0.2,
    }
    assert all(e.reward == float(e.success) for e in eps.values())  # the judge changed no reward
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["success_rate"] == 0.4
    judge, execution, rules = (
        results["verifiers"][k] for k in ("judge", "execution", "tooluse_rules")
    )
    assert list(results["verifiers"]) == ["judge", "execution", "tooluse_rules"]
    assert (judge["scored"], judge["failed"]) == (5, 0) and abs(judge["mean"] - 0.62) < 1e-9
    # it passes 2 and 4 (right) and 3 (wrong), fails 1 and 5 (right): 4 of 5. Of the 6
    # (success, failure) pairs it ranks 4 the right way round and ties 2 (with target 3)
    assert judge["agreement"]["accuracy"] == 0.8 and judge["agreement"]["positives"] == 2
    assert judge["agreement"]["auroc"] == (4 + 2 * 0.5) / 6
    assert execution["agreement"]["accuracy"] == 1.0 and execution["agreement"]["auroc"] == 1.0
    assert (rules["scored"], rules["failed"], rules["mean"], rules["agreement"]) == (
        0,
        5,
        None,
        None,
    )
    assert all("tool-use" in e.verdict_errors["tooluse_rules"] for e in eps.values())
    run = json.loads((tmp_path / "run.json").read_text())
    assert list(run["config"]["verifiers"]) == ["judge", "execution", "tooluse_rules"]
    assert run["config"]["verifiers"]["judge"]["policy"] == "openai:fake-model"
    # the printed table: one row per verifier
    assert "extra verifiers" in result.output
    row = next(line for line in result.output.splitlines() if "│ judge" in line)
    assert "0.620" in row and "0.800" in row and "0.833" in row


def test_the_tasks_own_judge_is_reported_without_a_flag(openai_env, tmp_path):
    openai_env.responder = judge_by_final_count
    result = invoke("eval", "test/CounterJudged-v0", "-p", EVEN_ONLY, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["verifiers"]["task:judge"]["scored"] == 3
    assert results["verifiers"]["task:judge"]["agreement"]["accuracy"] == 2 / 3  # wrong on 3


def test_the_judges_tokens_are_counted_apart_from_the_policys(openai_env, tmp_path):
    def judge_with_usage(request):
        return text(verdict(8), usage={"prompt_tokens": 100, "completion_tokens": 7})

    openai_env.responder = judge_with_usage
    result = invoke(
        "eval",
        "test/Counter-v0",
        "-p",
        EVEN_ONLY,
        "--out",
        tmp_path,
        "--verifier",
        JUDGE,
        "--verifier",
        "execution",
    )
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "results.json").read_text())
    totals, verifiers = results["totals"], results["verifiers"]
    # five episodes, one judge call each; the policy (a Python one) spent no tokens
    assert (totals["verifier_prompt_tokens"], totals["verifier_completion_tokens"]) == (500, 35)
    assert (totals["prompt_tokens"], totals["completion_tokens"]) == (0, 0)
    assert (verifiers["judge"]["prompt_tokens"], verifiers["judge"]["completion_tokens"]) == (
        500,
        35,
    )
    assert verifiers["execution"]["prompt_tokens"] == 0
    assert all(e.verdicts["judge"].components["prompt_tokens"] == 100 for e in episodes(tmp_path))


def test_a_bad_verifier_spec_stops_the_run_before_it_starts(tmp_path):
    for spec, says in [
        ("nosuch", "unknown verifier 'nosuch'"),
        ("{bad", "not valid JSON"),
        ("judge:nosuch_module:Agent", "cannot import 'nosuch_module'"),  # a policy that is none
        ('{"name": "judge", "bogus": 1}', "bogus"),
    ]:
        result = invoke(
            "eval", "test/Counter-v0", "-p", "oracle", "--out", tmp_path / "out", "--verifier", spec
        )
        assert result.exit_code == 2, (spec, result.output)
        assert says in result.output and len(result.output.strip().splitlines()) == 1, result.output
        assert not (tmp_path / "out" / "run.json").exists()


def test_resuming_with_another_set_of_verifiers_is_refused_without_force(tmp_path):
    first = invoke(
        "eval",
        "test/Counter-v0",
        "-p",
        "oracle",
        "-n",
        2,
        "--out",
        tmp_path,
        "--verifier",
        "execution",
    )
    assert first.exit_code == 0, first.output
    same = invoke(
        "eval",
        "test/Counter-v0",
        "-p",
        "oracle",
        "-n",
        3,
        "--out",
        tmp_path,
        "--verifier",
        "execution",
    )
    assert same.exit_code == 0, same.output
    assert len(episodes(tmp_path)) == 3  # resumed: one new episode
    for other in (["--verifier", "execution", "--verifier", "tooluse_rules"], []):
        refused = invoke(
            "eval", "test/Counter-v0", "-p", "oracle", "-n", 3, "--out", tmp_path, *other
        )
        assert refused.exit_code == 2 and "verifiers" in refused.output, refused.output
    assert len(episodes(tmp_path)) == 3
    forced = invoke(
        "eval", "test/Counter-v0", "-p", "oracle", "-n", 1, "--out", tmp_path, "--force"
    )
    assert forced.exit_code == 0, forced.output
    assert [e.verdicts for e in episodes(tmp_path)] == [{}]


def test_verifiers_can_come_from_the_config_file(tmp_path):
    config = tmp_path / "eval.toml"
    config.write_text(
        'policy = "oracle"\nn = 1\nverifiers = ["execution", {name = "tooluse_rules"}]\n'
    )
    result = invoke("eval", "test/Counter-v0", "--config", config, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    (episode,) = episodes(tmp_path / "out")
    assert episode.verdicts["execution"].value == 1.0 and "tooluse_rules" in episode.verdict_errors
    bad = tmp_path / "bad.toml"
    bad.write_text('policy = "oracle"\nverifiers = [1]\n')
    refused = invoke("eval", "test/Counter-v0", "--config", bad, "--out", tmp_path / "bad")
    assert refused.exit_code == 2 and "verifier specs" in refused.output, refused.output
