"""`agentgym search`: records in the usual schema, and bad input as one line with exit code 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agentgym.cli import app
from agentgym.core.types import Episode
from agentgym.search import SearchResult

POLICY = "agentgym.policies.step_noisy:StepNoisyOracle"
runner = CliRunner()


def test_search_writes_one_record_per_task(tmp_path):
    out = tmp_path / "search.jsonl"
    result = runner.invoke(
        app,
        [
            "search",
            "tooluse/Retail-v0",
            "--method",
            "beam",
            "--budget",
            "calls=20",
            "--policy",
            POLICY,
            "--verifier",
            "tooluse_rules",
            "--task",
            "retail-s0-00",
            "--task",
            "retail-s0-01",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and result.stdout.strip().splitlines() == lines
    records = [SearchResult.model_validate_json(line) for line in lines]
    assert [r.search.task_id for r in records] == ["retail-s0-00", "retail-s0-01"]
    for record in records:
        episode = Episode.model_validate(json.loads(record.model_dump_json())["episode"])
        assert episode.env_id == "tooluse/Retail-v0" and episode.steps
        assert record.search.spent.policy_calls <= 20 and record.search.envs_left_open == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "beam", "--budget", "calls=9", "--verifier", "env"], "privileged"),
        (
            ["--method", "beam", "--budget", "oops=9", "--verifier", "tooluse_rules"],
            "unknown budget",
        ),
        (["--method", "beam", "--budget", "calls=0", "--verifier", "tooluse_rules"], "positive"),
        (["--method", "dfs", "--budget", "calls=9"], "unknown search method"),
        (
            ["--method", "best-of-n", "--budget", "calls=9", "--selector", "verifier"],
            "needs a verifier",
        ),
        (["--method", "best-of-n", "--budget", "calls=9", "--width", "2"], "takes no width"),
        (["--method", "best-of-n", "--budget", "calls=9", "--task", "nope"], "no task 'nope'"),
        (["--method", "mcts", "--budget", "calls=9", "--verifier", "nosuch"], "unknown verifier"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = runner.invoke(app, ["search", "tooluse/Retail-v0", "--policy", POLICY, *args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output


def test_unknown_env_is_exit_2():
    result = runner.invoke(
        app, ["search", "tooluse/Retial-v0", "-m", "beam", "-b", "9", "-p", "oracle"]
    )
    assert result.exit_code == 2 and "Did you mean" in result.stderr
