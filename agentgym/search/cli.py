"""`agentgym search ENV_ID --method best-of-n|beam|mcts --budget ...`: test-time search per task.

Each task's result is one JSONL record (`SearchResult`: the chosen episode in the usual schema
and a search summary) written to --out and/or printed with --json; otherwise a table. Bad input
prints one line and exits 2.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.table import Table

from agentgym.cli_common import clean_errors, console
from agentgym.core.errors import UserInputError


def search(
    env_id: str = typer.Argument(..., help="Env id, e.g. tooluse/Retail-v0"),
    method: str = typer.Option(..., "--method", "-m", help="best-of-n | beam | mcts"),
    budget: str = typer.Option(
        ...,
        "--budget",
        "-b",
        help="calls=N,tokens=N,steps=N,wall=SECONDS (any subset; a bare N is calls)",
    ),
    policy: str = typer.Option(
        ..., "--policy", "-p", help="oracle | openai:MODEL | module:attr ..."
    ),
    task: list[str] = typer.Option(
        [], "--task", help="Task id (repeat for more; default: one by --seed)."
    ),
    limit: int | None = typer.Option(None, "--limit", help="Search the first N tasks of the env."),
    tasks: str | None = typer.Option(
        None, "--tasks", help="A task file to use instead of the env's own."
    ),
    backend: str | None = typer.Option(None, "--backend", help="Sandbox backend: bwrap | docker."),
    selector: str | None = typer.Option(
        None,
        "--selector",
        help="How to pick among ended episodes: majority | verifier | hybrid | first "
        "(default: majority for best-of-n, verifier for beam and mcts).",
    ),
    verifier: str | None = typer.Option(
        None,
        "--verifier",
        help="Verifier spec for selection or step scoring "
        "('env': the env's step rewards, privileged).",
    ),
    allow_privileged: bool = typer.Option(
        False,
        "--allow-privileged",
        help="Allow privileged verifiers: the run is an oracle experiment.",
    ),
    n: int | None = typer.Option(None, "--n", help="best-of-n: episodes (default 8)."),
    width: int | None = typer.Option(
        None, "--width", help="beam: branches kept per step (default 2)."
    ),
    samples: int | None = typer.Option(
        None, "--samples", help="beam, mcts: actions sampled per state (default 3)."
    ),
    max_depth: int | None = typer.Option(None, "--max-depth", help="beam: steps at most."),
    iterations: int | None = typer.Option(None, "--iterations", help="mcts: iterations at most."),
    value: str | None = typer.Option(
        None, "--value", help="mcts: rollout | scorer (default rollout)."
    ),
    seed: int = typer.Option(0, "--seed"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Append one JSONL record per task here."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON lines."),
):
    """Search each task with best-of-N, step-level beam search or MCTS under a budget."""
    from agentgym.cli_eval import env_options
    from agentgym.core.registry import spec as env_spec
    from agentgym.core.shutdown import release_shared
    from agentgym.policies import load_policy
    from agentgym.search import Budget, run_search

    parsed = Budget.parse(budget)
    spec = env_spec(env_id)
    kwargs = env_options(spec, tasks=tasks, backend=backend)
    pol = load_policy(policy)
    params = {
        "n": n,
        "width": width,
        "samples": samples,
        "max_depth": max_depth,
        "iterations": iterations,
        "value": value,
    }
    if out is not None and out.parent and not out.parent.is_dir():
        raise UserInputError(f"--out {out}: directory {out.parent} does not exist")

    def make():
        return spec.make_async(**kwargs)

    async def go():
        probe = make()
        try:
            ids = list(task) or (
                sorted(probe.tasks)[:limit] if limit else [probe.pick_task(seed, None).id]
            )
            unknown = [t for t in ids if t not in probe.tasks]
        finally:
            await probe.close()
        if unknown:
            raise UserInputError(f"{env_id} has no task {unknown[0]!r}")
        results = []
        try:
            for task_id in ids:
                result = await run_search(
                    make,
                    pol,
                    task_id,
                    method=method,
                    budget=parsed,
                    seed=seed,
                    selector=selector,
                    verifier=verifier,
                    allow_privileged=allow_privileged,
                    **params,
                )
                results.append(result)
                line = result.model_dump_json()
                if out is not None:
                    with out.open("a", encoding="utf-8") as f:
                        f.write(line + "\n")
                if as_json:
                    print(line, flush=True)
        finally:
            await release_shared()
        return results

    results = asyncio.run(go())
    if not as_json:
        _table(results)


def _table(results) -> None:
    table = Table(title="agentgym search")
    for col in (
        "task",
        "method",
        "selector",
        "reward",
        "candidates",
        "calls",
        "tokens",
        "steps",
        "forks",
        "wall s",
        "stopped",
    ):
        table.add_column(col)
    for r in results:
        s = r.search
        table.add_row(
            s.task_id,
            s.method,
            s.selector,
            f"{r.episode.reward:.2f}",
            str(len(s.candidates)),
            str(s.spent.policy_calls),
            str(s.spent.tokens),
            str(s.spent.env_steps),
            str(s.spent.forks),
            f"{s.spent.wall_s:.1f}",
            s.stopped,
        )
    console.print(table)
    if results:
        mean = sum(r.episode.reward for r in results) / len(results)
        console.print(f"mean reward {mean:.3f} over {len(results)} task(s)")


def register(app: typer.Typer) -> None:
    app.command("search")(clean_errors(search))


__all__ = ["register", "search"]
