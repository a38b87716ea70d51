"""`agentgym …`: list envs, run one episode, evaluate a policy, manage sandboxes and tasks.

Bad input (unknown env id or policy, an invalid task file, an unwritable --out) prints one line
and exits with code 2; no traceback.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys

import typer
from rich.table import Table

from agentgym.cli_common import clean_errors, console, err_console
from agentgym.cli_runs import register as register_run_commands
from agentgym.core.errors import UserInputError
from agentgym.training.cli import register as register_train_command

app = typer.Typer(
    name="agentgym",
    help="A gym for LLM agents: sandboxed SWE, web and tool-use environments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
@app.command("list")
@clean_errors
def list_envs(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    family: str | None = typer.Option(None, "--family", "-f", help="Only this family (tooluse, web, swe)."),
):
    """Every registered env id with its family, description and number of tasks."""
    from agentgym.core.registry import registry

    rows = []
    for env_id, spec in registry().items():
        if family is not None and spec.family != family:
            continue
        try:
            n_tasks = spec.task_count()
        except Exception:  # a broken task file must not hide the other envs
            n_tasks = None
        rows.append({"id": env_id, "family": spec.family, "description": spec.description, "n_tasks": n_tasks})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="agentgym environments")
    for col in ("id", "family", "tasks", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["family"], "?" if r["n_tasks"] is None else str(r["n_tasks"]), r["description"])
    console.print(table)


def _show_step(step) -> None:
    for m in step.observation:
        if m.role in ("user", "tool", "system") and m.content:
            text = m.content if len(m.content) < 600 else m.content[:600] + " …"
            console.print(f"[dim]{m.role}:[/] {text}", highlight=False)
    a = step.action
    if a.content:
        console.print(f"[bold cyan]assistant:[/] {a.content}", highlight=False)
    for c in a.tool_calls:
        console.print(f"[bold cyan]→ {c.name}[/]({json.dumps(c.arguments)})", highlight=False)
    for r in step.tool_results:
        text = r.content or ""
        console.print(f"[dim]  ← {text if len(text) < 400 else text[:400] + ' …'}[/]", highlight=False)
    console.print(f"[magenta]  step reward {step.reward:+.3f}[/]")


@app.command()
@clean_errors
def run(
    env_id: str = typer.Argument(..., help="Env id, e.g. tooluse/Retail-v0"),
    policy: str = typer.Option(..., "--policy", "-p", help="oracle | random | openai:MODEL | replay:PATH | module:attr"),
    task: str | None = typer.Option(None, "--task", help="Task id (default: chosen by the seed)."),
    tasks: str | None = typer.Option(None, "--tasks", help="A task file to use instead of the env's own."),
    backend: str | None = typer.Option(None, "--backend", help="Sandbox backend for envs that use one: bwrap | docker."),
    seed: int = typer.Option(0, "--seed"),
    max_steps: int | None = typer.Option(None, "--max-steps"),
    as_json: bool = typer.Option(False, "--json", help="Print the episode as JSON."),
):
    """Run one episode and show it step by step."""
    from agentgym.cli_eval import env_options
    from agentgym.core.registry import spec as env_spec
    from agentgym.core.shutdown import release_shared
    from agentgym.policies import load_policy
    from agentgym.rollout.runner import Job, run_with_retries

    spec = env_spec(env_id)
    kwargs = env_options(spec, tasks=tasks, backend=backend)
    pol = load_policy(policy)

    def make():
        return spec.make_async(**kwargs)

    async def go():
        env = make()
        task_id = task if task is not None else env.pick_task(seed, None).id
        if task_id not in env.tasks:
            await env.close()
            raise UserInputError(f"{env_id} has no task {task_id!r}")
        await env.close()
        try:
            return await run_with_retries(
                make, pol, Job(task_id, 0, seed), max_steps=max_steps,
                on_step=None if as_json else _show_step,
            )
        finally:
            await release_shared()

    episode = asyncio.run(go())
    if as_json:
        print(episode.model_dump_json(indent=2))
        return
    if episode.status in ("infra_error", "error"):
        err_console.print(f"[bold red]{episode.status}:[/] {episode.error}", highlight=False)
        raise typer.Exit(1)
    o = episode.outcome
    console.print(
        f"[bold]{episode.task_id}[/]: status {episode.status}, reward {o.value:.3f} "
        f"({', '.join(f'{k}={v:.2f}' for k, v in o.components.items())})", highlight=False
    )
    if o.explanation:
        console.print(o.explanation, highlight=False)


@app.command("eval")
@clean_errors
def eval_cmd(
    env_id: str = typer.Argument(..., help="Env id, e.g. tooluse/Retail-v0"),
    policy: str | None = typer.Option(None, "--policy", "-p", help="oracle | random | openai:MODEL | replay:PATH | module:attr"),
    out: str | None = typer.Option(None, "--out", "-o", help="Directory for run.json, episodes.jsonl and results.json"),
    tasks: str | None = typer.Option(None, "--tasks", help="A task file to use instead of the env's own."),
    backend: str | None = typer.Option(None, "--backend", help="Sandbox backend for envs that use one: bwrap | docker."),
    n: int | None = typer.Option(None, "-n", help="Evaluate the first N tasks (default: all)."),
    k: int | None = typer.Option(None, "-k", help="Samples per task (pass@k)."),
    concurrency: int | None = typer.Option(None, "--concurrency", "-c"),
    seed: int | None = typer.Option(None, "--seed"),
    max_steps: int | None = typer.Option(None, "--max-steps"),
    temperature: float | None = typer.Option(None, "--temperature", help="Sampling temperature (openai: policies)."),
    top_p: float | None = typer.Option(None, "--top-p"),
    max_tokens: int | None = typer.Option(None, "--max-tokens"),
    policy_arg: list[str] = typer.Option([], "--policy-arg", help="KEY=VALUE for the policy (JSON values), e.g. extra_body='{\"top_k\": 20}'. Repeatable."),
    config: str | None = typer.Option(None, "--config", help="A TOML or JSON file with any of these options; flags win."),
    force: bool = typer.Option(False, "--force", help="Start over when OUT holds episodes of another run."),
    runner: str | None = typer.Option(None, "--runner", help="Where episodes run: local (default: asyncio in this process) or ray."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster to join (--runner ray; default $RAY_ADDRESS, else a local one)."),
    verifier: list[str] = typer.Option([], "--verifier", help="An extra verifier scoring every episode besides the env (NAME[:ARG], JSON or @file.json, e.g. judge:openai:gpt-4o-mini); its verdicts and agreement with the env's go to the records and results. Repeatable."),
):
    """Evaluate a policy over an env's tasks; resumes when OUT already holds episodes."""
    from agentgym.cli_eval import run_eval

    flags = {"policy": policy, "out": out, "tasks": tasks, "backend": backend, "n": n, "k": k, "concurrency": concurrency,
             "seed": seed, "max_steps": max_steps, "temperature": temperature, "top_p": top_p,
             "max_tokens": max_tokens, "runner": runner, "address": address,
             "verifiers": verifier or None}
    code = run_eval(env_id, flags, policy_arg, config, force)
    if code:
        raise typer.Exit(code)


@app.command()
@clean_errors
def check(
    env_id: str = typer.Argument(..., help="Env id, e.g. tooluse/Retail-v0 (built-in or from a plugin)"),
    tasks: int = typer.Option(3, "--tasks", "-n", help="How many tasks the oracle and no-op checks run."),
    task_file: str | None = typer.Option(None, "--task-file", help="A task file to use instead of the env's own."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
):
    """Check an env the way every env must behave: gymnasium API, seeded determinism, the oracle
    succeeds and a no-op does not, bounded observations, unchanged records, fork, clean close."""
    from agentgym.conformance import run_checks
    from agentgym.core.registry import spec as env_spec

    if tasks < 1:
        raise UserInputError("--tasks must be at least 1")
    spec = env_spec(env_id)
    marks = {"pass": "[green]pass[/]", "fail": "[bold red]FAIL[/]", "skip": "[yellow]skip[/]"}

    def show(result):
        if not as_json:
            console.print(f"{marks[result.status]}  {result.name:<12} {result.detail}", highlight=False)

    results = asyncio.run(run_checks(spec, tasks, {"tasks": task_file} if task_file else None, show))
    if as_json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    failed = [r.name for r in results if r.status == "fail"]
    if failed:
        err_console.print(f"{env_id}: {len(failed)} check(s) failed: {', '.join(failed)}")
        raise typer.Exit(1)
    if not as_json:
        console.print(f"{env_id}: every check passed", highlight=False)


new_app = typer.Typer(help="Start something new from a template.", no_args_is_help=True)
app.add_typer(new_app, name="new")


@new_app.command("env")
@clean_errors
def new_env_cmd(
    name: str = typer.Argument(..., help="The env family's name, such as todo (lowercase, digits, _)."),
    directory: str = typer.Option(".", "--dir", help="Where to create the package folder."),
):
    """Scaffold an installable env package (tools, tasks, a verifier, tests, the entry point)."""
    from agentgym.scaffold import new_env

    root = new_env(name, directory)
    title = "".join(p.title() for p in name.split("_"))
    console.print(f"created {root}\nnext:  pip install -e {root}  &&  agentgym check {name}/{title}-v0",
                  highlight=False)


def _mount_optional(module: str, attr: str, name: str, help: str) -> None:
    """Mount a sub-app from a subpackage if it is present in this installation."""
    try:
        sub = getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("agentgym"):
            return
        raise
    app.add_typer(sub, name=name, help=help)


register_run_commands(app)  # export, report, compare
importlib.import_module("agentgym.search.cli").register(app)  # search
register_train_command(app)  # train
_mount_optional("agentgym.sandbox.cli", "sandbox_app", "sandbox", "Sandbox backends: doctor.")
_mount_optional("agentgym.environments.swe.cli", "tasks_app", "tasks", "Task files: generate, validate.")
_mount_optional("agentgym.verifiers.cli", "verifiers_app", "verifiers", "Verifiers: list, train-prm, calibrate, rank.")
_mount_optional("agentgym.mcp.cli", "mcp_app", "mcp", "MCP: serve an env to any MCP client; wrap an MCP server as an env.")


@app.command()
@clean_errors
def cleanup():
    """Remove leftover sandboxes: mounts, processes, containers and temp dirs (all labelled)."""
    try:
        from agentgym.sandbox.cli import cleanup as sandbox_cleanup
    except ModuleNotFoundError:
        console.print("nothing to clean: the sandbox package is not installed")
        return
    removed = sandbox_cleanup()
    for item in removed:
        console.print(f"removed {item}", highlight=False)
    console.print(f"{len(removed)} leftover(s) removed")


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
