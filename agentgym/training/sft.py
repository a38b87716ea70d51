"""SFT warm-up: teacher-forced training on reference solutions of the env's *train* split, so a
model built from scratch learns the call format before RL. Held-out tasks are never seen here.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from agentgym.policies.local import render_prompt, tool_call_text
from agentgym.training.loss import Sample, pad_batch, token_logprobs
from agentgym.training.rollout import reference_conversations, run


def reference_samples(
    env_id: str, tokenizer, split: str = "train", seeds: tuple[int, ...] = (0,), solver=None
) -> list[Sample]:
    """One sample per assistant turn of each reference conversation (or of `solver(task, seed)`'s
    demonstrations): its prompt and the turn."""
    samples = []
    for messages, tools in run(reference_conversations(env_id, split, seeds, solver)):
        for i, m in enumerate(messages):
            if m.role != "assistant":
                continue
            text = (m.content or "") + "".join(
                tool_call_text(c.name, c.arguments) for c in m.tool_calls
            )
            completion = tokenizer.encode(text + tokenizer.eos_token, add_special_tokens=False)
            samples.append(Sample(render_prompt(tokenizer, messages[:i], tools), completion, 1.0))
    return samples


def sft_warmup(
    model_dir: str | Path,
    env_id: str,
    *,
    steps: int,
    batch_size: int = 16,
    lr: float = 3e-3,
    seed: int = 0,
    save_to: str | Path | None = None,
    threads: int = 1,
    worlds: int = 32,
    solver=None,
) -> list[float]:
    """`steps` SFT steps on the train split's reference turns, each task acted in `worlds` seeds
    (2 * 10**12 and up: not the seeds RL and evaluation use); returns the losses. `solver(task,
    seed)` replaces the reference as the teacher (for example `toy.world.WeakTeacher`)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    samples = reference_samples(
        env_id, tokenizer, seeds=tuple(range(2 * 10**12, 2 * 10**12 + worlds)), solver=solver
    )
    rng = random.Random(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    losses = []
    for _ in range(steps):
        batch = rng.sample(samples, min(batch_size, len(samples)))
        ids, attention, mask = pad_batch(batch, tokenizer.pad_token_id)
        logp, _ = token_logprobs(model, ids, attention)
        loss = -(logp * mask).sum() / mask.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if save_to is not None:
        model.save_pretrained(save_to)
        tokenizer.save_pretrained(save_to)
    return losses
