"""Scoring an MCP env's episode: a verifier from the registry, the built-in `mcp_state` (the
server's end state, read through a tool, against the task's expected state), or a check function.

A check is any callable `check(env) -> Reward | bool | float`, sync or async, given as itself or
as "module:attr". It usually reads the server's state with `await env.read_state(tool, args)` and
compares it with what the task expects (`env.task.data`).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from agentgym.core.env import Env
from agentgym.core.errors import AgentgymError, UserInputError, VerifierError
from agentgym.core.types import Episode, Reward, Task
from agentgym.verifiers.base import Verifier
from agentgym.verifiers.object_state import ObjectStateVerifier
from agentgym.verifiers.registry import load_verifier, parse_spec

Check = Callable[[Any], Any]
#: the names the registry gives the env's own execution verdict: an MCP env has none of its own
#: (its score() is the verifier's), so asking for it would go round in circles
EXECUTION_NAMES = ("execution", "state_diff", "swe_tests", "web_checks")


class StateMatch(Verifier):
    """1 when the server's end state, read through `tool`, equals the task's `expected_state`
    (attribute by attribute, as the object-state verifier compares; `ignore` lists paths that may
    differ). Privileged: it reads the expected end state."""

    name = "mcp_state"
    privileged = True

    def __init__(self, arg: str | None = None, tool: str | None = None,
                 arguments: dict[str, Any] | None = None, ignore: list[str] | tuple[str, ...] = ()):
        self.tool = tool or arg
        if not self.tool:
            raise TypeError("mcp_state needs the tool that reads the state: mcp_state:TOOL or {'tool': ...}")
        self.arguments = dict(arguments or {})
        self.ignore = tuple(ignore)

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        read_state = getattr(env, "read_state", None)
        if read_state is None:
            raise VerifierError("mcp_state needs the live MCP env (it reads the server's state)")
        data = task.data if isinstance(task.data, dict) else task.data.model_dump()
        if data.get("expected_state") is None:
            raise VerifierError(f"task {task.id!r} has no expected_state for mcp_state to compare")
        actual = await read_state(self.tool, self.arguments)
        reward = ObjectStateVerifier(data["expected_state"], self.ignore).score_episode(actual)
        return reward.model_copy(update={"source": self.name})


def build_verifier(spec: str | dict[str, Any] | Verifier) -> Verifier:
    """A Verifier from a registry spec; `mcp_state` is resolved here (it needs this package)."""
    if isinstance(spec, Verifier):
        verifier = spec
    else:
        options = parse_spec(spec)
        if options["name"] == StateMatch.name:
            options.pop("name")
            try:
                verifier = StateMatch(**options)
            except TypeError as e:
                raise UserInputError(f"verifier mcp_state: {e}") from None
        else:
            verifier = load_verifier(options)
    if verifier.name in EXECUTION_NAMES:
        raise UserInputError(f"verifier {verifier.name!r} asks the env for its own verdict, and an MCP "
                             "env's verdict is its verifier's: give mcp_state, another verifier or a check")
    return verifier


def load_check(check: str | Check) -> Check:
    """A check function, given as itself or as "module:attr"."""
    if callable(check):
        return check
    if not isinstance(check, str) or ":" not in check:
        raise UserInputError(f"a check is a callable or 'module:attr', not {check!r}")
    module_name, _, attr = check.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise UserInputError(f"cannot load the check {check!r}: {e}") from None
    if not callable(obj):
        raise UserInputError(f"the check {check!r} is not callable")
    return obj


async def run_check(check: Check, env: Any) -> Reward:
    """Call a check and read its verdict: a Reward as it is, True/False as 1/0, a number as itself."""
    name = getattr(check, "__name__", type(check).__name__)
    try:
        verdict = check(env)
        if inspect.isawaitable(verdict):
            verdict = await verdict
    except AgentgymError:  # already says what failed (a dead server, a missing state tool)
        raise
    except Exception as e:  # the check's own failure is ours to report, never the agent's 0
        raise VerifierError(f"the check {name} failed: {type(e).__name__}: {e}") from e
    if isinstance(verdict, Reward):
        return verdict if verdict.source else verdict.model_copy(update={"source": name})
    if isinstance(verdict, bool):
        return Reward(value=float(verdict), source=name)
    if isinstance(verdict, (int, float)):
        return Reward(value=float(verdict), source=name)
    raise VerifierError(f"the check {name} returned {type(verdict).__name__}; "
                        "return a Reward, a bool or a number")
