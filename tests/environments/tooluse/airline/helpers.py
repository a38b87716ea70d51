"""Helpers shared by the airline tests: a database, tool calls, episodes, and what tasks need."""

from __future__ import annotations

from agentgym.core.types import Action, ToolCall
from agentgym.environments.tooluse.airline.env import AirlineEnv
from agentgym.environments.tooluse.airline.tools import Session
from agentgym.environments.tooluse.airline.toolset import WRITE_NAMES, run_call
from agentgym.environments.tooluse.tools import fetch_all, fetch_one


def call(name: str, **arguments) -> Action:
    return Action(tool_calls=[ToolCall(id=f"c_{name}", name=name, arguments=arguments)])


async def run(db, session: Session, name: str, **arguments) -> tuple[str, bool]:
    message, ok = await run_call(ToolCall(id="t", name=name, arguments=arguments), db, session)
    return message.content, ok


async def play(env: AirlineEnv, task_id: str, actions: list) -> list:
    """Reset to `task_id` and step `actions` in order (until the episode ends); the step results."""
    await env.reset(options={"task_id": task_id})
    results = []
    for action in actions:
        results.append(await env.step(action))
        if results[-1].terminated or results[-1].truncated:
            break
    return results


async def outcome(env: AirlineEnv, task_id: str, actions: list) -> dict:
    """The verified outcome of an episode of `actions` (closed with "Thanks." if they leave it open)."""
    results = await play(env, task_id, actions)
    if not (results and (results[-1].terminated or results[-1].truncated)):
        results.append(await env.step("Thanks."))
    return results[-1].info["outcome"]


def is_write(action: Action) -> bool:
    return any(c.name in WRITE_NAMES for c in action.tool_calls)


def user_of(task) -> str:
    return next(c.arguments["user_id"] for a in task.reference for c in a.tool_calls if c.name == "authenticate_user")


def login(session: Session, user_id: str) -> Session:
    session.user_id = user_id
    return session


def open_reservations(db, user_id: str | None = None, where: str = "1") -> list[dict]:
    """Active reservations none of whose flights has departed (of `user_id`, if given)."""
    rows = fetch_all(db, f"SELECT r.* FROM reservations r WHERE status = 'active' AND {where} AND NOT EXISTS ("
                         "SELECT 1 FROM reservation_flights rf JOIN flight_dates fd USING (flight_number, date) "
                         "WHERE rf.reservation_id = r.reservation_id AND fd.status IN ('landed', 'flying')) "
                         "ORDER BY reservation_id")
    return [r for r in rows if user_id is None or r["user_id"] == user_id]


def card_of(db, user_id: str) -> str:
    return fetch_one(db, "SELECT payment_method_id FROM payment_methods WHERE user_id = ? AND source = 'credit_card' "
                         "ORDER BY payment_method_id", user_id)["payment_method_id"]
