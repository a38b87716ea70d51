"""`agentgym tasks generate swe ...` and `agentgym tasks validate FILE` (mounted by agentgym.cli)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from agentgym.cli_common import clean_errors, err_console
from agentgym.core.errors import UserInputError

tasks_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console(soft_wrap=True)

REWRITE_PROMPT = (
    "Rewrite this report of failing tests as a short GitHub issue written by a user of the "
    "library: describe the wrong behaviour and how to see it. Do not guess the cause or the fix, "
    "and do not mention tests that were generated. Reply with the issue text only.\n\n{statement}"
)


def llm_rewriter(policy_spec: str):
    """A function that asks the policy to turn a test report into an issue-like statement."""
    from agentgym.core.types import Message, Observation
    from agentgym.policies import load_policy
    from agentgym.policies.base import act

    policy = load_policy(policy_spec)

    def rewrite(statement: str) -> str:
        obs = Observation(messages=[Message(role="user", content=REWRITE_PROMPT.format(statement=statement))])
        text = (asyncio.run(act(policy, obs, [])).content or "").strip()
        return text or statement

    return rewrite


@tasks_app.command("generate")
@clean_errors
def generate(
    family: str = typer.Argument(..., help="Task family; only 'swe' generates tasks."),
    source: str = typer.Option(..., "--source", help="pypi:NAME==VERSION (a pure-Python project whose sdist has tests) or local:DIR."),
    n: int = typer.Option(10, "--n", min=1, help="How many tasks to make."),
    difficulty: int = typer.Option(1, "--difficulty", min=1, max=5, help="1 = one mutation; higher = several, across functions and files."),
    out: Path = typer.Option(..., "--out", help="JSONL file to write (appended to if it exists)."),
    seed: int = typer.Option(0, "--seed"),
    max_failing: int = typer.Option(25, "--max-failing", min=1, help="Keep a bug only if 1..k tests fail."),
    rewrite_policy: str = typer.Option(None, "--rewrite-policy", help="Policy spec of an LLM that rewrites statements as issues."),
    hidden: bool = typer.Option(False, "--hidden", help="Take the failing tests out of the agent's repository: "
                                "they come back only when the verifier scores (test_patch)."),
):
    """Inject bugs into a real project and keep those its tests catch."""
    if family != "swe":
        raise UserInputError(f"only the 'swe' family generates tasks, not {family!r}")
    from agentgym.environments.swe.generate import generate_tasks
    from agentgym.environments.swe.schema import dump_tasks

    rewrite = llm_rewriter(rewrite_policy) if rewrite_policy else None
    tasks = generate_tasks(source, n=n, difficulty=difficulty, max_failing=max_failing, seed=seed,
                           log=lambda line: console.print(line, highlight=False), rewrite=rewrite,
                           hidden=hidden)
    try:
        with out.open("a", encoding="utf-8") as f:
            f.write(dump_tasks(tasks))
    except OSError as e:
        raise UserInputError(f"cannot write {out}: {e}") from None
    console.print(f"wrote {len(tasks)} task(s) to {out}" + ("" if len(tasks) == n else f" (asked for {n})"))


@tasks_app.command("validate")
@clean_errors
def validate(
    path: Path = typer.Argument(..., help="A SWE task file (JSONL) or a directory of them."),
    run: bool = typer.Option(False, "--run", help="Also build each environment and check that the "
                             "reference patch scores 1 and an empty submission scores 0."),
    concurrency: int = typer.Option(2, "--concurrency", min=1),
    backend: str = typer.Option("bwrap", "--backend", help="Sandbox backend for --run: bwrap | docker."),
):
    """Check a task file against the schema (and, with --run, that every task is solvable)."""
    from agentgym.environments.swe.schema import load_tasks

    if backend not in ("bwrap", "docker"):
        raise UserInputError(f"--backend {backend!r}: use one of bwrap, docker")
    tasks = load_tasks(path)
    console.print(f"{path}: {len(tasks)} task(s) match the schema")
    if not run:
        return
    from agentgym.environments.swe.check import check_tasks

    failures = asyncio.run(check_tasks(tasks, concurrency=concurrency, backend=backend,
                                       log=lambda line: console.print(line, highlight=False)))
    if failures:
        for line in failures:
            err_console.print(f"[bold red]failed:[/] {line}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"all {len(tasks)} task(s) pass: reference scores 1, empty submission scores 0")


@tasks_app.command("prepare")
@clean_errors
def prepare(path: Path = typer.Argument(None, help="Task file or directory (default: the shipped tasks/swe).")):
    """Fetch the sources (from PyPI) and build every environment the tasks need, into the cache."""
    from agentgym.environments.swe.build import build_environment
    from agentgym.environments.swe.schema import load_tasks

    specs = {t.data.environment.key(): t.data.environment for t in load_tasks(path)}
    for _, spec in sorted(specs.items()):
        built = build_environment(spec)
        console.print(f"ready {spec.source_label} -> {built.path}", highlight=False)


if __name__ == "__main__":
    tasks_app()
