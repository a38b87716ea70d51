"""Toy tool-use envs small enough to train a language model on a CPU (`agentgym train`).

`toy/Lookup-v0`: one lookup, then the answer. `toy/LookupChain-v0`: two chained lookups, then
the answer. `split="train"` / `split="heldout"` keeps a fixed ~70/30 split of the tasks.
"""

from __future__ import annotations

from agentgym.core.registry import EnvSpec
from agentgym.environments.toy.world import chain_tasks, lookup_tasks


def _count(tasks, split: str | None = None) -> int:
    return sum(1 for t in tasks() if split is None or t.data["split"] == split)


def specs() -> list[EnvSpec]:
    return [
        EnvSpec(
            id="toy/Lookup-v0",
            entry_point="agentgym.environments.toy.env:LookupEnv",
            description=(
                "Call the lookup tool the request asks for (color, size, owner or material) on the "
                "item it names, then answer with the value. Scored by exact match."
            ),
            count_tasks=lambda split=None: _count(lookup_tasks, split),
        ),
        EnvSpec(
            id="toy/LookupChain-v0",
            entry_point="agentgym.environments.toy.env:LookupChainEnv",
            description=(
                "Find an item's owner, then the owner's home, age or job, then answer. "
                "Three steps; scored by exact match."
            ),
            count_tasks=lambda split=None: _count(chain_tasks, split),
        ),
    ]


def ensure_registered() -> None:
    """Register the toy specs unless entry-point discovery found them (an install made before
    this family existed does not list its entry point until it is reinstalled)."""
    from agentgym.core.registry import register, registry

    known = registry()
    for spec in specs():
        if spec.id not in known:
            register(
                spec.id,
                spec.entry_point,
                description=spec.description,
                count_tasks=spec.count_tasks,
            )


__all__ = ["specs", "ensure_registered"]
