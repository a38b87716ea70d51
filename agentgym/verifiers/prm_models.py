"""Value models a PRM can use: hashed n-grams into an MLP (small, CPU, minutes), or any
`transformers` backbone with a value head (built from a config, or loaded from a local dir).

Both map a batch of state texts to logits of P(success | state) and save/load from a directory.
"""

from __future__ import annotations

import functools
import json
import re
import zlib
from pathlib import Path
from typing import Any

import torch
from torch import nn

_TOKEN = re.compile(r"[a-z_]+|\d+|[^\sa-z\d]")


def _tokens(text: str) -> list[str]:
    # digits carry ids and amounts that differ between tasks: their shape is what generalizes
    return ["#" * min(len(t), 4) if t[0].isdigit() else t for t in _TOKEN.findall(text.lower())]


@functools.lru_cache(maxsize=50_000)  # training reads every state once per epoch
def _hashed_features(text: str, buckets: int, recent_chars: int) -> tuple[torch.Tensor, torch.Tensor]:
    counts: dict[int, float] = {}
    for space, part in (("a", text), ("r", text[-recent_chars:])):
        toks = _tokens(part)
        for gram in [*toks, *(f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False))]:
            index = zlib.crc32(f"{space}:{gram}".encode()) % buckets
            counts[index] = counts.get(index, 0.0) + 1.0
    weights = torch.log1p(torch.tensor(list(counts.values()), dtype=torch.float32))
    weights = weights / weights.norm().clamp(min=1e-9)
    return torch.tensor(list(counts), dtype=torch.long), weights


class HashedNgramMLP(nn.Module):
    """Unigrams and bigrams of the whole text and, apart, of its last `recent_chars`, hashed
    into `buckets` (log counts, L2-normalized), summed by an EmbeddingBag, then an MLP."""

    kind = "hashed-mlp"

    def __init__(self, buckets: int = 1 << 15, hidden: int = 64, recent_chars: int = 1_500):
        super().__init__()
        self.buckets, self.hidden, self.recent_chars = buckets, hidden, recent_chars
        # sparse gradients: a step updates only the rows of the n-grams in its batch
        self.bag = nn.EmbeddingBag(buckets, hidden, mode="sum", sparse=True)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def config(self) -> dict[str, Any]:
        return {"buckets": self.buckets, "hidden": self.hidden, "recent_chars": self.recent_chars}

    def batch(self, texts: list[str]) -> dict[str, torch.Tensor]:
        features = [_hashed_features(t, self.buckets, self.recent_chars) for t in texts]
        lengths = torch.tensor([0] + [len(i) for i, _ in features[:-1]], dtype=torch.long)
        return {"input": torch.cat([i for i, _ in features]),
                "offsets": torch.cumsum(lengths, 0),
                "per_sample_weights": torch.cat([w for _, w in features])}

    def forward(self, input: torch.Tensor, offsets: torch.Tensor,
                per_sample_weights: torch.Tensor) -> torch.Tensor:
        return self.head(self.bag(input, offsets, per_sample_weights=per_sample_weights)).squeeze(-1)

    def save(self, out: Path) -> None:
        torch.save(self.state_dict(), out / "weights.pt")

    @classmethod
    def load(cls, directory: Path, config: dict[str, Any]) -> HashedNgramMLP:
        model = cls(**config)
        model.load_state_dict(torch.load(directory / "weights.pt", weights_only=True))
        return model


class ByteTokenizer:
    """Bytes as tokens (ids 3..258; 0 pads): for a backbone built from a config, which has no
    trained tokenizer. Keeps the last `max_tokens` bytes."""

    vocab_size = 259

    def __call__(self, texts: list[str], max_tokens: int) -> dict[str, torch.Tensor]:
        rows = [[b + 3 for b in t.encode()[-max_tokens:]] or [1] for t in texts]
        width = max(len(r) for r in rows)
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        return {"input_ids": ids, "attention_mask": mask}


class BackboneValueModel(nn.Module):
    """A `transformers` encoder or decoder, mean-pooled over its tokens, with a linear value head."""

    kind = "transformers"

    def __init__(self, backbone: nn.Module, tokenizer: Any = None, max_tokens: int = 512):
        super().__init__()
        limit = getattr(backbone.config, "max_position_embeddings", None)
        self.backbone, self.max_tokens = backbone, min(max_tokens, limit or max_tokens)
        self.tokenizer = tokenizer or ByteTokenizer()
        if not isinstance(self.tokenizer, ByteTokenizer):
            self.tokenizer.truncation_side = "left"  # keep the most recent part of the state
            if self.tokenizer.pad_token is None:
                self.tokenizer.pad_token = self.tokenizer.eos_token
        self.head = nn.Linear(backbone.config.hidden_size, 1)

    @classmethod
    def from_config(cls, config: dict[str, Any], max_tokens: int = 512) -> BackboneValueModel:
        """A freshly initialised backbone from a config dict ({"model_type": "bert", ...})."""
        from transformers import AutoConfig, AutoModel

        options = dict(config)
        model_type = options.pop("model_type")
        options.setdefault("vocab_size", ByteTokenizer.vocab_size)
        return cls(AutoModel.from_config(AutoConfig.for_model(model_type, **options)), None, max_tokens)

    @classmethod
    def from_pretrained(cls, directory: str | Path, max_tokens: int = 512) -> BackboneValueModel:
        """A backbone (and its tokenizer, if saved there) from a local directory."""
        from transformers import AutoModel, AutoTokenizer

        directory = Path(directory)
        tokenizer = None
        if any((directory / f).exists() for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt")):
            tokenizer = AutoTokenizer.from_pretrained(directory)
        return cls(AutoModel.from_pretrained(directory), tokenizer, max_tokens)

    def config(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "byte_tokens": isinstance(self.tokenizer, ByteTokenizer)}

    def batch(self, texts: list[str]) -> dict[str, torch.Tensor]:
        if isinstance(self.tokenizer, ByteTokenizer):
            return self.tokenizer(texts, self.max_tokens)
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_tokens, padding=True,
                                 return_tensors="pt")
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(pooled).squeeze(-1)

    def save(self, out: Path) -> None:
        self.backbone.config.save_pretrained(out / "backbone")
        if not isinstance(self.tokenizer, ByteTokenizer):
            self.tokenizer.save_pretrained(out / "backbone")
        torch.save(self.state_dict(), out / "weights.pt")

    @classmethod
    def load(cls, directory: Path, config: dict[str, Any]) -> BackboneValueModel:
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        backbone = AutoModel.from_config(AutoConfig.from_pretrained(directory / "backbone"))
        tokenizer = None if config.get("byte_tokens", True) else AutoTokenizer.from_pretrained(directory / "backbone")
        model = cls(backbone, tokenizer, config.get("max_tokens", 512))
        model.load_state_dict(torch.load(directory / "weights.pt", weights_only=True))
        return model


MODEL_KINDS = {HashedNgramMLP.kind: HashedNgramMLP, BackboneValueModel.kind: BackboneValueModel}


def build_model(backbone: str | Path | dict[str, Any] | None, hidden: int = 64,
                max_tokens: int = 512) -> nn.Module:
    """None: the hashed n-gram MLP. A dict: a transformers config to build from. A path: a
    local transformers model directory, or a JSON file holding a config."""
    if backbone is None:
        return HashedNgramMLP(hidden=hidden)
    if isinstance(backbone, dict):
        return BackboneValueModel.from_config(backbone, max_tokens)
    path = Path(backbone)
    if path.is_file():
        return BackboneValueModel.from_config(json.loads(path.read_text()), max_tokens)
    return BackboneValueModel.from_pretrained(path, max_tokens)
