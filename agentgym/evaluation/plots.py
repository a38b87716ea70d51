"""The figures of the HTML report, drawn with matplotlib's object API (no pyplot: no global
state, safe in any thread) and returned as PNG bytes.

Every figure is drawn even without data, saying so on the canvas, so a report always has the
same sections and a reader sees "no token counts recorded" rather than a missing picture.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from agentgym.core.types import Episode
from agentgym.evaluation.metrics import pass_at_k

COLORS = {"main": "#3b6ea5", "second": "#d9822b", "third": "#5a9e5a", "fail": "#c0504d"}


def _figure(height: float = 3.2, left: float = 0.11) -> tuple[Figure, Axes]:
    # fixed margins: a layout engine would draw every figure twice
    fig = Figure(figsize=(6.4, height), dpi=100)
    fig.subplots_adjust(left=left, right=0.97, top=0.95, bottom=0.5 / height + 0.02)
    return fig, fig.add_subplot()


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _empty(ax: Axes, why: str) -> None:
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def by_task(episodes: Sequence[Episode]) -> dict[str, list[Episode]]:
    tasks: dict[str, list[Episode]] = defaultdict(list)
    for e in episodes:
        tasks[e.task_id].append(e)
    for eps in tasks.values():
        eps.sort(key=lambda e: e.sample)
    return dict(sorted(tasks.items()))


def k_curves(episodes: Sequence[Episode]) -> dict[str, list[float]]:
    """Over k = 1..max samples, averaged over the tasks that have at least k samples:
    pass@k (unbiased), pass^k (all k succeed; unbiased C(c,k)/C(n,k)) and coverage@k (a
    success among the first k samples, by sample index, as run)."""
    tasks = by_task(episodes)
    top = max((len(eps) for eps in tasks.values()), default=0)
    curves: dict[str, list[float]] = {"k": [], "pass@k": [], "pass^k": [], "coverage@k": []}
    for k in range(1, top + 1):
        eligible = [eps for eps in tasks.values() if len(eps) >= k]
        counts = [(len(eps), sum(e.success for e in eps)) for eps in eligible]
        curves["k"].append(k)
        curves["pass@k"].append(sum(pass_at_k(n, c, k) for n, c in counts) / len(counts))
        curves["pass^k"].append(
            sum(math.comb(c, k) / math.comb(n, k) for n, c in counts) / len(counts)
        )
        curves["coverage@k"].append(
            sum(any(e.success for e in eps[:k]) for eps in eligible) / len(eligible)
        )
    return curves


def pass_at_k_plot(episodes: Sequence[Episode]) -> bytes:
    fig, ax = _figure()
    curves = k_curves(episodes)
    if not curves["k"]:
        _empty(ax, "no scored episodes")
        return _png(fig)
    for name, color in (("pass@k", "main"), ("coverage@k", "third"), ("pass^k", "second")):
        ax.plot(curves["k"], curves[name], marker="o", label=name, color=COLORS[color])
    ax.set(xlabel="k (samples per task)", ylabel="fraction of tasks", ylim=(-0.02, 1.02))
    ax.set_xticks(curves["k"])
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return _png(fig)


def per_task_plot(episodes: Sequence[Episode], max_bars: int = 60) -> bytes:
    tasks = by_task(episodes)
    rates = {t: sum(e.success for e in eps) / len(eps) for t, eps in tasks.items()}
    if not rates:
        fig, ax = _figure()
        _empty(ax, "no scored episodes")
        return _png(fig)
    if len(rates) > max_bars:  # too many to label: the distribution of per-task success
        fig, ax = _figure()
        ax.hist(list(rates.values()), bins=20, range=(0, 1), color=COLORS["main"])
        ax.set(xlabel="success rate of a task", ylabel="tasks")
        return _png(fig)
    names = list(rates)
    longest = max(len(t) for t in names)
    fig, ax = _figure(
        height=max(2.4, 0.22 * len(rates) + 1.0), left=min(0.5, 0.05 + 0.011 * longest)
    )
    ax.barh(names, [rates[t] for t in names], color=COLORS["main"])
    ax.invert_yaxis()
    ax.set(xlabel="success rate", xlim=(0, 1))
    ax.tick_params(axis="y", labelsize=7)
    return _png(fig)


def histogram_plot(values: Sequence[float], xlabel: str, empty: str, bins: int = 20) -> bytes:
    fig, ax = _figure()
    if not values:
        _empty(ax, empty)
        return _png(fig)
    lo, hi = min(values), max(values)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    ax.hist(values, bins=bins, range=(lo, hi), color=COLORS["main"])
    ax.set(xlabel=xlabel, ylabel="count")
    return _png(fig)


def length_plot(episodes: Sequence[Episode]) -> bytes:
    fig, ax = _figure()
    if not episodes:
        _empty(ax, "no scored episodes")
        return _png(fig)
    top = max(len(e.steps) for e in episodes)
    bins = range(0, top + 2)
    ax.hist(
        [
            [len(e.steps) for e in episodes if e.success],
            [len(e.steps) for e in episodes if not e.success],
        ],
        bins=bins,
        stacked=True,
        label=["success", "failure"],
        color=[COLORS["third"], COLORS["fail"]],
        align="left",
    )
    ax.set(xlabel="steps in the episode", ylabel="episodes")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    return _png(fig)


def tokens_plot(episodes: Sequence[Episode]) -> bytes:
    fig, ax = _figure()
    prompt = [e.usage.prompt_tokens for e in episodes]
    completion = [e.usage.completion_tokens for e in episodes]
    if not any(prompt) and not any(completion):
        _empty(ax, "no token counts recorded (the policy reports none)")
        return _png(fig)
    ax.hist(
        [prompt, completion],
        bins=20,
        label=["prompt", "completion"],
        color=[COLORS["main"], COLORS["second"]],
    )
    ax.set(xlabel="tokens per episode", ylabel="episodes")
    ax.legend()
    return _png(fig)


def latency_plot(episodes: Sequence[Episode]) -> bytes:
    fig, ax = _figure()
    policy = [s.latency_s for e in episodes for s in e.steps]
    env = [s.env_latency_s for e in episodes for s in e.steps]
    if not policy:
        _empty(ax, "no steps recorded")
        return _png(fig)
    ax.hist(
        [policy, env],
        bins=20,
        label=["policy (per step)", "env (per step)"],
        color=[COLORS["main"], COLORS["second"]],
    )
    ax.set(xlabel="seconds", ylabel="steps")
    ax.legend()
    return _png(fig)
