"""The CLI through its public entry point: typer's runner in-process, and the real binary once."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgym.cli import app
from agentgym.core.types import Episode

runner = CliRunner()
RETAIL = "tooluse/Retail-v0"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def episodes(out: Path) -> list[Episode]:
    return [Episode.model_validate_json(line) for line in (out / "episodes.jsonl").read_text().splitlines()]


def test_list_json_names_every_env_with_task_counts():
    result = invoke("list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.output)}
    assert rows[RETAIL]["family"] == "tooluse" and rows[RETAIL]["n_tasks"] >= 50
    assert rows["test/Counter-v0"]["description"] == "framework test env"


def test_list_table_and_family_filter():
    result = invoke("list")
    assert result.exit_code == 0 and "tooluse/Retail-v0" in result.output
    rows = json.loads(invoke("list", "--json", "--family", "tooluse").output)
    assert [r["id"] for r in rows] == ["tooluse/Airline-v0", RETAIL]  # sorted by id


def test_oracle_scores_one_on_fifty_retail_tasks(tmp_path):
    out = tmp_path / "oracle"
    result = invoke("eval", RETAIL, "--policy", "oracle", "-n", 50, "--out", out)
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert results["success_rate"] == 1.0 and results["n_tasks"] == 50
    assert results["env_id"] == RETAIL and results["policy"] == "oracle" and results["k"] == 1
    assert results["pass_at_k"] == 1.0 and results["n_infra_errors"] == 0
    assert set(results) >= {"mean_reward", "ci95", "per_task", "versions"}
    eps = episodes(out)
    assert len(eps) == 50 and all(e.status == "ok" and e.reward == 1.0 for e in eps)
    assert "success" in result.output  # the table


def test_random_policy_scores_clearly_lower(tmp_path):
    out = tmp_path / "random"
    result = invoke("eval", RETAIL, "--policy", "random", "-n", 50, "--out", out)
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert results["success_rate"] <= 0.3 and results["n_tasks"] == 50
    assert len(episodes(out)) == 50


def test_eval_resumes_and_skips_finished_pairs(tmp_path):
    out = tmp_path / "resume"
    assert invoke("eval", "test/Counter-v0", "-p", "oracle", "-n", 2, "-k", 2, "--out", out).exit_code == 0
    assert len(episodes(out)) == 4
    result = invoke("eval", "test/Counter-v0", "-p", "oracle", "-n", 3, "-k", 2, "--out", out)
    assert result.exit_code == 0, result.output
    eps = episodes(out)
    assert len(eps) == 6 and len({(e.task_id, e.sample) for e in eps}) == 6
    assert invoke("eval", "test/Counter-v0", "-p", "oracle", "-n", 3, "-k", 2, "--out", out).exit_code == 0
    assert len(episodes(out)) == 6
    results = json.loads((out / "results.json").read_text())
    assert results["n_tasks"] == 3 and results["n_episodes"] == 6


def test_run_shows_the_episode_step_by_step():
    result = invoke("run", "test/Counter-v0", "--policy", "oracle", "--task", "reach-2")
    assert result.exit_code == 0, result.output
    assert "→ add" in result.output and "counter is now 2" in result.output
    assert "status ok, reward 1.000" in result.output


def test_run_json_prints_a_valid_episode():
    result = invoke("run", "test/Counter-v0", "--policy", "oracle", "--seed", "3", "--json")
    assert result.exit_code == 0, result.output
    episode = Episode.model_validate_json(result.output)
    assert episode.env_id == "test/Counter-v0" and episode.success


@pytest.mark.parametrize("args,message", [
    (["eval", "tooluse/Retial-v0", "-p", "oracle", "--out", "{tmp}"], "unknown env id 'tooluse/Retial-v0'. Did you mean: tooluse/Retail-v0"),
    (["run", "nope/Nothing-v0", "-p", "oracle"], "unknown env id 'nope/Nothing-v0'"),
    (["eval", "test/Counter-v0", "-p", "nosuchpolicy", "--out", "{tmp}"], "policy"),
    (["eval", "test/Counter-v0", "-p", "oracle", "--out", "{tmp}/file/sub"], "not writable"),
    (["run", "test/Counter-v0", "-p", "oracle", "--task", "missing"], "has no task 'missing'"),
    (["eval", "test/Counter-v0", "-p", "oracle", "-k", "0", "--out", "{tmp}"], "-k must be at least 1"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, args, message):
    (tmp_path / "file").write_text("a file, not a directory")
    result = invoke(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_invalid_task_file_names_line_and_field(tmp_path):
    good = (Path(__file__).parents[2] / "tasks" / "tooluse" / "retail.jsonl").read_text().splitlines()[0]
    bad = json.loads(good)
    del bad["prompt"]
    path = tmp_path / "tasks.jsonl"
    path.write_text(good + "\n" + json.dumps(bad) + "\n")
    result = invoke("eval", RETAIL, "-p", "oracle", "--tasks", path, "--out", tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert f"{path}:2" in result.output and "prompt" in result.output
    result = invoke("eval", RETAIL, "-p", "oracle", "--tasks", tmp_path / "missing.jsonl", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "missing.jsonl" in result.output


def test_real_binary_exit_codes(tmp_path):
    exe = Path(sys.executable).parent / "agentgym"
    proc = subprocess.run([exe, "eval", "tooluse/Retail-v9", "-p", "oracle", "--out", tmp_path],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Did you mean: tooluse/Retail-v0" in proc.stderr
    proc = subprocess.run([exe, "eval", RETAIL, "-p", "oracle", "-n", "3", "--out", tmp_path / "ok"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "ok" / "results.json").read_text())["success_rate"] == 1.0


def test_run_one_task_of_ones_own_task_file(tmp_path):
    source = Path(__file__).parents[2] / "tasks" / "tooluse" / "retail.jsonl"
    mine = tmp_path / "mine.jsonl"
    mine.write_text(source.read_text().splitlines()[5] + "\n")
    task_id = json.loads(mine.read_text())["id"]
    result = invoke("run", RETAIL, "-p", "oracle", "--tasks", mine, "--task", task_id, "--json")
    assert result.exit_code == 0, result.output
    episode = Episode.model_validate_json(result.output)
    assert episode.task_id == task_id and episode.success
    result = invoke("run", RETAIL, "-p", "oracle", "--tasks", mine, "--task", "retail-s0-00")
    assert result.exit_code == 2 and "no task 'retail-s0-00'" in result.output


def test_backend_flag_is_checked(tmp_path):
    result = invoke("run", RETAIL, "-p", "oracle", "--backend", "docker")
    assert result.exit_code == 2 and "runs no sandbox" in result.output
    result = invoke("eval", "swe/Mutants-v1", "-p", "oracle", "--backend", "podman", "--out", tmp_path)
    assert result.exit_code == 2 and "use one of bwrap, docker" in result.output


@pytest.mark.docker
@pytest.mark.slow
def test_eval_a_swe_task_on_the_docker_backend(tmp_path):
    from tests.sandbox.conftest import docker_reason, need

    need(docker_reason() is None, docker_reason() or "")
    result = invoke("eval", "swe/Mutants-v1", "-p", "oracle", "-n", 1, "--backend", "docker", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    (episode,) = episodes(tmp_path)
    assert episode.success, episode.outcome
    assert json.loads((tmp_path / "run.json").read_text())["config"]["env_kwargs"] == {"backend": "docker"}
