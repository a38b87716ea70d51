"""The oracle's replay of a web task's reference solution, through the agent's own tools.

Each reference step names its element by role and name (or a simple CSS selector); the solver
finds that element's id in the observation the agent would see, at the moment it acts, so the
oracle uses the browser exactly as an agent would.
"""

from __future__ import annotations

import re
from typing import Any

from agentgym.core.types import Action, Observation, ToolCall, ToolSpec
from agentgym.environments.web.tasks import SolutionStep, WebTask

_SIMPLE_CSS = re.compile(r"^(?P<tag>[a-z0-9]+)?(?:#(?P<id>[\w-]+))?(?:\[(?P<attr>\w+)=[\"']?(?P<value>[^\"'\]]*)[\"']?\])?$")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def find_element(elements: list[dict[str, Any]], target: dict[str, str]) -> int | None:
    """The id of the first element matching `target` ({role, name} or a simple {css})."""
    if "css" in target:
        m = _SIMPLE_CSS.match(target["css"].strip())
        if not m:
            raise ValueError(f"unsupported selector {target['css']!r}: use tag, #id or tag[attr=value]")
        for e in elements:
            attrs = e.get("attrs", {})
            if m["tag"] and e["tag"] != m["tag"]:
                continue
            if m["id"] and attrs.get("id") != m["id"]:
                continue
            if m["attr"] and attrs.get(m["attr"]) != m["value"]:
                continue
            return e["id"]
        return None
    role, name = target["role"], _norm(target["name"])
    for e in elements:
        if e["role"] == role and _norm(e["name"]) == name:
            return e["id"]
    return None


def _call(step: SolutionStep, element_id: int | None) -> ToolCall:
    args = dict(step.args)
    if element_id is not None:
        args["id"] = element_id
    return ToolCall(id="call_0", name=step.tool, arguments=args)


class ReferenceSolver:
    """A policy for one task: replays its `solution`, one step per turn."""

    name = "reference"

    def __init__(self, task: WebTask):
        self.task = task

    def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        turn = sum(1 for m in observation.messages if m.role == "assistant")
        if turn >= len(self.task.solution):
            return Action(tool_calls=[ToolCall(id="call_0", name="answer", arguments={"text": "done"})])
        step = self.task.solution[turn]
        element_id = None
        if step.target is not None:
            element_id = find_element(observation.extras.get("elements", []), step.target)
            if element_id is None:  # the plan no longer fits the page: say so, the episode goes on
                return Action(content=f"reference step {turn}: no element matches {step.target} on this page")
        return Action(tool_calls=[_call(step, element_id)])
