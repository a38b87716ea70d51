"""`agentgym export`, `report` and `compare`: what to do with an eval folder once it is written.

Registered on the main app by `cli.py`. The heavy libraries (datasets, matplotlib) are imported
only by the command that needs them, so `agentgym --help` stays fast.
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from agentgym.cli_common import clean_errors, console, err_console


@clean_errors
def export_cmd(
    run_dir: str = typer.Argument(..., help="The --out folder of `agentgym eval`."),
    fmt: str = typer.Option(..., "--format", "-f", help="hf | openai-sft | trl | sharegpt"),
    out: str | None = typer.Option(
        None, "--out", "-o", help="The file to write (default: in RUN_DIR)."
    ),
    success_only: bool = typer.Option(
        False, "--success-only", help="Only episodes that succeeded."
    ),
    min_reward: float | None = typer.Option(
        None, "--min-reward", help="Only episodes with at least this outcome reward."
    ),
):
    """Export a run's episodes as training data (infra and crashed episodes are never exported)."""
    from agentgym.evaluation.export import export_run

    summary = export_run(run_dir, fmt, out, success_only=success_only, min_reward=min_reward)
    console.print(summary.line(), highlight=False, soft_wrap=True)
    for note in summary.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)


@clean_errors
def report_cmd(
    run_dir: str = typer.Argument(..., help="The --out folder of `agentgym eval`."),
    out: str | None = typer.Option(
        None, "--out", "-o", help="The HTML file (default: RUN_DIR/report.html)."
    ),
):
    """Write one self-contained HTML report of a run: headline figures and plots."""
    from agentgym.evaluation.html_report import write_report

    path = write_report(run_dir, out)
    console.print(f"wrote {path}", highlight=False)


@clean_errors
def compare_cmd(
    run_a: str = typer.Argument(..., help="The first run's folder (A)."),
    run_b: str = typer.Argument(..., help="The second run's folder (B)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
):
    """Compare two runs of one env task by task: paired differences, bootstrap CI, exact McNemar."""
    from agentgym.evaluation.compare import compare_runs

    result = compare_runs(run_a, run_b)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    table = Table(title=f"{result.env_id}: B ({result.policy_b}) - A ({result.policy_a})")
    for col in ("task", "n A", "n B", "success A", "success B", "B - A"):
        table.add_column(col, justify="left" if col == "task" else "right")
    for d in result.tasks:
        table.add_row(
            d.task_id,
            str(d.n_a),
            str(d.n_b),
            f"{d.success_a:.3f}",
            f"{d.success_b:.3f}",
            f"{d.diff:+.3f}",
        )
    console.print(table)
    console.print(
        f"paired episodes: {result.pairs}; only A succeeded: {result.a_only_wins}; "
        f"only B succeeded: {result.b_only_wins}",
        highlight=False,
    )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(result.verdict, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
    app.command("report")(report_cmd)
    app.command("compare")(compare_cmd)
