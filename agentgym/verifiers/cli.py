"""`agentgym verifiers …`: list verifiers, train a PRM, calibrate a verifier, rank candidates."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.table import Table

from agentgym.cli_common import clean_errors, console
from agentgym.core.errors import UserInputError

verifiers_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

EPISODES_HELP = "episodes.jsonl files (or run directories holding one)"


@verifiers_app.command("list")
@clean_errors
def list_cmd(as_json: bool = typer.Option(False, "--json")):
    """Every registered verifier, and whether it is privileged (reads hidden task data)."""
    from agentgym.verifiers.registry import verifier_registry

    rows = [{"name": s.name, "privileged": s.privileged, "description": s.description}
            for s in verifier_registry().values()]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="agentgym verifiers")
    for col in ("name", "privileged", "description"):
        table.add_column(col)
    for r in rows:
        kind = {True: "yes", False: "no", None: "if a part is"}[r["privileged"]]
        table.add_row(r["name"], kind, r["description"])
    console.print(table)


def _writable_dir(out: str) -> Path:
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UserInputError(f"--out {out}: cannot write there: {e.strerror or e}") from None
    return path


@verifiers_app.command("train-prm")
@clean_errors
def train_prm_cmd(
    episodes: list[str] = typer.Argument(..., help=EPISODES_HELP),
    out: str = typer.Option(..., "--out", "-o", help="Directory for the trained model"),
    backbone: str | None = typer.Option(None, "--backbone", help="A transformers model dir, or a JSON config file to build one (default: hashed n-gram MLP)"),
    hidden: int = typer.Option(64, "--hidden", min=4),
    epochs: int = typer.Option(20, "--epochs", min=1),
    holdout: float = typer.Option(0.2, "--holdout", min=0.0, max=0.9, help="Share of tasks held out to measure the model"),
    seed: int = typer.Option(0, "--seed"),
):
    """Train a process reward model on episodes with execution verdicts (Monte-Carlo targets)."""
    from agentgym.verifiers.scoring import load_episodes

    if backbone is not None and not Path(backbone).exists():
        raise UserInputError(f"--backbone {backbone}: no such file or directory")
    loaded = load_episodes(episodes)
    target = _writable_dir(out)
    from agentgym.verifiers.prm import train_prm

    _, report = train_prm(loaded, target, backbone=backbone, hidden=hidden, epochs=epochs,
                          holdout=holdout, seed=seed)
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    console.print(
        f"trained on {report.train_states} states of {report.episodes - report.heldout_episodes} "
        f"episodes in {report.seconds:.1f}s (loss {report.train_loss:.4f}); held-out episodes "
        f"{report.heldout_episodes}: AUROC {fmt(report.heldout_auroc)} at the end, "
        f"{fmt(report.heldout_auroc_midway)} halfway", highlight=False)
    console.print(f"saved to {target} (use it as --verifier prm:{target})", highlight=False)


async def _score(spec: str, paths: list[str], concurrency: int):
    from agentgym.verifiers.registry import load_verifier
    from agentgym.verifiers.scoring import load_episodes, score_all, scored_episodes, tasks_for

    verifier = load_verifier(spec)
    episodes = scored_episodes(load_episodes(paths))
    if not episodes:
        raise UserInputError("none of the episodes has an execution verdict to compare with")
    tasks = await tasks_for(episodes)
    rewards = await score_all(verifier, episodes, tasks, concurrency)
    return verifier, episodes, [r.value for r in rewards]


@verifiers_app.command("calibrate")
@clean_errors
def calibrate_cmd(
    episodes: list[str] = typer.Argument(..., help=EPISODES_HELP),
    verifier: str = typer.Option(..., "--verifier", "-v", help="A verifier spec: NAME[:ARG], JSON, or @file.json"),
    threshold: float = typer.Option(0.5, "--threshold", help="A score at or above it counts as a pass"),
    concurrency: int = typer.Option(4, "--concurrency", "-c", min=1),
    as_json: bool = typer.Option(False, "--json"),
):
    """Agreement of a verifier with the execution verdicts of the same episodes."""
    from agentgym.verifiers.metrics import agreement

    built, episodes_, scores = asyncio.run(_score(verifier, episodes, concurrency))
    result = agreement(scores, [e.success for e in episodes_], threshold)
    if as_json:
        print(json.dumps({"verifier": verifier, "privileged": built.privileged, **result.model_dump()}))
        return
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    console.print(
        f"{built.describe()} on {result.n} episodes ({result.positives} pass execution): "
        f"accuracy {result.accuracy:.3f}, precision {fmt(result.precision)}, "
        f"recall {fmt(result.recall)}, AUROC {fmt(result.auroc)} (threshold {threshold:g})",
        highlight=False)


@verifiers_app.command("rank")
@clean_errors
def rank_cmd(
    episodes: list[str] = typer.Argument(..., help=EPISODES_HELP),
    verifier: list[str] = typer.Option(..., "--verifier", "-v", help="Verifier specs to compare (repeatable)"),
    concurrency: int = typer.Option(4, "--concurrency", "-c", min=1),
    as_json: bool = typer.Option(False, "--json"),
):
    """Best-of-N: how often each verifier's top-ranked candidate per task passes execution."""
    from agentgym.verifiers.metrics import auroc
    from agentgym.verifiers.ranking import baselines, pick_success

    rows, base = [], None
    for spec in verifier:
        built, episodes_, scores = asyncio.run(_score(spec, episodes, concurrency))
        base = base or baselines(episodes_)
        rows.append({"verifier": spec, "privileged": built.privileged,
                     "pick_success": pick_success(scores, episodes_),
                     "auroc": auroc(scores, [e.success for e in episodes_])})
    if as_json:
        print(json.dumps({"baselines": base.model_dump(), "verifiers": rows}))
        return
    console.print(f"{base.tasks} tasks, {base.candidates:.1f} candidates each: a random pick passes "
                  f"{base.random_pick:.3f}, the best pick {base.best_possible:.3f}", highlight=False)
    table = Table()
    for col in ("verifier", "privileged", "top pick passes", "AUROC"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["verifier"], "yes" if r["privileged"] else "no", f"{r['pick_success']:.3f}",
                      "n/a" if r["auroc"] is None else f"{r['auroc']:.3f}")
    console.print(table)
