"""`tooluse/Airline-v0`: a customer-service agent works on an airline's database through tools.

Each episode has a private SQLite copy of the seeded airline; the policy document is the system
message. The user is the scripted one (default, offline) or, with `user="openai:MODEL"` (any
policy spec, or a policy object), a model-based simulator; each task says which users it supports,
and the env keeps only those tasks (and, with `difficulty=N`, only level-N tasks).

Scoring: the row-level diff of the agent's database against the one the task's reference makes
(`StateDiffVerifier`), and what the agent told the user against the task's answer key
(`answer_key.py`, verifiers/answers.py): every required amount and phrase, no hedging, no claim
that contradicts the outcome. With a simulated user, its prompt and transcript are appended to the outcome's
explanation (after `[user simulator]`, as JSON) and put in the last step's info.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from agentgym.core.env import Env
from agentgym.core.errors import UserInputError, VerifierError
from agentgym.core.types import Action, Message, Reward, StepResult, Task
from agentgym.environments.base import CallResult, ToolEnv, Turn
from agentgym.environments.tooluse.airline.answer_key import answer_key
from agentgym.environments.tooluse.airline.data import copy_database, fresh_database
from agentgym.environments.tooluse.airline.tasks import AirlineTask, load_tasks, select_tasks
from agentgym.environments.tooluse.airline.tools import Session, transfer_to_human_agents
from agentgym.environments.tooluse.airline.toolset import TOOLBOX, WRITE_NAMES, run_call
from agentgym.users import ScriptedUser, SimulatedUser, opening, simulator_policy
from agentgym.verifiers.state_diff import StateDiffVerifier, snapshot

POLICY = (Path(__file__).with_name("policy.md")).read_text(encoding="utf-8")
SIMULATOR_MARK = "[user simulator]"


async def replay(task: AirlineTask) -> sqlite3.Connection:
    """The database the task's reference produces from a fresh copy of the airline."""
    db, session = fresh_database(task.data.db_seed), Session()
    for action in task.reference:
        for call in action.tool_calls:
            message, ok = await run_call(call, db, session)
            if not ok:
                db.close()
                raise VerifierError(f"the reference of task {task.id} fails at {call.name}: {message.content}")
    return db


async def build_verifier(task: AirlineTask) -> StateDiffVerifier:
    initial, gold = fresh_database(task.data.db_seed), await replay(task)
    try:
        before, after = snapshot(initial), snapshot(gold)
    finally:
        initial.close()
        gold.close()
    return StateDiffVerifier(before, after, answer_key(task, before, after))


class AirlineEnv(ToolEnv):
    """Airline customer service over a per-episode SQLite database."""

    toolbox = TOOLBOX
    fork_shared = ("toolbox", "verifier", "simulator")  # read-only, or shared on purpose
    fork_resources = ("db",)

    def __init__(self, tasks: str | Path | list[AirlineTask] | None = None, max_steps: int = 60,
                 max_steps_per_turn: int | None = None, user: Any = "scripted", difficulty: int | None = None):
        loaded = tasks if isinstance(tasks, list) else load_tasks(tasks)
        kind = "scripted" if user == "scripted" else "simulated"
        chosen = select_tasks(loaded, kind, difficulty)
        if not chosen:
            raise UserInputError(f"no airline task supports a {kind} user"
                                 + (f" at difficulty {difficulty}" if difficulty is not None else ""))
        super().__init__(chosen, max_steps=max_steps, max_steps_per_turn=max_steps_per_turn)
        self.simulator = None if kind == "scripted" else simulator_policy(user)
        self.simulator_spec = user if isinstance(user, str) and kind == "simulated" else None
        self.db: sqlite3.Connection | None = None
        self.session = Session()
        self.verifier: StateDiffVerifier | None = None
        self.progress = 0.0

    def extras(self) -> dict[str, Any]:
        # no task id, level or request kinds: those would tell the agent what the task expects
        return {"domain": "airline"} if self.task else {}

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        assert isinstance(task, AirlineTask)
        await self.close()
        cache = self.shared.setdefault("airline_verifiers", {})
        key = task.model_dump_json()
        if key not in cache:
            cache[key] = await build_verifier(task)
        self.verifier = cache[key]
        self.db = fresh_database(task.data.db_seed)
        self.session = Session()
        self.progress = 0.0
        facts = dict(task.data.user_facts)
        if self.simulator is None:
            self.user = ScriptedUser(task.prompt, facts)
        else:
            if self.simulator_spec:  # one policy (one HTTP client) for every env of the spec
                self.simulator = self.shared.setdefault(f"simulator:{self.simulator_spec}", self.simulator)
            self.user = SimulatedUser(self.simulator, task.prompt, facts, task.data.simulator_notes)
        return [Message(role="system", content=POLICY), Message(role="user", content=await opening(self.user))]

    def tool_context(self) -> dict[str, Any]:
        return {"db": self.db, "session": self.session}

    def ends_episode(self, result: CallResult) -> bool:
        return result.ok and result.call.name == transfer_to_human_agents.name

    async def step_reward(self, turn: Turn) -> Reward:
        assert self.verifier is not None and self.db is not None
        if turn.succeeded(*WRITE_NAMES):
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
        reward = await self.run_blocking(self.verifier.score_episode, snapshot(self.db), said)
        if isinstance(self.user, SimulatedUser):
            reward.components["user_turns"] = float(len(self.user.transcript))
            reward.explanation += f"\n\n{SIMULATOR_MARK}\n{json.dumps(self.user.record())}"
        return reward

    async def step(self, action: Action | str | dict[str, Any]) -> StepResult:
        result = await super().step(action)
        if (result.terminated or result.truncated) and isinstance(self.user, SimulatedUser):
            result.info["user_simulator"] = self.user.record()
        return result

    async def _fork_state(self, child: Env) -> None:
        assert isinstance(child, AirlineEnv)
        if self.db is None:
            raise RuntimeError("call reset() before fork()")
        child.db = copy_database(self.db)

    async def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
