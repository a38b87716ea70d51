"""A local transformers causal LM as a policy, token-exact: each Action carries a Generation with
the prompt ids as rendered by the model's chat template, the sampled ids, their logprobs (under
the sampling temperature) and the finish reason. Tool calls are written in the text
(`<tool_call>` blocks), which tool envs read.

    policy = load_policy("local:runs/tiny", temperature=1.0)
    actions = policy.act_batch([obs1, obs2], tools)     # one batched generation for many episodes
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agentgym.core.errors import PolicySpecError
from agentgym.core.types import Action, Generation, Message, Observation, ToolSpec


def hf_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Our messages in the form transformers chat templates take (arguments as dicts)."""
    out = []
    for m in messages:
        d: dict[str, Any] = {"role": m.role, "content": m.content or ""}
        if m.tool_calls:
            d["tool_calls"] = [
                {"type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in m.tool_calls
            ]
        out.append(d)
    return out


def render_prompt(tokenizer: Any, messages: list[Message], tools: list[ToolSpec]) -> list[int]:
    ids = tokenizer.apply_chat_template(
        hf_messages(messages),
        tools=[t.to_openai() for t in tools] or None,
        add_generation_prompt=True,
        tokenize=True,
        return_dict=False,
    )
    return list(ids["input_ids"] if isinstance(ids, dict) else ids)


@dataclass
class Sampled:
    completion_ids: list[int]
    logprobs: list[float]
    finish_reason: str  # "stop" (the end token) or "length"


def sample(
    model: Any,
    tokenizer: Any,
    prompts: list[list[int]],
    *,
    max_new_tokens: int = 48,
    temperature: float = 1.0,
) -> list[Sampled]:
    """Sample one completion per prompt in one left-padded batch; temperature 0 is greedy."""
    import torch

    pad, end = tokenizer.pad_token_id, tokenizer.eos_token_id
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        mask[i, width - len(p) :] = 1
    greedy = temperature <= 0
    options = (
        {"do_sample": False}
        if greedy
        else {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
    )
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=max_new_tokens,
            pad_token_id=pad,
            eos_token_id=end,
            output_logits=True,
            return_dict_in_generate=True,
            **options,
        )
    if was_training:
        model.train()
    new = out.sequences[:, width:]
    logits = torch.stack(out.logits, dim=1).float()  # raw logits: the temperature is applied here
    logprobs = torch.log_softmax(logits / (1.0 if greedy else temperature), dim=-1)
    chosen = logprobs.gather(-1, new.unsqueeze(-1)).squeeze(-1)
    results = []
    for i in range(len(prompts)):
        row = new[i].tolist()
        n = row.index(end) + 1 if end in row else len(row)
        results.append(
            Sampled(row[:n], chosen[i, :n].tolist(), "stop" if end in row[:n] else "length")
        )
    return results


class LocalPolicy:
    """A transformers model from a directory (or given objects) acting through its chat template."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        temperature: float = 1.0,
        max_new_tokens: int = 48,
        name: str | None = None,
    ):
        if isinstance(model, str):
            from transformers import AutoModelForCausalLM, AutoTokenizer

            try:
                tokenizer = tokenizer or AutoTokenizer.from_pretrained(model)
                path, model = model, AutoModelForCausalLM.from_pretrained(model)
            except (OSError, ValueError) as e:
                detail = " ".join(str(e).split())[:160]
                raise PolicySpecError(f"local:{model}: not a model directory ({detail})") from None
            name = name or f"local:{path}"
        if tokenizer is None or getattr(tokenizer, "chat_template", None) is None:
            raise PolicySpecError("a local policy needs a tokenizer with a chat template")
        self.model, self.tokenizer = model, tokenizer
        self.temperature, self.max_new_tokens = temperature, max_new_tokens
        self.name = name or "local"

    def act_batch(self, observations: list[Observation], tools: list[ToolSpec]) -> list[Action]:
        prompts = [render_prompt(self.tokenizer, o.messages, tools) for o in observations]
        outs = sample(
            self.model,
            self.tokenizer,
            prompts,
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
        )
        params = {"temperature": self.temperature, "max_new_tokens": self.max_new_tokens}
        actions = []
        for prompt, out in zip(prompts, outs, strict=True):
            text = self.tokenizer.decode(out.completion_ids, skip_special_tokens=False)
            text = text.removesuffix(self.tokenizer.eos_token)
            actions.append(
                Action(
                    content=text,
                    generation=Generation(
                        model=self.name,
                        endpoint="local",
                        params=params,
                        finish_reason=out.finish_reason,
                        prompt_token_ids=prompt,
                        completion_token_ids=out.completion_ids,
                        logprobs=out.logprobs,
                    ),
                )
            )
        return actions

    def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        return self.act_batch([observation], tools)[0]


def tool_call_text(name: str, arguments: dict[str, Any]) -> str:
    """A call written the way the chat template renders it (for SFT targets)."""
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"
