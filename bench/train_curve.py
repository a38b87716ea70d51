"""Learning curves on CPU: a tiny model built in code, a short SFT warm-up on the train split,
then RL; and GiGPO vs GRPO at the same budget on the multi-step env.

    python bench/train_curve.py learn  --out runs/curve      # docs/img/train_curve.png
    python bench/train_curve.py compare --out runs/compare   # docs/img/gigpo_vs_grpo.png

Held-out success is greedy decoding on the held-out tasks (never trained on) in worlds drawn
from seeds no training episode used. Prints the tables the README quotes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentgym.environments.toy.world import vocabulary  # noqa: E402

ENVS = ["toy/Lookup-v0", "toy/LookupChain-v0"]


def ensure_toy_registered() -> None:
    from agentgym.environments.toy import ensure_registered

    ensure_registered()


def warm_model(
    out: Path, env_id: str, sft_steps: int, seed: int, teacher_accuracy: float | None = None
) -> tuple[Path, float]:
    """A tiny model after `sft_steps` of SFT on the train split: on the reference's
    demonstrations, or with `teacher_accuracy` on a WeakTeacher's (the right lookup tool only that
    often, else its favourite)."""
    from agentgym.environments.toy.world import WeakTeacher
    from agentgym.training.sft import sft_warmup
    from agentgym.training.tiny import build_tiny

    model = out / "model"
    shutil.rmtree(model, ignore_errors=True)
    t0 = time.perf_counter()
    build_tiny(model, ENVS, seed=seed, words=vocabulary())
    if sft_steps:
        solver = None
        if teacher_accuracy is not None:

            def solver(task, env_seed):
                return WeakTeacher(task, env_seed, accuracy=teacher_accuracy)

        sft_warmup(model, env_id, steps=sft_steps, seed=seed, save_to=model, solver=solver)
    return model, time.perf_counter() - t0


def rl(
    model: Path, out: Path, env_id: str, algo: str, steps: int, seed: int, **overrides
) -> list[dict]:
    from agentgym.training.trainer import TrainConfig, Trainer

    shutil.rmtree(out, ignore_errors=True)
    config = TrainConfig(
        env_id=env_id, model=str(model), algo=algo, steps=steps, seed=seed, **overrides
    )

    def show(row):
        keys = ("step", "reward", "heldout_success", "groups_kept", "entropy", "elapsed_s")
        print(
            "  ".join(
                f"{k}={row[k]:.3f}" if isinstance(row.get(k), float) else f"{k}={row.get(k)}"
                for k in keys
                if k in row
            ),
            flush=True,
        )

    return Trainer(config, out).train(on_row=show)


def learn(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, sft_s = warm_model(out, args.env, args.sft_steps, args.seed, args.teacher_accuracy)
    t0 = time.perf_counter()
    rows = rl(
        model,
        out / "rl",
        args.env,
        args.algo,
        args.steps,
        args.seed,
        group_size=args.group_size,
        tasks_per_step=args.tasks_per_step,
        lr=args.lr,
        minibatches=args.minibatches,
        eval_every=args.eval_every,
    )
    rl_s = time.perf_counter() - t0
    evals = [r for r in rows if "heldout_success" in r]
    summary = {
        "env": args.env,
        "sft_steps": args.sft_steps,
        "teacher_accuracy": args.teacher_accuracy,
        "sft_s": round(sft_s, 1),
        "rl_steps": args.steps,
        "rl_s": round(rl_s, 1),
        "heldout_after_sft": evals[0]["heldout_success"],
        "heldout_after_rl": evals[-1]["heldout_success"],
        "best_heldout": max(r["heldout_success"] for r in evals),
        "load_avg": os.getloadavg()[0],
    }
    (out / "summary.json").write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
    print(json.dumps(summary))
    plot_learning(rows, summary, Path(args.plot))


def plot_learning(rows: list[dict], summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    train = [r for r in rows if "reward" in r]
    evals = [r for r in rows if "heldout_success" in r]
    ax.plot(
        [r["step"] for r in train],
        [r["success"] for r in train],
        color="0.7",
        lw=1,
        label="train success (sampled, T=1)",
    )
    ax.plot(
        [r["step"] for r in evals],
        [r["heldout_success"] for r in evals],
        "o-",
        color="C0",
        label="held-out success (greedy)",
    )
    ax.axhline(summary["heldout_after_sft"], ls=":", color="C3", label="after SFT warm-up only")
    ax.set_xlabel("RL update")
    ax.set_ylabel("success")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(
        f"{summary['env']}: SFT warm-up {summary['sft_steps']} steps, "
        f"then RL {summary['rl_steps']} updates ({summary['rl_s'] / 60:.1f} min wall)",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def compare(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, _ = warm_model(out, args.env, args.sft_steps, args.seed)
    curves = {}
    for algo in ("grpo", "gigpo"):
        for seed in range(args.seeds):
            rows = rl(
                model,
                out / f"{algo}-{seed}",
                args.env,
                algo,
                args.steps,
                seed,
                group_size=args.group_size,
                tasks_per_step=args.tasks_per_step,
                lr=args.lr,
                minibatches=args.minibatches,
                eval_every=args.eval_every,
            )
            curves.setdefault(algo, []).append(rows)
    (out / "curves.json").write_text(json.dumps(curves))
    table = {}
    for algo, runs in curves.items():
        finals = [
            [r for r in rows if "heldout_success" in r][-1]["heldout_success"] for rows in runs
        ]
        rewards = [sum(r["reward"] for r in rows if "reward" in r) / args.steps for rows in runs]
        table[algo] = {
            "heldout_final": finals,
            "mean_train_reward": [round(x, 3) for x in rewards],
            "seconds": [rows[-1]["elapsed_s"] for rows in runs],
        }
    print(json.dumps(table, indent=1))
    plot_compare(curves, args, Path(args.plot))


def plot_compare(curves: dict, args, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for color, (algo, runs) in zip(("C1", "C0"), curves.items(), strict=True):
        for i, rows in enumerate(runs):
            train = [r for r in rows if "reward" in r]
            evals = [r for r in rows if "heldout_success" in r]
            label = algo if i == 0 else None
            axes[0].plot(
                [r["step"] for r in train],
                [r["reward"] for r in train],
                color=color,
                alpha=0.8,
                label=label,
            )
            axes[1].plot(
                [r["step"] for r in evals],
                [r["heldout_success"] for r in evals],
                "o-",
                color=color,
                alpha=0.8,
                label=label,
            )
    axes[0].set_title("train reward (sampled)", fontsize=9)
    axes[1].set_title("held-out success (greedy)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("RL update")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"{args.env}: GiGPO vs GRPO, same budget ({args.steps} updates x "
        f"{args.tasks_per_step} tasks x {args.group_size} samples, {args.seeds} seed(s))",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def plot_runs(logs: list[list[dict]], labels: list[str], path: Path) -> None:
    """Several RL runs on one figure: held-out success (greedy) and train success (sampled)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for i, (rows, label) in enumerate(zip(logs, labels, strict=True)):
        train = [r for r in rows if "reward" in r]
        evals = [r for r in rows if "heldout_success" in r]
        axes[0].plot(
            [r["step"] for r in evals],
            [r["heldout_success"] for r in evals],
            "o-",
            color=f"C{i}",
            label=label,
        )
        axes[1].plot(
            [r["step"] for r in train],
            [r["success"] for r in train],
            color=f"C{i}",
            alpha=0.8,
            label=label,
        )
    axes[0].set_title("held-out success (greedy, unseen questions and worlds)", fontsize=9)
    axes[1].set_title("train success (sampled, T=1)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("RL update")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def run_config(log: str) -> dict:
    """The config of the run whose log this is: config.json beside it, or LOG_STEM.config.json."""
    path = Path(log)
    beside = path.parent / "config.json"
    return json.loads((beside if beside.exists() else path.with_suffix(".config.json")).read_text())


def replot(args) -> None:
    """Plots from the log.jsonl of runs made with `agentgym train` (or this script)."""
    logs = [
        [json.loads(line) for line in Path(p).read_text().splitlines() if line.strip()]
        for p in args.logs
    ]
    if args.what == "plot-learn" and len(logs) > 1:
        plot_runs(logs, args.labels or args.logs, Path(args.plot or "docs/img/train_curve.png"))
    elif args.what == "plot-learn":
        rows = logs[0]
        config = run_config(args.logs[0])
        evals = [r for r in rows if "heldout_success" in r]
        summary = {
            "env": config["env_id"],
            "sft_steps": args.sft_steps or 0,
            "sft_s": 0.0,
            "rl_steps": rows[-1]["step"],
            "rl_s": rows[-1]["elapsed_s"],
            "heldout_after_sft": evals[0]["heldout_success"],
        }
        plot_learning(rows, summary, Path(args.plot or "docs/img/train_curve.png"))
    else:
        config = run_config(args.logs[0])
        args.env, args.steps = config["env_id"], config["steps"]
        args.tasks_per_step, args.group_size, args.seeds = (
            config["tasks_per_step"],
            config["group_size"],
            1,
        )
        plot_compare(
            {"grpo": [logs[0]], "gigpo": [logs[1]]},
            args,
            Path(args.plot or "docs/img/gigpo_vs_grpo.png"),
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["learn", "compare", "plot-learn", "plot-compare"])
    parser.add_argument("--out", default=None, help="run folder (learn, compare)")
    parser.add_argument(
        "--logs", nargs="*", default=[], help="log.jsonl files (plot-*): one, or grpo then gigpo"
    )
    parser.add_argument("--labels", nargs="*", default=None, help="one per log (plot-learn)")
    parser.add_argument("--minibatches", type=int, default=2)
    parser.add_argument("--env", default=None)
    parser.add_argument("--algo", default="grpo")
    parser.add_argument("--sft-steps", type=int, default=None)
    parser.add_argument(
        "--teacher-accuracy",
        type=float,
        default=None,
        help="warm up on a WeakTeacher's demonstrations (right tool this often) (learn)",
    )
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--tasks-per-step", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    ensure_toy_registered()
    if args.what.startswith("plot-"):
        replot(args)
    elif args.what == "learn":
        args.env = args.env or "toy/Lookup-v0"
        args.sft_steps = 200 if args.sft_steps is None else args.sft_steps
        args.plot = args.plot or "docs/img/train_curve.png"
        learn(args)
    else:
        args.env = args.env or "toy/LookupChain-v0"
        args.sft_steps = 200 if args.sft_steps is None else args.sft_steps
        args.plot = args.plot or "docs/img/gigpo_vs_grpo.png"
        compare(args)


if __name__ == "__main__":
    main()
