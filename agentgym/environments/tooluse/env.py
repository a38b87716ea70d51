"""`tooluse/Retail-v0`: a customer-service agent works on a stateful store database through tools.

Each episode has a private SQLite copy of the seeded store. The agent talks to a scripted user
(`agentgym.users`) and calls tools; the policy document is the system message. Rewards come from
`StateDiffVerifier`: the agent's database against the one the task's reference solution makes,
and what the agent told the user against the task's answer key (`answer_key.py`): every message
the agent wrote counts, and hedging (many candidate values) fails.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from agentgym.core.env import Env
from agentgym.core.errors import VerifierError
from agentgym.core.types import Message, Reward, Task, ToolCall
from agentgym.environments.base import CallResult, ToolEnv, Turn
from agentgym.environments.tooluse.answer_key import answer_key
from agentgym.environments.tooluse.data import copy_database, fresh_database
from agentgym.environments.tooluse.tasks import RetailTask, load_tasks
from agentgym.environments.tooluse.tools import LOOKUP_TOOLS, Session, transfer_to_human_agents
from agentgym.environments.tooluse.writes import WRITE_TOOLS
from agentgym.tools import Toolbox
from agentgym.users import ScriptedUser, SimulatedUser, opening, simulator_policy
from agentgym.verifiers.state_diff import StateDiffVerifier, snapshot

POLICY = (Path(__file__).with_name("policy.md")).read_text(encoding="utf-8")
# lax: models often send "3" for 3; a value that converts unambiguously is taken
TOOLBOX = Toolbox([*LOOKUP_TOOLS, *WRITE_TOOLS, transfer_to_human_agents], validate="lax")
WRITE_NAMES = frozenset(t.name for t in WRITE_TOOLS)


async def run_call(call: ToolCall, db: sqlite3.Connection, session: Session) -> tuple[Message, bool]:
    """Run one tool call against an episode's database; agent mistakes come back as the message."""
    return await TOOLBOX.call(call, db=db, session=session)  # each tool takes what it declares


async def replay(task: RetailTask) -> tuple[sqlite3.Connection, list[Message]]:
    """The database the task's reference solution produces from a fresh copy of the store, and the
    results of its tool calls."""
    db, session = fresh_database(task.data.db_seed), Session()
    results = []
    for action in task.reference:
        for call in action.tool_calls:
            message, ok = await run_call(call, db, session)
            if not ok:
                db.close()
                raise VerifierError(f"the reference of task {task.id} fails at {call.name}: {message.content}")
            results.append(message)
    return db, results


_verifiers: dict[str, StateDiffVerifier] = {}


async def verifier_for(task: RetailTask) -> StateDiffVerifier:
    """The task's verifier (initial and gold snapshots), built once per process per task."""
    key = task.model_dump_json()
    if key not in _verifiers:
        initial = fresh_database(task.data.db_seed)
        gold, results = await replay(task)
        try:
            before, after = snapshot(initial), snapshot(gold)
            _verifiers[key] = StateDiffVerifier(before, after, answer_key(task, results, before, after))
        finally:
            initial.close()
            gold.close()
    return _verifiers[key]


class RetailEnv(ToolEnv):
    """Retail customer service over a per-episode SQLite store. The user is the scripted one
    (default, offline) or, with `user="openai:MODEL"` (any policy spec or policy object), a
    model-based simulator; its transcript is recorded in the outcome's explanation."""

    toolbox = TOOLBOX
    fork_shared = ("toolbox", "verifier", "simulator")  # read-only, or shared on purpose
    fork_resources = ("db",)

    def __init__(self, tasks: str | Path | list[RetailTask] | None = None, max_steps: int = 30,
                 max_steps_per_turn: int | None = None, user: Any = "scripted"):
        super().__init__(tasks if isinstance(tasks, list) else load_tasks(tasks), max_steps=max_steps,
                         max_steps_per_turn=max_steps_per_turn)
        self.simulator = None if user == "scripted" else simulator_policy(user)
        self.simulator_spec = user if isinstance(user, str) and self.simulator is not None else None
        self.db: sqlite3.Connection | None = None
        self.session = Session()
        self.verifier: StateDiffVerifier | None = None
        self.progress = 0.0

    def extras(self) -> dict[str, Any]:
        # no task id or template name: those would tell the agent what the task expects
        return {"domain": "retail"} if self.task else {}

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        assert isinstance(task, RetailTask)
        await self.close()
        self.verifier = await verifier_for(task)
        self.db = fresh_database(task.data.db_seed)
        self.session = Session()
        facts = dict(task.data.user_facts)
        if self.simulator is None:
            self.user = ScriptedUser(task.prompt, facts)
        else:
            if self.simulator_spec:  # one policy (one HTTP client) for every env of the spec
                self.simulator = self.shared.setdefault(f"simulator:{self.simulator_spec}", self.simulator)
            self.user = SimulatedUser(self.simulator, task.prompt, facts)
        self.progress = 0.0
        return [Message(role="system", content=POLICY), Message(role="user", content=await opening(self.user))]

    def tool_context(self) -> dict[str, Any]:
        return {"db": self.db, "session": self.session}

    def ends_episode(self, result: CallResult) -> bool:
        return result.ok and result.call.name == transfer_to_human_agents.name

    async def step_reward(self, turn: Turn) -> Reward:
        assert self.verifier is not None and self.db is not None
        if any(r.ok and r.call.name in WRITE_NAMES for r in turn.results):
            reward = self.verifier.score_step(snapshot(self.db), self.progress)
            self.progress = reward.components["progress"]
        else:
            reward = Reward(value=0.0, components={"progress": self.progress}, source=self.verifier.source)
        reward.components["tool_errors"] = float(sum(not r.ok for r in turn.results) + len(turn.problems))
        return reward

    async def score(self) -> Reward:
        if self.db is None or self.verifier is None:
            raise VerifierError("there is no episode to score: call reset() first")
        said = [m.content for m in self.messages if m.role == "assistant" and m.content]
        reward = self.verifier.score_episode(snapshot(self.db), said)
        if isinstance(self.user, SimulatedUser):  # the simulator's prompt and transcript, for audit
            reward.components["user_turns"] = float(len(self.user.transcript))
            reward.explanation += f"\n\n[user simulator]\n{json.dumps(self.user.record())}"
        return reward

    async def _fork_state(self, child: Env) -> None:
        assert isinstance(child, RetailEnv)
        if self.db is None:
            raise RuntimeError("call reset() before fork()")
        child.db = copy_database(self.db)

    async def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
