"""Small helpers shared by the tooluse tests: a store, tool calls, and an episode loop."""

from __future__ import annotations

from agentgym.core.types import Action, ToolCall
from agentgym.environments.tooluse.env import RetailEnv, run_call
from agentgym.environments.tooluse.tools import Session, fetch_all, fetch_one


def call(name: str, **arguments) -> Action:
    return Action(tool_calls=[ToolCall(id=f"c_{name}", name=name, arguments=arguments)])


async def run(db, session: Session, name: str, **arguments) -> tuple[str, bool]:
    message, ok = await run_call(ToolCall(id="t", name=name, arguments=arguments), db, session)
    return message.content, ok


def order_with(db, status: str, where: str = "1") -> dict:
    return fetch_one(db, f"SELECT o.* FROM orders o WHERE status = ? AND {where} ORDER BY order_id LIMIT 1", status)


def lines(db, order_id: str) -> list[dict]:
    return fetch_all(db, "SELECT * FROM order_items WHERE order_id = ? ORDER BY line", order_id)


def other_variant(db, product_id: str, item_id: str, available: int) -> dict | None:
    return fetch_one(db, "SELECT * FROM items WHERE product_id = ? AND item_id != ? AND available = ? "
                         "ORDER BY item_id LIMIT 1", product_id, item_id, available)


def login(session: Session, user_id: str) -> Session:
    session.user_id = user_id
    return session


async def play(env: RetailEnv, task_id: str, actions: list) -> list:
    """Reset to `task_id` and step `actions` in order; returns the step results."""
    await env.reset(options={"task_id": task_id})
    results = []
    for action in actions:
        results.append(await env.step(action))
        if results[-1].terminated or results[-1].truncated:
            break
    return results
