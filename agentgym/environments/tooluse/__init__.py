"""Tool-use environments: an agent serves a user through typed tools over a stateful database.

`tooluse/Retail-v0` is a retail customer-service domain (users, products, orders) on SQLite;
`tooluse/Airline-v0` an airline's (flights, reservations, payments), in `airline/`.
"""

from __future__ import annotations

from agentgym.core.registry import EnvSpec
from agentgym.environments.tooluse.airline.tasks import count_tasks as count_airline_tasks
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
        ),
        EnvSpec(
            id="tooluse/Airline-v0",
            entry_point="agentgym.environments.tooluse.airline.env:AirlineEnv",
            description=(
                "Airline customer service: authenticate the user, then look up flights and book, "
                "change, cancel or compensate reservations under a written policy, over a per-episode "
                "SQLite database; 1..5 requests per conversation (difficulty=N), a scripted user or "
                "user='openai:MODEL' (a simulated one). Scored by a row-level diff against the "
                "reference solution's database and the facts it must say."
            ),
            count_tasks=count_airline_tasks,
        ),
    ]


__all__ = ["specs", "RetailData", "RetailTask", "load_tasks", "count_tasks"]
