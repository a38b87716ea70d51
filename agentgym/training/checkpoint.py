"""Checkpoints and the JSONL log of a training run, so a run resumes where it stopped.

A checkpoint is written whole into `checkpoint.tmp/` and then renamed to `checkpoint/`: an
interruption while saving leaves the previous checkpoint intact. On resume the log is cut back to
the checkpoint's step, so no step is logged twice.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import torch

STATE_FILE = "trainer_state.pt"


def save(out: Path, step: int, model, tokenizer, optimizer) -> Path:
    tmp, final, old = out / "checkpoint.tmp", out / "checkpoint", out / "checkpoint.old"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    torch.save(
        {
            "step": step,
            "optimizer": optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "python_rng": random.getstate(),
        },
        tmp / STATE_FILE,
    )
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def latest(out: Path) -> Path | None:
    """The checkpoint to resume from, if a complete one exists."""
    final = out / "checkpoint"
    if (final / STATE_FILE).exists():
        return final
    old = out / "checkpoint.old"  # interrupted between the two renames
    return old if (old / STATE_FILE).exists() else None


def load_state(checkpoint: Path, optimizer) -> int:
    """Restore optimizer and random state; return the step the checkpoint was taken after."""
    state = torch.load(checkpoint / STATE_FILE, weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    random.setstate(state["python_rng"])
    return int(state["step"])


class JsonlLog:
    """One JSON object per line, flushed per row; `truncate_after(step)` drops later rows."""

    def __init__(self, path: Path):
        self.path = path

    def truncate_after(self, step: int) -> None:
        if not self.path.exists():
            return
        rows = [
            line
            for line in self.path.read_text().splitlines()
            if line.strip() and json.loads(line).get("step", 0) <= step
        ]
        self.path.write_text("".join(r + "\n" for r in rows))

    def write(self, row: dict[str, Any]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]


class Tracker:
    """Mirrors the log to TensorBoard when it is installed (nothing otherwise)."""

    def __init__(self, out: Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception:  # tensorboard is optional
            self.writer = None
        else:
            self.writer = SummaryWriter(str(out / "tensorboard"))

    def log(self, row: dict[str, Any]) -> None:
        if self.writer is None:
            return
        for key, value in row.items():
            if isinstance(value, (int, float)) and key != "step":
                self.writer.add_scalar(key, value, row["step"])
        self.writer.flush()
