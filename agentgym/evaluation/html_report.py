"""`agentgym report`: one self-contained HTML file for a run.

Everything is inside the file (figures as base64 PNG, styles inline, no script, no font or
stylesheet links), so it can be mailed, attached to a CI run or opened offline. The figures are
recomputed from episodes.jsonl, so the report agrees with results.json without trusting it.
"""

from __future__ import annotations

import base64
import html
import os
import time
from pathlib import Path
from typing import Any

from agentgym.core.errors import UserInputError
from agentgym.evaluation.metrics import summarize
from agentgym.evaluation.rundir import RunRecords, load_run, require_extra

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; }
td, th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
figure { margin: 1rem 0; } figcaption { color: #555; font-size: .9rem; }
img { max-width: 100%; } code { font-size: .85rem; }
"""


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list[Any]], left: int = 0) -> str:
    def cell(tag: str, i: int, value: Any) -> str:
        cls = ' class="l"' if i < left else ""
        return f"<{tag}{cls}>{html.escape(_fmt(value))}</{tag}>"

    head = (
        "<tr>" + "".join(cell("th", i, h) for i, h in enumerate(header)) + "</tr>" if header else ""
    )
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows
    )
    return f"<table>{head}{body}</table>"


def headline(run: RunRecords) -> dict[str, Any]:
    """The figures of the headline table (the same computation as results.json)."""
    figures = summarize(run.episodes, k=run.k)
    spent = run.episodes  # infra errors included: their tokens were spent
    costs = [e.usage.cost for e in spent if e.usage.cost is not None]
    figures["prompt_tokens"] = sum(e.usage.prompt_tokens for e in spent)
    figures["completion_tokens"] = sum(e.usage.completion_tokens for e in spent)
    figures["cost_usd"] = sum(costs) if costs else None
    figures["episode_time_s"] = sum(e.duration_s for e in spent)
    return figures


def _figure(title: str, png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode()
    return (
        f'<figure><h2>{html.escape(title)}</h2><img alt="{html.escape(title)}" '
        f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption>'
        "</figure>"
    )


def figures(run: RunRecords) -> list[tuple[str, bytes, str]]:
    from agentgym.evaluation import plots  # matplotlib: only when a report is drawn

    scored = [e for e in run.episodes if e.counted]
    steps = [s.reward for e in scored for s in e.steps]
    return [
        (
            "pass@k and coverage",
            plots.pass_at_k_plot(scored),
            "pass@k: chance that at least one of k samples succeeds (unbiased estimate); "
            "coverage@k: tasks solved by one of their first k samples as run; pass^k: all k samples succeed.",
        ),
        (
            "Success per task",
            plots.per_task_plot(scored),
            "Share of a task's samples that succeeded.",
        ),
        (
            "Episode rewards",
            plots.histogram_plot(
                [e.reward for e in scored], "outcome reward", "no scored episodes"
            ),
            "The verified outcome of each episode.",
        ),
        (
            "Step rewards",
            plots.histogram_plot(steps, "step reward", "no steps recorded"),
            "Every step's reward; over an episode they sum to its outcome.",
        ),
        ("Episode length", plots.length_plot(scored), "Policy turns per episode, by outcome."),
        ("Tokens", plots.tokens_plot(run.episodes), "Prompt and completion tokens per episode."),
        (
            "Latency",
            plots.latency_plot(scored),
            "Time the policy took to act and the env took to step, per step.",
        ),
    ]


def _errors(run: RunRecords, limit: int = 20) -> str:
    failed = [e for e in run.episodes if e.status in ("error", "infra_error")]
    if not failed:
        return "<p>No episode crashed and no infrastructure error.</p>"
    rows = [
        [
            e.task_id,
            e.sample,
            e.status,
            (e.error or "").strip().splitlines()[0][:200] if e.error else "",
        ]
        for e in failed[:limit]
    ]
    more = f"<p>… and {len(failed) - limit} more.</p>" if len(failed) > limit else ""
    return _table(["task", "sample", "status", "error"], rows, left=4) + more


def render(run: RunRecords) -> str:
    h = headline(run)
    lo, hi = h["ci95"]
    config = run.config
    spec = config.get("policy_spec") or {}
    started = min(e.started_at for e in run.episodes)
    info = [
        ["env", run.env_id],
        ["policy", run.policy],
        ["model", spec.get("model", "")],
        ["samples per task (k)", run.k],
        ["seed", config.get("seed", "")],
        ["max steps", config.get("max_steps") or "env default"],
        ["command", run.manifest.get("command", "")],
        ["git commit", run.manifest.get("git_commit", "")],
        ["first episode", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started))],
    ]
    table = _table(
        [
            "tasks",
            "episodes",
            "success",
            "95% CI",
            "mean reward",
            f"pass@{h['k']}",
            "errors",
            "infra errors",
            "truncated",
        ],
        [
            [
                h["n_tasks"],
                h["n_episodes"],
                h["success_rate"],
                f"[{_fmt(lo, 2)}, {_fmt(hi, 2)}]",
                h["mean_reward"],
                h["pass_at_k"],
                h["n_errors"],
                h["n_infra_errors"],
                h["n_truncated"],
            ]
        ],
    )
    spend = _table(
        ["prompt tokens", "completion tokens", "cost (USD)", "episode time (s)"],
        [[h["prompt_tokens"], h["completion_tokens"], h["cost_usd"], h["episode_time_s"]]],
    )
    title = f"agentgym report: {run.env_id} · {run.policy}"
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        _table([], info, left=2),
        "<h2>Headline</h2>",
        table,
        "<p>Errors (crashes in policy or env code) count as failures; infrastructure errors are "
        "left out of every figure and only counted. The CI is a bootstrap over tasks.</p>",
        spend,
        *(_figure(*f) for f in figures(run)),
        "<h2>Errors</h2>",
        _errors(run),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    require_extra("matplotlib", "agentgym report")
    run = load_run(run_dir)
    path = Path(out) if out is not None else run.path / "report.html"
    if path.is_dir():
        raise UserInputError(f"--out {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise UserInputError(f"--out {path}: folder {path.parent} does not exist")
    page = render(run)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise UserInputError(f"--out {path}: cannot write ({e.strerror or e})") from None
    return path
