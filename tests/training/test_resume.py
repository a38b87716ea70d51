"""An interrupted run resumes from its last checkpoint and ends exactly where an uninterrupted one does."""

from __future__ import annotations

import pytest
import torch

from agentgym.core.errors import UserInputError
from agentgym.training.trainer import TrainConfig, Trainer


class Interrupted(Exception):
    pass


def config(model, **kw):
    base = dict(
        env_id="toy/Lookup-v0",
        model=str(model),
        algo="grpo",
        group_size=8,
        tasks_per_step=2,
        steps=3,
        save_every=2,
        eval_every=0,
        max_new_tokens=32,
        seed=3,
    )
    return TrainConfig(**{**base, **kw})


def weights(out):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(out / "final").state_dict()


def test_resume_after_interruption_matches_an_uninterrupted_run(warm_model, tmp_path):
    straight = Trainer(config(warm_model), tmp_path / "straight").train()

    def stop_after_step_3(row):
        if row["step"] == 3:  # logged, but the run dies before its checkpoint
            raise Interrupted

    with pytest.raises(Interrupted):
        Trainer(config(warm_model), tmp_path / "cut").train(on_row=stop_after_step_3)
    resumed = Trainer(config(warm_model), tmp_path / "cut")
    assert resumed.step == 2  # the last complete checkpoint
    rows = resumed.train()

    assert [r["step"] for r in rows] == [1, 2, 3]  # step 3 logged once, by the resumed run
    assert any(r["samples"] for r in straight), "no update happened: the test would prove nothing"
    for a, b in zip(straight, rows, strict=True):
        assert a["reward"] == b["reward"] and a.get("loss") == b.get("loss")
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "cut")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resuming_with_other_settings_is_refused(warm_model, tmp_path):
    Trainer(config(warm_model, steps=1, save_every=1), tmp_path / "run").train()
    with pytest.raises(UserInputError, match="other settings"):
        Trainer(config(warm_model, steps=1, algo="gigpo"), tmp_path / "run")
