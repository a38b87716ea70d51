"""`agentgym train`: bad input is one line and exit code 2; a run writes its log and checkpoint."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agentgym.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "args, says",
    [
        (["toy/Lookup-v9"], "unknown env id"),
        (["toy/Lookup-v0", "--algo", "ppo"], "--algo 'ppo'"),
        (["toy/Lookup-v0", "--group-size", "1"], "--group-size"),
        (["toy/Lookup-v0", "--steps", "0"], "--steps"),
        (["toy/Lookup-v0", "--step-rewards", "oracle"], "--step-rewards"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, says, tiny_model, tmp_path):
    result = runner.invoke(
        app, ["train", *args, "--model", str(tiny_model), "--out", str(tmp_path / "run")]
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], result.output


def test_a_missing_model_is_one_line_and_exit_2(tmp_path):
    result = runner.invoke(
        app, ["train", "toy/Lookup-v0", "--model", str(tmp_path / "nope"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "no such directory" in result.output


def test_a_directory_without_a_model_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(
        app,
        [
            "train",
            "toy/Lookup-v0",
            "--model",
            str(tmp_path / "empty"),
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output


def test_train_writes_metrics_checkpoint_and_final_model(warm_model, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "train",
            "toy/Lookup-v0",
            "--model",
            str(warm_model),
            "--algo",
            "gigpo",
            "--group-size",
            "4",
            "--tasks-per-step",
            "2",
            "--steps",
            "2",
            "--eval-every",
            "2",
            "--warmup",
            "3",
            "--loss-agg",
            "episode",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2]
    # the learning rate rises linearly over the warm-up: 1/4, then 2/4 of --lr
    lrs = [r["lr"] for r in rows[1:] if r["samples"]]
    assert lrs and all(lr in (pytest.approx(2.5e-4), pytest.approx(5e-4)) for lr in lrs)
    assert "heldout_success" in rows[0] and "heldout_success" in rows[-1]
    updated = [r for r in rows[1:] if r["samples"]]
    for key in ("reward", "success", "kl_old", "entropy", "clip_fraction", "grad_norm"):
        assert all(key in r for r in updated), key
    assert (out / "checkpoint" / "trainer_state.pt").exists() and (
        out / "final" / "config.json"
    ).exists()
