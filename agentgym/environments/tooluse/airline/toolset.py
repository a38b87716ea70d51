"""Every airline tool in one toolbox, and running a call against a database outside an episode
(the reference replay, the task generator)."""

from __future__ import annotations

import inspect
import sqlite3
from typing import Any

from agentgym.core.types import Message, ToolCall
from agentgym.environments.tooluse.airline.booking import book_reservation
from agentgym.environments.tooluse.airline.tools import (
    LOOKUP_TOOLS,
    Session,
    transfer_to_human_agents,
)
from agentgym.environments.tooluse.airline.writes import WRITE_TOOLS
from agentgym.tools import Toolbox, ToolCallError

TOOLBOX = Toolbox([*LOOKUP_TOOLS, *WRITE_TOOLS, book_reservation, transfer_to_human_agents])
#: tools that change the database (a transfer is recorded too)
WRITE_NAMES = frozenset([*(t.name for t in WRITE_TOOLS), book_reservation.name, transfer_to_human_agents.name])
_BOUND = {name: {p.name for p in inspect.signature(t.fn).parameters.values() if p.kind is p.KEYWORD_ONLY}
          for name, t in TOOLBOX.tools.items()}


async def run_call(call: ToolCall, db: sqlite3.Connection, session: Session) -> tuple[Message, bool]:
    """Run one tool call; the agent's mistakes come back as the message, with ok False."""
    available: dict[str, Any] = {"db": db, "session": session}
    return await TOOLBOX.call(call, **{k: available[k] for k in _BOUND.get(call.name, ())})


def run_call_sync(call: ToolCall, db: sqlite3.Connection, session: Session) -> tuple[Any, str | None]:
    """The same outside an event loop (every airline tool is synchronous): (result, error)."""
    try:
        tool = TOOLBOX.get(call.name)
        available: dict[str, Any] = {"db": db, "session": session}
        return tool.fn(**tool.validate(call.arguments), **{k: available[k] for k in _BOUND[call.name]}), None
    except ToolCallError as e:
        return None, str(e)
