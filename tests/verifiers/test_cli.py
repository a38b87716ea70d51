"""`agentgym verifiers …` through the CLI: train a PRM, calibrate and rank verifiers on stored
episodes, and one line with exit code 2 for every kind of bad input."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")  # the `train` extra
from typer.testing import CliRunner

from agentgym.cli import app
from tests.verifiers.counter_episodes import counter_episodes

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, ["verifiers", *[str(a) for a in args]])


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    import asyncio

    root = tmp_path_factory.mktemp("runs")
    path = root / "episodes.jsonl"
    episodes = asyncio.run(counter_episodes(n_tasks=30, samples=6, seed=3))
    path.write_text("".join(e.model_dump_json() + "\n" for e in episodes))
    return root, path


@pytest.fixture(scope="module")
def prm_dir(stored):
    root, path = stored
    result = invoke("train-prm", path, "--out", root / "prm", "--epochs", 8)
    assert result.exit_code == 0, result.output
    assert "AUROC" in result.output and (root / "prm" / "prm.json").is_file()
    return root / "prm"


def test_list_says_which_verifiers_are_privileged():
    rows = {r["name"]: r for r in json.loads(invoke("list", "--json").output)}
    assert rows["execution"]["privileged"] is True and rows["judge"]["privileged"] is False
    assert rows["prm"]["privileged"] is False and rows["swe_regression"]["privileged"] is False


def test_calibrate_the_execution_verdict_against_itself_and_a_prm(stored, prm_dir):
    root, _ = stored
    result = invoke("calibrate", root, "--verifier", "execution", "--json")
    assert result.exit_code == 0, result.output
    same = json.loads(result.output)
    assert same["accuracy"] == 1.0 and same["auroc"] == 1.0 and same["privileged"] is True
    prm = json.loads(invoke("calibrate", root, "--verifier", f"prm:{prm_dir}", "--json").output)
    assert prm["privileged"] is False and prm["n"] == same["n"] and prm["auroc"] > 0.7
    table = invoke("calibrate", root, "-v", f"prm:{prm_dir}")
    assert "precision" in table.output and "AUROC" in table.output


def test_rank_reports_the_top_pick_of_each_verifier(stored, prm_dir):
    root, _ = stored
    spec = json.dumps({"name": "hybrid", "parts": ["execution", f"prm:{prm_dir}"], "weights": [1, 1]})
    result = invoke("rank", root, "-v", "execution", "-v", f"prm:{prm_dir}", "-v", spec, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    rows = {r["verifier"]: r for r in out["verifiers"]}
    assert rows["execution"]["pick_success"] == out["baselines"]["best_possible"]
    assert rows[f"prm:{prm_dir}"]["pick_success"] > out["baselines"]["random_pick"]
    assert rows[spec]["privileged"] is True  # a hybrid with a privileged part is privileged


@pytest.mark.parametrize("args, message", [
    (["calibrate", "/no/such/episodes.jsonl", "-v", "execution"], "no such episodes file"),
    (["calibrate", "{root}", "-v", "nosuch"], "unknown verifier 'nosuch'"),
    (["calibrate", "{root}", "-v", "{{not json"], "not valid JSON"),
    (["calibrate", "{root}", "-v", '{{"name": "hybrid"}}'], "needs 'parts'"),
    (["calibrate", "{root}", "-v", "prm:/no/such/dir"], "not a trained PRM"),
    (["calibrate", "{root}", "-v", "@/no/such/spec.json"], "cannot read verifier spec file"),
    (["calibrate", "{bad}", "-v", "execution"], "not a valid episode record"),
    (["rank", "{root}", "-v", "judge:nosuchpolicy"], "unknown policy"),
    (["train-prm", "{root}", "--out", "/proc/agentgym-prm"], "cannot write there"),
    (["train-prm", "{root}", "--out", "{tmp}/x", "--backbone", "/no/such/model"], "no such file"),
    (["train-prm", "/no/such/episodes.jsonl", "--out", "{tmp}/y"], "no such episodes file"),
])
def test_bad_input_is_one_line_and_exit_code_2(stored, tmp_path, args, message):
    root, _ = stored
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"this is": "not an episode"}\n')
    filled = [a.format(root=root, bad=bad, tmp=tmp_path) for a in args]
    result = invoke(*filled)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
