"""A tiny causal LM and tokenizer built in code: nothing is downloaded.

The tokenizer is a byte-level BPE trained on a corpus given in code (for the toy envs: their
words and reference conversations), so any text still encodes and decodes exactly. Its chat
template (ours) renders tools by name and tool calls as `<tool_call>{json}</tool_call>` blocks,
the form agentgym's tool envs read from text, and ends every message with `<|end|>`.

    python -m agentgym.training.tiny --out runs/tiny --env toy/Lookup-v0 --sft-steps 40
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path

END = "<|end|>"
PAD = "<|pad|>"
ROLE_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>", "<|tool|>"]
CALL_TOKENS = ["<tool_call>", "</tool_call>"]

# Ours. Each message renders on its own (prefix-preserving: a conversation's rendering starts
# with the rendering of any earlier part of it), as multi-turn RL needs.
CHAT_TEMPLATE = (
    "{%- if tools -%}<|system|>tools:{%- for t in tools %} "
    "{{ t.function.name if t.function is defined else t.name }}{%- endfor %}<|end|>{%- endif -%}"
    "{%- for m in messages -%}"
    "<|{{ m.role }}|>"
    "{%- if m.content is string %}{{ m.content }}{%- endif -%}"
    "{%- for c in m.tool_calls or [] -%}"
    "{%- set f = c.function if c.function is defined else c -%}"
    "{%- set args = f.arguments if f.arguments is not string else (f.arguments | fromjson) -%}"
    "<tool_call>{{ {'name': f.name, 'arguments': args} | tojson }}</tool_call>"
    "{%- endfor -%}"
    "{%- if m.role == 'assistant' %}{% generation %}<|end|>{% endgeneration %}{% else %}<|end|>{% endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
)


def build_tokenizer(corpus: Iterable[str], vocab_size: int = 1024):
    """A byte-level BPE tokenizer trained on `corpus`, with our chat template and special tokens."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    # words, runs of punctuation and runs of spaces are pieces of their own, so a word is the same
    # token in a request, a tool result and a JSON argument: copying it is one step to learn
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r"\w+|[^\w\s]+|\s+"), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    bpe.decoder = decoders.ByteLevel()
    specials = [PAD, END, *ROLE_TOKENS]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials + CALL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(list(corpus), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token=PAD, eos_token=END, additional_special_tokens=ROLE_TOKENS
    )
    tokenizer.add_tokens(CALL_TOKENS)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "left"
    return tokenizer


def build_model(
    tokenizer,
    hidden: int = 128,
    layers: int = 2,
    heads: int = 4,
    seed: int = 0,
    max_positions: int = 512,
):
    """A randomly initialised Llama-shaped causal LM sized for CPU RL."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 4,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def env_corpus(env_ids: Iterable[str]) -> list[str]:
    """Text to train a tokenizer on: every task's reference conversation in each env, rendered."""
    import asyncio

    from agentgym.training.rollout import reference_conversations

    texts = []
    for env_id in env_ids:
        for messages, tools in asyncio.run(reference_conversations(env_id)):
            texts.append(json.dumps([m.model_dump() for m in messages]))
            texts.append(" ".join(t.name for t in tools))
            texts.extend(m.content or "" for m in messages)
            for m in messages:
                for c in m.tool_calls:
                    texts.append(json.dumps({"name": c.name, "arguments": c.arguments}))
    return texts


def build_tiny(
    out: str | Path,
    env_ids: Iterable[str],
    seed: int = 0,
    hidden: int = 128,
    layers: int = 2,
    words: Iterable[str] = (),
) -> Path:
    """Build and save a tiny model with a tokenizer trained on the envs' text (and `words`, each
    repeated so it becomes one token); returns its dir."""
    out = Path(out)
    tokenizer = build_tokenizer([*env_corpus(env_ids), *(f"{w} " * 8 for w in words)])
    model = build_model(tokenizer, hidden=hidden, layers=layers, seed=seed)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Build a tiny causal LM (and optionally SFT-warm it)."
    )
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--env", action="append", default=None, help="env ids whose text trains the tokenizer"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sft-steps", type=int, default=0, help="SFT steps on the env's train split"
    )
    args = parser.parse_args(argv)
    envs = args.env or ["toy/Lookup-v0", "toy/LookupChain-v0"]
    from agentgym.environments.toy import ensure_registered
    from agentgym.environments.toy.world import vocabulary

    ensure_registered()

    out = build_tiny(args.out, envs, seed=args.seed, words=vocabulary())
    if args.sft_steps:
        from agentgym.training.sft import sft_warmup

        sft_warmup(out, envs[0], steps=args.sft_steps, seed=args.seed, save_to=out)
    print(out)


if __name__ == "__main__":
    main()
