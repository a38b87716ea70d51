"""Printing results as a table in the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _fmt(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def print_results(results: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"{results['env_id']} · {results['policy']}")
    for col in ("tasks", "episodes", "success", "95% CI", "mean reward", f"pass@{results['k']}", "errors", "infra errors"):
        table.add_column(col, justify="right")
    lo, hi = results["ci95"]
    table.add_row(
        str(results["n_tasks"]), str(results["n_episodes"]), _fmt(results["success_rate"]),
        f"[{_fmt(lo, 2)}, {_fmt(hi, 2)}]", _fmt(results["mean_reward"]),
        _fmt(results["pass_at_k"]), str(results.get("n_errors", 0)), str(results["n_infra_errors"]),
    )
    console.print(table)
    if results.get("verifiers"):
        console.print(verdicts_table(results["verifiers"]))
    if results.get("n_errors"):
        console.print(
            f"[yellow]{results['n_errors']} episode(s) crashed in policy or env code; they count as "
            "failures. Their `error` field in episodes.jsonl has the traceback.[/]"
        )
    if results["n_infra_errors"]:
        console.print(
            f"[yellow]{results['n_infra_errors']} episode(s) hit an infrastructure error and are left "
            "out of every figure; their `error` field in episodes.jsonl says why. Run the same "
            "command again to retry them.[/]"
        )


def verdicts_table(verifiers: dict[str, dict[str, Any]]) -> Table:
    """The extra verifiers: what they scored, and how often they agree with the env's verdict."""
    table = Table(title="extra verifiers (the reward above is the env's own verdict)")
    for col in ("verifier", "scored", "failed", "mean", "agrees with env", "AUROC"):
        table.add_column(col, justify="left" if col == "verifier" else "right")
    for label, v in verifiers.items():
        agreement = v.get("agreement") or {}
        table.add_row(label, str(v["scored"]), str(v["failed"]), _fmt(v.get("mean")),
                      _fmt(agreement.get("accuracy")), _fmt(agreement.get("auroc")))
    return table
