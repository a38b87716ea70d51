"""Tool-use environments: an agent serves a user through typed tools over a stateful database.

`tooluse/Retail-v0` is a retail customer-service domain (users, products, orders) on SQLite.
"""

from __future__ import annotations

from agentgym.core.registry import EnvSpec
from agentgym.environments.tooluse.tasks import RetailData, RetailTask, count_tasks, load_tasks


def specs() -> list[EnvSpec]:
    return [
        EnvSpec(
            id="tooluse/Retail-v0",
            entry_point="agentgym.environments.tooluse.env:RetailEnv",
            description=(
                "Retail customer service: authenticate the user, then look up, cancel, modify, "
                "return or exchange orders through tools on a per-episode SQLite store, following "
                "a written policy. Scored by a row-level diff against the reference solution's database "
                "and the facts told to the user, said plainly (a hedge over many values scores 0)."
            ),
            count_tasks=count_tasks,
        )
    ]




__all__ = ["specs", "RetailData", "RetailTask", "load_tasks", "count_tasks"]
