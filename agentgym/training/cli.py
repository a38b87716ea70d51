"""`agentgym train ENV_ID --model PATH --algo grpo|gigpo|step --group-size G --steps N --out DIR`.

Registered on the main app by `cli.py`. torch and transformers are imported only when the
command runs, so `agentgym --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from agentgym.cli_common import clean_errors, console
from agentgym.core.errors import UserInputError
from agentgym.training.advantages import ALGOS  # pure Python: no torch at import


@clean_errors
def train_cmd(
    env_id: str = typer.Argument(..., help="The env to train on, such as toy/Lookup-v0."),
    model: str = typer.Option(
        ..., "--model", help="A local model directory (weights, tokenizer, chat template)."
    ),
    algo: str = typer.Option(
        "grpo", "--algo", help="grpo | gigpo (anchor-state step credit) | step (step rewards)."
    ),
    group_size: int = typer.Option(
        8, "--group-size", help="Samples per task: the group advantages compare."
    ),
    steps: int = typer.Option(
        50, "--steps", help="Updates to run (a resumed run continues up to this)."
    ),
    out: str = typer.Option(..., "--out", help="Run folder: log.jsonl, checkpoint/, final/."),
    tasks_per_step: int = typer.Option(4, "--tasks-per-step", help="Tasks sampled per update."),
    lr: float = typer.Option(1e-3, "--lr"),
    temperature: float = typer.Option(
        1.0, "--temperature", help="Sampling temperature for rollouts."
    ),
    kl_coef: float = typer.Option(
        0.0, "--kl", help="Weight of the KL to the starting model (0: none)."
    ),
    clip_high: float = typer.Option(
        0.28, "--clip-high", help="Upper clip (DAPO's clip-higher; 0.2 = PPO's)."
    ),
    loss_agg: str = typer.Option(
        "token",
        "--loss-agg",
        help="Average token losses over all tokens (token, DAPO), per turn first (turn, GRPO) or "
        "with every episode weighing the same (episode).",
    ),
    keep_flat_groups: bool = typer.Option(
        False,
        "--keep-flat-groups",
        help="Keep groups whose advantages are all zero (no dynamic sampling).",
    ),
    warmup: int = typer.Option(
        0, "--warmup", help="Updates over which the learning rate rises linearly to --lr."
    ),
    negative_weight: float = typer.Option(
        1.0,
        "--negative-weight",
        help="Scale on negative advantages (1: plain GRPO; 0: only better-than-average samples).",
    ),
    max_turns: int | None = typer.Option(
        None, "--max-turns", help="Turns per training episode (default: the env's limit)."
    ),
    gamma: float = typer.Option(0.9, "--gamma", help="Discount for step returns (gigpo, step)."),
    step_rewards: str = typer.Option(
        "env", "--step-rewards", help="env, or prm:DIR for a PRM's progress."
    ),
    eval_every: int = typer.Option(
        5, "--eval-every", help="Held-out evaluation every N updates (0: never)."
    ),
    seed: int = typer.Option(0, "--seed"),
):
    """Train a local model with RL on an env; resumes from DIR/checkpoint when it exists."""
    from pydantic import ValidationError

    from agentgym.core.registry import spec

    if algo not in ALGOS:
        raise UserInputError(f"--algo {algo!r}: use one of {', '.join(ALGOS)}")
    spec(env_id)  # an unknown id fails here, with a hint
    if not Path(model).is_dir():
        raise UserInputError(f"--model {model}: no such directory")
    if step_rewards != "env" and not step_rewards.startswith("prm:"):
        raise UserInputError(f"--step-rewards {step_rewards!r}: use env or prm:DIR")
    from agentgym.training.trainer import TrainConfig, Trainer

    try:
        config = TrainConfig(
            env_id=env_id,
            model=model,
            algo=algo,
            group_size=group_size,
            steps=steps,
            tasks_per_step=tasks_per_step,
            lr=lr,
            temperature=temperature,
            kl_coef=kl_coef,
            clip_high=clip_high,
            loss_agg=loss_agg,
            warmup=warmup,
            negative_weight=negative_weight,
            max_turns=max_turns,
            dynamic_sampling=not keep_flat_groups,
            gamma=gamma,
            step_rewards=step_rewards,
            eval_every=eval_every,
            seed=seed,
        )
    except ValidationError as e:
        first = e.errors()[0]
        raise UserInputError(
            f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}"
        ) from None
    trainer = Trainer(config, out)
    if trainer.step:
        console.print(f"resuming {out} after step {trainer.step}", highlight=False)

    def show(row: dict) -> None:
        parts = [
            f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
            for k, v in row.items()
            if k
            in ("step", "reward", "success", "heldout_success", "kl_old", "entropy", "grad_norm")
        ]
        console.print("  ".join(parts), highlight=False)

    trainer.train(on_row=show)
    console.print(f"done: {out}/final (log: {out}/log.jsonl)", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
