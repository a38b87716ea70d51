"""Every airline tool in one toolbox, and running a call against a database outside an episode
(the reference replay, the task generator)."""

from __future__ import annotations

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

# lax, as in retail: models often send "3" for 3; a value that converts unambiguously is taken
TOOLBOX = Toolbox([*LOOKUP_TOOLS, *WRITE_TOOLS, book_reservation, transfer_to_human_agents], validate="lax")
#: tools that change the database (a transfer is recorded too)
WRITE_NAMES = frozenset([*(t.name for t in WRITE_TOOLS), book_reservation.name, transfer_to_human_agents.name])


async def run_call(call: ToolCall, db: sqlite3.Connection, session: Session) -> tuple[Message, bool]:
    """Run one tool call; the agent's mistakes come back as the message, with ok False."""
    return await TOOLBOX.call(call, db=db, session=session)  # each tool takes what it declares


def run_call_sync(call: ToolCall, db: sqlite3.Connection, session: Session) -> tuple[Any, str | None]:
    """The same outside an event loop (every airline tool is synchronous): (result, error)."""
    try:
        tool = TOOLBOX.get(call.name)
        bound = {k: v for k, v in {"db": db, "session": session}.items() if k in tool.bound_names}
        return tool.fn(**tool.validate(call.arguments), **bound), None
    except ToolCallError as e:
        return None, str(e)
