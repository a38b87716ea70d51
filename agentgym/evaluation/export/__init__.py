"""`agentgym export`: an eval folder's episodes as training data.

Formats:
- `hf`: a Hugging Face `datasets` Dataset saved as Parquet, one row per episode, with the
  conversation, tools, rewards and, per policy turn, the token ids, logprobs and loss mask.
- `openai-sft`: OpenAI fine-tuning chat JSONL (messages, tools, assistant `weight`).
- `trl`: TRL conversational records (`messages` + `tools`).
- `sharegpt`: ShareGPT `conversations` as LLaMA-Factory reads them.

Which episodes: never `infra_error` (our machinery failed; the episode says nothing about the
policy) nor `error` (the runner keeps only the traceback of a crash, no steps). Filters:
`success_only`, `min_reward`. A format that cannot represent an episode skips it and says why.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgym.core.errors import UserInputError
from agentgym.core.types import Episode
from agentgym.evaluation.rundir import RunRecords, load_run, require_extra, run_tools

#: format name -> (default file name, module that writes it)
FORMATS = {
    "hf": "export-hf.parquet",
    "openai-sft": "export-openai-sft.jsonl",
    "trl": "export-trl.jsonl",
    "sharegpt": "export-sharegpt.jsonl",
}


@dataclass
class ExportSummary:
    format: str
    path: Path
    written: int
    episodes: int  # episodes in the run
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return (
            f"wrote {self.written} {self.format} record(s) from {self.episodes} episode(s) "
            f"to {self.path}" + (f" (skipped: {why})" if why else "")
        )


@dataclass
class Selection:
    episodes: list[Episode]
    skipped: Counter[str]


def select(
    run: RunRecords, success_only: bool = False, min_reward: float | None = None
) -> Selection:
    kept: list[Episode] = []
    skipped: Counter[str] = Counter()
    for episode in run.episodes:
        if episode.status in ("infra_error", "error"):
            skipped[episode.status] += 1
        elif not episode.steps:
            skipped["with no steps"] += 1
        elif success_only and not episode.success:
            skipped["not successful"] += 1
        elif min_reward is not None and episode.reward < min_reward:
            skipped[f"reward below {min_reward:g}"] += 1
        else:
            kept.append(episode)
    return Selection(kept, skipped)


def _writer(fmt: str) -> Callable[..., Any]:
    if fmt == "hf":
        from agentgym.evaluation.export.hf import write_hf

        return write_hf
    if fmt in ("openai-sft", "trl"):
        from agentgym.evaluation.export.chat import write_openai_sft, write_trl

        return write_openai_sft if fmt == "openai-sft" else write_trl
    from agentgym.evaluation.export.sharegpt import write_sharegpt

    return write_sharegpt


def export_run(
    run_dir: str | Path,
    fmt: str,
    out: str | Path | None = None,
    *,
    success_only: bool = False,
    min_reward: float | None = None,
) -> ExportSummary:
    if fmt not in FORMATS:
        raise UserInputError(f"--format {fmt!r}: unknown; choose one of {', '.join(FORMATS)}")
    if fmt == "hf":
        require_extra("datasets", "--format hf")
    run = load_run(run_dir)
    path = Path(out) if out is not None else run.path / FORMATS[fmt]
    if path.is_dir():
        raise UserInputError(f"--out {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise UserInputError(f"--out {path}: folder {path.parent} does not exist")
    selection = select(run, success_only, min_reward)
    if not selection.episodes:
        why = ", ".join(f"{n} {r}" for r, n in sorted(selection.skipped.items()))
        raise UserInputError(
            f"nothing to export from {run.path}: all {len(run.episodes)} "
            f"episode(s) were left out ({why})"
        )
    summary = ExportSummary(fmt, path, 0, len(run.episodes), Counter(selection.skipped))
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        summary.written = _writer(fmt)(selection.episodes, run_tools(run), tmp, summary)
        if summary.written == 0:
            raise UserInputError(
                f"nothing to export: no episode of {run.path} fits the {fmt} "
                f"format ({', '.join(summary.skipped)})"
            )
        os.replace(tmp, path)
    except OSError as e:
        raise UserInputError(f"--out {path}: cannot write ({e.strerror or e})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return summary
