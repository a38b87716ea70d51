"""`agentgym eval` behind the command line: options from flags and a config file, live progress,
a clean stop on ^C, and the exit code (0 done, 2 bad input, 3 every episode an infra error)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import tomllib

from agentgym.cli_common import console, err_console
from agentgym.core.errors import UserInputError

SAMPLING_FLAGS = ("temperature", "top_p", "max_tokens")
EVAL_KEYS = {"policy", "out", "tasks", "backend", "n", "k", "concurrency", "seed", "max_steps",
             *SAMPLING_FLAGS, "policy_args", "extra_body", "runner", "address", "runtime_env", "verifiers"}


BACKENDS = ("bwrap", "docker")


def env_options(spec: Any, tasks: str | None = None, backend: str | None = None) -> dict[str, Any]:
    """Keyword arguments for the env from --tasks and --backend; an env that has no sandbox is told
    so instead of failing later with a TypeError."""
    import inspect

    options: dict[str, Any] = {}
    if tasks:
        options["tasks"] = tasks
    if backend is not None:
        if backend not in BACKENDS:
            raise UserInputError(f"--backend {backend!r}: use one of {', '.join(BACKENDS)}")
        params = inspect.signature(spec._factory()).parameters
        if "backend" not in params and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            raise UserInputError(f"{spec.id} runs no sandbox, so --backend does not apply to it")
        options["backend"] = backend
    return options


def parse_policy_args(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs; a value is JSON when it parses as JSON, else the string itself."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip().isidentifier():
            raise UserInputError(f"--policy-arg {pair!r}: expected KEY=VALUE, such as temperature=0.7")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def read_config(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as e:
        raise UserInputError(f"--config {path}: {e.strerror or e}") from None
    try:
        data = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise UserInputError(f"--config {path}: not valid {file.suffix.lstrip('.') or 'JSON'}: {e}") from None
    if not isinstance(data, dict):
        raise UserInputError(f"--config {path}: expected a table of options")
    unknown = sorted(set(data) - EVAL_KEYS)
    if unknown:
        raise UserInputError(f"--config {path}: unknown option(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(EVAL_KEYS))}")
    return data


def run_eval(env_id: str, flags: dict[str, Any], policy_arg: list[str], config: str | None,
             force: bool) -> int:
    from agentgym.evaluation.progress import RunProgress
    from agentgym.evaluation.report import print_results
    from agentgym.evaluation.run import evaluate

    options = read_config(config)
    options.update({key: value for key, value in flags.items() if value is not None})
    if not options.get("policy"):
        raise UserInputError("--policy is required (on the command line or in --config)")
    if not options.get("out"):
        raise UserInputError("--out is required (on the command line or in --config)")
    policy_args = dict(options.get("policy_args") or {})
    if options.get("extra_body") is not None:
        policy_args["extra_body"] = options["extra_body"]
    policy_args.update({key: options[key] for key in SAMPLING_FLAGS if options.get(key) is not None})
    policy_args.update(parse_policy_args(policy_arg))

    progress: RunProgress | None = None

    def on_start(total: int) -> None:
        nonlocal progress
        progress = RunProgress(total, console).__enter__()

    def on_episode(episode) -> None:
        if progress is not None:
            progress.update(episode)

    from agentgym.core.registry import spec as env_spec

    extra = env_options(env_spec(env_id), backend=options.get("backend"))
    try:
        results = asyncio.run(evaluate(
            env_id, options["policy"], options["out"], n=options.get("n"), k=options.get("k", 1),
            concurrency=options.get("concurrency", 8), tasks=options.get("tasks"), env_kwargs=extra,
            seed=options.get("seed", 0), max_steps=options.get("max_steps"),
            policy_args=policy_args, force=force, on_start=on_start, on_episode=on_episode,
            runner=options.get("runner") or "local", address=options.get("address"),
            runtime_env=options.get("runtime_env"), verifiers=_verifier_specs(options.get("verifiers")),
        ))
    except KeyboardInterrupt:
        if progress is not None:
            progress.__exit__(None, None, None)
        saved = _count_lines(Path(options["out"]) / "episodes.jsonl")
        err_console.print(f"stopped: saved {saved} episodes, rerun the same command to resume",
                          highlight=False)
        return 130
    if progress is not None:
        progress.__exit__(None, None, None)
    print_results(results, console)
    counted = results["n_episodes"]
    return 3 if counted == 0 and results["n_infra_errors"] > 0 else 0


def _verifier_specs(value: Any) -> list[str | dict[str, Any]]:
    """--verifier flags, or the config's `verifiers`: a list of specs (strings or tables)."""
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, dict)) for v in value):
        raise UserInputError("verifiers: expected a list of verifier specs (strings or tables)")
    return value


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0
