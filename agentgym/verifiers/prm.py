"""A process reward model: V(state) = P(success | the episode so far), learned from episodes
whose outcomes the execution verifier gave, with Monte-Carlo targets (prm_data.py).

    report = train_prm(episodes, "runs/prm")           # or: agentgym verifiers train-prm E --out DIR
    prm = load_verifier("prm:runs/prm")                 # deployable: it reads only the trajectory
    step reward = V(after step t) - V(before step t);  episode score = V(final state)

Step rewards are progress, the change in the chance of success ("Rewarding Progress"), so they sum
to V(end) - V(start). The model is a hashed n-gram MLP by default (trains on CPU in minutes);
pass `backbone` (a transformers config dict or a local model dir) for a transformer.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel

from agentgym.core.env import Env
from agentgym.core.errors import UserInputError, VerifierError
from agentgym.core.types import Episode, Reward, Task
from agentgym.verifiers.base import Verifier
from agentgym.verifiers.metrics import auroc
from agentgym.verifiers.prm_data import State, collect_states, split_by_group, state_text, usable
from agentgym.verifiers.prm_models import MODEL_KINDS, build_model

META_FILE = "prm.json"
FORMAT = 1


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run torch on `n` threads inside the block. Small models are fastest on one: on a busy
    2-core machine two threads made a training step 30-100x slower than one (measured)."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class TrainReport(BaseModel):
    episodes: int
    states: int
    train_states: int
    heldout_episodes: int
    heldout_auroc: float | None  # V(final state) of held-out episodes against their outcome
    heldout_auroc_midway: float | None  # V halfway through, before the outcome is visible
    train_loss: float
    seconds: float


class ProcessRewardModel:
    """A trained value model and how to read states with it."""

    def __init__(self, model: torch.nn.Module, meta: dict[str, Any] | None = None):
        self.model, self.meta = model, dict(meta or {})

    @torch.no_grad()
    def values(self, texts: Sequence[str], batch_size: int = 64) -> list[float]:
        self.model.eval()
        out: list[float] = []
        with torch_threads(1 if self.model.kind == "hashed-mlp" else None):
            for i in range(0, len(texts), batch_size):
                logits = self.model(**self.model.batch(list(texts[i:i + batch_size])))
                out.extend(torch.sigmoid(logits).tolist())
        return out

    def episode_values(self, episode: Episode) -> list[float]:
        """V before each step and after the last: len(steps) + 1 values."""
        return self.values([state_text(episode, i) for i in range(len(episode.steps) + 1)])

    def save(self, out: str | Path, report: TrainReport | None = None) -> Path:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.model.save(out)
        meta = {**self.meta, "format": FORMAT, "kind": self.model.kind, "config": self.model.config()}
        if report is not None:
            meta["report"] = report.model_dump()
        (out / META_FILE).write_text(json.dumps(meta, indent=2))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> ProcessRewardModel:
        directory = Path(directory)
        try:
            meta = json.loads((directory / META_FILE).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise UserInputError(f"{directory} is not a trained PRM (no readable {META_FILE}: {e})") from None
        if meta.get("format") != FORMAT or meta.get("kind") not in MODEL_KINDS:
            raise UserInputError(f"{directory}: unknown PRM format {meta.get('format')}/{meta.get('kind')}")
        return cls(MODEL_KINDS[meta["kind"]].load(directory, meta.get("config", {})), meta)


def _optimizers(model: torch.nn.Module, lr: float) -> list[torch.optim.Optimizer]:
    """Adam; embeddings with sparse gradients get SparseAdam (dense Adam cannot take them)."""
    sparse = [m.weight for m in model.modules()
              if isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag)) and m.sparse]
    ids = {id(p) for p in sparse}
    dense = [p for p in model.parameters() if id(p) not in ids]
    out: list[torch.optim.Optimizer] = [torch.optim.Adam(dense, lr=lr)]
    if sparse:
        out.append(torch.optim.SparseAdam(sparse, lr=lr))
    return out


def _fit(model: torch.nn.Module, states: list[State], epochs: int, lr: float, batch_size: int,
         seed: int) -> float:
    """Weighted binary cross-entropy against the Monte-Carlo targets; returns the last epoch's loss."""
    rng = random.Random(seed)
    optimizers = _optimizers(model, lr)
    # a state seen n times has a target known to about 1/sqrt(n): weigh it so
    weights = torch.tensor([math.sqrt(s.visits) for s in states])
    targets = torch.tensor([s.target for s in states])
    order = list(range(len(states)))
    loss_value = 0.0
    for _epoch in range(epochs):
        rng.shuffle(order)
        model.train()
        total, seen = 0.0, 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            logits = model(**model.batch([states[i].text for i in idx]))
            w = weights[idx]
            loss = (torch.nn.functional.binary_cross_entropy_with_logits(
                logits, targets[idx], reduction="none") * w).sum() / w.sum()
            for optimizer in optimizers:
                optimizer.zero_grad()
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
            total += loss.item() * float(w.sum())
            seen += float(w.sum())
        loss_value = total / max(seen, 1e-9)
    return loss_value


def train_prm(
    episodes: Sequence[Episode],
    out: str | Path | None = None,
    *,
    backbone: str | Path | dict[str, Any] | None = None,
    hidden: int = 64,
    epochs: int = 20,
    lr: float | None = None,
    batch_size: int = 32,
    holdout: float = 0.2,
    seed: int = 0,
    threads: int | None = 1,
) -> tuple[ProcessRewardModel, TrainReport]:
    """Train a PRM on `episodes` (a `holdout` share of tasks is kept out to measure it).
    `threads`: torch threads while training (None: torch's default)."""
    with torch_threads(threads):
        return _train(episodes, out, backbone, hidden, epochs, lr, batch_size, holdout, seed)


def _train(episodes, out, backbone, hidden, epochs, lr, batch_size, holdout, seed):
    started = time.perf_counter()
    torch.manual_seed(seed)
    kept = [e for e in episodes if usable(e)]
    if not kept:
        raise UserInputError("no episode to learn from: every one is an infra error, empty, or unscored")
    if len({e.success for e in kept}) < 2:
        raise UserInputError("the episodes are all successes or all failures: a PRM needs both")
    train_eps, held_eps = split_by_group(kept, lambda e: f"{e.env_id}/{e.task_id}", holdout, seed)
    states = collect_states(train_eps)
    model = build_model(backbone, hidden=hidden)
    lr = lr if lr is not None else (3e-3 if backbone is None else 1e-4)
    loss = _fit(model, states, epochs, lr, batch_size, seed)
    prm = ProcessRewardModel(model, {"trained_on": len(train_eps), "seed": seed})
    final = midway = None
    if held_eps:
        labels = [e.success for e in held_eps]
        final = auroc(prm.values([state_text(e, len(e.steps)) for e in held_eps]), labels)
        midway = auroc(prm.values([state_text(e, len(e.steps) // 2) for e in held_eps]), labels)
    report = TrainReport(episodes=len(kept), states=len(collect_states(kept)), train_states=len(states),
                         heldout_episodes=len(held_eps), heldout_auroc=final,
                         heldout_auroc_midway=midway, train_loss=loss,
                         seconds=time.perf_counter() - started)
    if out is not None:
        prm.save(out, report)
    return prm, report


class PRMVerifier(Verifier):
    """A trained PRM as a verifier (deployable: it reads only the recorded trajectory)."""

    name = "prm"
    privileged = False
    scores_steps = True

    def __init__(self, prm: ProcessRewardModel):
        self.prm = prm

    async def score_step(self, episode: Episode, index: int, task: Task, env: Env | None = None) -> Reward:
        before, after = self.prm.values([state_text(episode, index), state_text(episode, index + 1)])
        return Reward(value=after - before, components={"value_before": before, "value_after": after},
                      explanation=f"V went from {before:.3f} to {after:.3f}", source=self.name)

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        if not episode.steps:
            raise VerifierError("prm: the episode has no steps")
        values = self.prm.episode_values(episode)
        return Reward(value=values[-1],
                      components={"value": values[-1], "value_start": values[0],
                                  "min_value": min(values)},
                      explanation=f"predicted chance of success {values[-1]:.3f} "
                                  f"(from {values[0]:.3f} at the start)", source=self.name)


def prm(arg: str | None = None, path: str | None = None) -> PRMVerifier:
    """`prm:DIR` or {"name": "prm", "path": DIR}."""
    where = arg or path
    if not where:
        raise UserInputError("prm needs the directory of a trained model: prm:DIR")
    return PRMVerifier(ProcessRewardModel.load(where))
