"""A compact RL loop on agentgym envs: k samples per task, step-level advantages (grpo, gigpo,
step rewards), DAPO's options, only the policy's own tokens in the loss; JSONL log, checkpoints,
resume. TRL's GRPOTrainer (agentgym.integrations.trl) covers episode-level GRPO; this loop is for
the credit assignment it lacks.
"""

from __future__ import annotations

import copy
import json
import random
import time
from pathlib import Path
from typing import Literal

import torch
from pydantic import BaseModel, Field

from agentgym.core.errors import UserInputError
from agentgym.core.registry import make_async
from agentgym.training import advantages as adv
from agentgym.training.checkpoint import JsonlLog, Tracker, latest, load_state, save
from agentgym.training.loss import (
    LossOptions,
    Sample,
    episode_weight,
    pad_batch,
    policy_loss,
    token_logprobs,
)
from agentgym.training.rollout import Rollout, collect, run

EVAL_SEEDS = 10**12  # held-out evaluation worlds; SFT warm-up uses 2 * 10**12 and up


def train_seeds(seed: int, step: int) -> int:
    """The first env seed of an update (one seed per task after it): distinct for every
    (run seed, step) and far below EVAL_SEEDS."""
    return ((seed % 100_000) * 1_000_003 + step) * 1000


def one_line(error: Exception, limit: int = 160) -> str:
    """An exception's message on one line (transformers' span several)."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class TrainConfig(BaseModel):
    env_id: str
    model: str
    algo: Literal["grpo", "gigpo", "step"] = "grpo"
    group_size: int = Field(8, ge=2)
    tasks_per_step: int = Field(4, ge=1, le=1000)
    steps: int = Field(50, ge=1)
    lr: float = Field(1e-3, gt=0)
    temperature: float = Field(1.0, gt=0)
    max_new_tokens: int = Field(40, ge=1)
    max_turns: int | None = Field(None, ge=1)
    clip_low: float = Field(0.2, ge=0)
    clip_high: float = Field(0.28, ge=0)
    # how token losses are averaged: over all tokens (DAPO), per turn first (GRPO), or with every
    # episode weighing the same whatever its length
    loss_agg: Literal["token", "turn", "episode"] = "token"
    dynamic_sampling: bool = True
    kl_coef: float = Field(0.0, ge=0)
    gamma: float = Field(0.9, gt=0, le=1)
    step_weight: float = Field(1.0, ge=0)
    scale_by_std: bool = True
    # scale on negative advantages: pushing down a sampled token the model is sure of feeds on
    # itself (its gradient grows as it falls), so on a weak model full-weight negatives can erase
    # the shared call format; 0 keeps only the better-than-average samples
    negative_weight: float = Field(1.0, ge=0, le=1)
    minibatches: int = Field(2, ge=1)
    # updates over which lr rises linearly to `lr`: Adam's first steps move every weight by about
    # lr whatever its gradient, and a noisy policy gradient at full lr can wreck a warm model
    warmup: int = Field(0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    step_rewards: str = "env"  # or prm:DIR (a trained PRM's progress)
    eval_every: int = Field(5, ge=0)
    save_every: int = Field(5, ge=1)
    seed: int = 0
    eval_worlds: int = Field(2, ge=1)
    threads: int = Field(1, ge=1)


def split_tasks(env_id: str) -> tuple[list[str], list[str]]:
    """(train, held-out) task ids by each task's data["split"]; envs without splits use every
    task for both."""
    env = make_async(env_id)
    try:
        tasks = sorted(env.tasks.values(), key=lambda t: t.id)
    finally:
        run(env.close())
    train = [t.id for t in tasks if t.data.get("split", "train") == "train"]
    held = [t.id for t in tasks if t.data.get("split") == "heldout"]
    return train or [t.id for t in tasks], held or [t.id for t in tasks]


def compute_advantages(rollouts: list[Rollout], config: TrainConfig) -> list[list[float]]:
    groups = [r.group for r in rollouts]
    outcomes = [r.episode.reward for r in rollouts]
    rewards = [r.rewards for r in rollouts]
    if config.algo == "grpo":
        return adv.grpo(outcomes, groups, [len(r) for r in rewards], config.scale_by_std)
    if config.algo == "gigpo":
        return adv.gigpo(
            outcomes,
            groups,
            rewards,
            [r.state_keys for r in rollouts],
            config.gamma,
            config.step_weight,
            config.scale_by_std,
        )
    return adv.step_rewards_advantages(groups, rewards, config.gamma, config.scale_by_std)


def prm_progress(rollouts: list[Rollout], prm) -> None:
    """Replace step rewards with a PRM's progress: V(after step) - V(before step)."""
    for r in rollouts:
        values = prm.episode_values(r.episode)
        for t, step in enumerate(r.episode.steps):
            step.reward = values[t + 1] - values[t]


def to_samples(
    rollouts: list[Rollout],
    advantages: list[list[float]],
    keep: list[bool],
    per_episode: bool = False,
) -> list[Sample]:
    """One sample per policy turn of each kept episode; with `per_episode`, its tokens weigh
    1 / the episode's completion tokens (every episode counts the same)."""
    samples = []
    for rollout, episode_adv, kept in zip(rollouts, advantages, keep, strict=True):
        if not kept:
            continue
        turns = []
        for step, a in zip(rollout.episode.steps, episode_adv, strict=True):
            g = step.action.generation
            if g is not None and g.completion_token_ids:
                turns.append(Sample(g.prompt_token_ids, g.completion_token_ids, a))
        if per_episode and turns:
            weight = episode_weight(sum(len(t.completion_ids) for t in turns))
            for t in turns:
                t.weight = weight
        samples.extend(turns)
    return samples


class Trainer:
    def __init__(self, config: TrainConfig, out: str | Path):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from agentgym.policies.local import LocalPolicy

        self.config, self.out = config, Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        torch.set_num_threads(config.threads)
        self.train_ids, self.heldout_ids = split_tasks(config.env_id)
        resume_from = latest(self.out)
        if resume_from is not None:
            saved = json.loads((self.out / "config.json").read_text())
            if {k: v for k, v in saved.items() if k != "steps"} != {
                k: v for k, v in config.model_dump().items() if k != "steps"
            }:
                raise UserInputError(
                    f"{self.out} holds a run with other settings; use another --out"
                )
        source = str(resume_from or config.model)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            self.model = AutoModelForCausalLM.from_pretrained(source)
        except (OSError, ValueError) as e:
            raise UserInputError(
                f"--model {source}: cannot load a model and tokenizer ({one_line(e)})"
            ) from None
        if self.tokenizer.chat_template is None or self.tokenizer.pad_token_id is None:
            raise UserInputError(
                f"--model {source}: the tokenizer needs a chat template and a pad token"
            )
        self.model.train()
        self.reference = copy.deepcopy(self.model).eval() if config.kl_coef > 0 else None
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=0.0)
        self.policy = LocalPolicy(
            self.model,
            self.tokenizer,
            temperature=config.temperature,
            max_new_tokens=config.max_new_tokens,
            name=f"local:{config.model}",
        )
        self.prm = None
        if config.step_rewards.startswith("prm:"):
            from agentgym.verifiers.prm import ProcessRewardModel

            self.prm = ProcessRewardModel.load(config.step_rewards.removeprefix("prm:"))
        self.log = JsonlLog(self.out / "log.jsonl")
        self.tracker = Tracker(self.out)
        self.step = 0
        if resume_from is not None:
            self.step = load_state(resume_from, self.optimizer)
            self.log.truncate_after(self.step)
        else:
            random.seed(config.seed)
            torch.manual_seed(config.seed)
            self.log.truncate_after(-1)
        (self.out / "config.json").write_text(config.model_dump_json(indent=2))

    # ---- one update -------------------------------------------------------------------------

    def rollouts(
        self, task_ids: list[str], group_size: int, temperature: float, first_seed: int
    ) -> list[Rollout]:
        """`group_size` episodes of each task; the episodes of one group share its seed (the same
        task in the same world), so they differ only by what the policy sampled."""
        self.policy.temperature = temperature
        jobs = [(t, first_seed + i) for i, t in enumerate(task_ids) for _ in range(group_size)]
        return run(collect(self.config.env_id, self.policy, jobs, max_steps=self.config.max_turns))

    def evaluate(self) -> dict[str, float]:
        """Held-out success with greedy decoding: each held-out task in `eval_worlds` seeds that no
        training episode uses."""
        ids = self.heldout_ids * self.config.eval_worlds
        rs = self.rollouts(ids, 1, 0.0, first_seed=EVAL_SEEDS)
        return {
            "heldout_success": sum(r.episode.success for r in rs) / len(rs),
            "heldout_reward": sum(r.episode.reward for r in rs) / len(rs),
        }

    def update(self, samples: list[Sample]) -> dict[str, float]:
        """One pass over the samples in `minibatches` optimizer steps. Minibatches hold samples of
        similar length (little padding) and run in random order; the behaviour policy's logprobs
        (and the reference's) are taken for all of them before the first step."""
        c = self.config
        options = LossOptions(c.clip_low, c.clip_high, c.loss_agg != "turn", c.kl_coef)
        pad = self.tokenizer.pad_token_id
        by_length = sorted(samples, key=lambda s: len(s.prompt_ids) + len(s.completion_ids))
        size = -(-len(by_length) // c.minibatches)
        batches = []
        with torch.no_grad():
            for i in range(0, len(by_length), size):
                batch = by_length[i : i + size]
                ids, attention, mask = pad_batch(batch, pad)
                old = token_logprobs(self.model, ids, attention)[0]
                ref = (
                    None
                    if self.reference is None
                    else token_logprobs(self.reference, ids, attention)[0]
                )
                advantages = torch.tensor([s.advantage for s in batch])
                batches.append((ids, attention, mask, old, ref, advantages))
        random.shuffle(batches)
        lr = c.lr * min(1.0, (self.step + 1) / (c.warmup + 1))
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        stats: dict[str, list[float]] = {"lr": [lr]}
        for ids, attention, mask, old, ref, advantages in batches:
            logp, entropy = token_logprobs(self.model, ids, attention, with_entropy=True)
            loss, info = policy_loss(logp, old, advantages, mask, options, ref)
            self.optimizer.zero_grad()
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.max_grad_norm)
            self.optimizer.step()
            with torch.no_grad():
                n = mask.sum().clamp(min=1e-9)
                info["entropy"] = float((entropy * mask).sum() / n)
                log_ratio = (logp - old) * mask
                info["kl_old"] = float(((log_ratio.exp() - 1) - log_ratio).mul(mask).sum() / n)
            info.update(loss=loss.item(), grad_norm=grad_norm.item())
            for k, v in info.items():
                stats.setdefault(k, []).append(v)
        return {k: sum(v) / len(v) for k, v in stats.items()}

    def train_step(self) -> dict[str, float]:
        c = self.config
        rng = random.Random(c.seed * 100_003 + self.step)
        tasks = rng.sample(self.train_ids, min(c.tasks_per_step, len(self.train_ids)))
        t0 = time.perf_counter()
        rollouts = self.rollouts(
            tasks, c.group_size, c.temperature, first_seed=train_seeds(c.seed, self.step)
        )
        if self.prm is not None:
            prm_progress(rollouts, self.prm)
        advantages = compute_advantages(rollouts, c)
        if c.negative_weight != 1.0:
            advantages = adv.scale_negatives(advantages, c.negative_weight)
        groups = [r.group for r in rollouts]
        keep = (
            adv.keep_informative(advantages, groups)
            if c.dynamic_sampling
            else [True] * len(rollouts)
        )
        samples = to_samples(rollouts, advantages, keep, per_episode=c.loss_agg == "episode")
        t1 = time.perf_counter()
        row: dict[str, float] = {
            "reward": sum(r.episode.reward for r in rollouts) / len(rollouts),
            "success": sum(r.episode.success for r in rollouts) / len(rollouts),
            "turns": sum(len(r.episode.steps) for r in rollouts) / len(rollouts),
            "groups_kept": len({g for g, k in zip(groups, keep, strict=True) if k}),
            "samples": len(samples),
            "rollout_s": round(t1 - t0, 3),
        }
        if samples:
            row.update(self.update(samples))
        row["update_s"] = round(time.perf_counter() - t1, 3)
        return row

    def train(self, on_row=None) -> list[dict]:
        c = self.config
        start = time.perf_counter()
        if self.step == 0 and c.eval_every:
            self._write({"step": 0, **self.evaluate(), "elapsed_s": 0.0}, on_row)
        while self.step < c.steps:
            row = self.train_step()
            self.step += 1
            if c.eval_every and (self.step % c.eval_every == 0 or self.step == c.steps):
                row.update(self.evaluate())
            row["elapsed_s"] = round(time.perf_counter() - start, 2)
            self._write({"step": self.step, **row}, on_row)  # before the checkpoint: a resume
            if self.step % c.save_every == 0 or self.step == c.steps:  # cuts the log back to it
                save(self.out, self.step, self.model, self.tokenizer, self.optimizer)
        self.model.save_pretrained(self.out / "final")
        self.tokenizer.save_pretrained(self.out / "final")
        return self.log.rows()

    def _write(self, row: dict, on_row) -> None:
        self.log.write(row)
        self.tracker.log(row)
        if on_row is not None:
            on_row(row)
