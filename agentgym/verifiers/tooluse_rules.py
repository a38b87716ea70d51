"""A deployable check of a tool-use conversation: the policy's rules and grounded facts, read from
the trajectory alone (no reference end state, no gold answers).

Checks, each 0 or 1 (the score is their product, so any broken rule fails):
- `authenticated`: a user lookup succeeded before the first write.
- `confirmed`: every successful write came after a user's yes to a question the agent asked
  since the previous write.
- `grounded`: every dollar amount the agent told the user appeared earlier in a tool result or a
  user message, or is a sum or difference of such amounts (nothing made up).
- `answered`: the agent's last message to the user is not a question, and the episode did not
  end on a tool error.
It cannot tell whether the right write was made: that is what the state diff (privileged) knows.

Step scores (for step-level search): -1 for a step whose tool calls failed or after which one of
`authenticated`, `confirmed`, `grounded` no longer holds while it held before; 0 otherwise. The
return so far counts the agent's slips.
"""

from __future__ import annotations

import re

from agentgym.core.env import Env
from agentgym.core.errors import VerifierError
from agentgym.core.types import Episode, Message, Reward, Task
from agentgym.verifiers import trajectory as tr
from agentgym.verifiers.base import Verifier

LOOKUPS = ("find_user_id_by_email", "find_user_id_by_name_zip")
READ_PREFIXES = ("find_", "get_", "list_", "calculate", "think")
_AMOUNT = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)")
_YES = re.compile(r"\b(yes|yeah|yep|sure|go ahead|please do|confirm(ed)?)\b", re.I)


def _amounts(text: str) -> set[str]:
    """Dollar amounts in a text, normalized ("$1,254.5" -> "1254.50"), plus bare decimals."""
    found = {f"{float(m.replace(',', '')):.2f}" for m in _AMOUNT.findall(text)}
    found |= {f"{float(m):.2f}" for m in re.findall(r"(?<![\w.])(\d+\.\d{1,2})(?![\w.])", text)}
    return found


def _derivable(amount: str, known: set[str]) -> bool:
    """Said verbatim, or a sum of up to three known amounts, or a difference of two (refunds of
    several items, price differences): what an agent can compute from what the tools said."""
    if amount in known:
        return True
    target = round(float(amount) * 100)
    cents = sorted({round(float(k) * 100) for k in known if k.replace(".", "").isdigit()})
    seen = set(cents)
    for i, a in enumerate(cents):
        for b in cents[i:]:
            if a + b == target or abs(a - b) == target or target - a - b in seen:
                return True
    return False


def _is_write(name: str) -> bool:
    return name not in LOOKUPS and not name.startswith(READ_PREFIXES) and name != "transfer_to_human_agents"


def _results(messages: list[Message]) -> dict[str, bool]:
    """tool_call_id -> whether that call succeeded."""
    return {m.tool_call_id or "": not (m.content or "").startswith("Error")
            for m in messages if m.role == "tool"}


def check(messages: list[Message]) -> dict[str, float]:
    ok = _results(messages)
    authenticated = confirmed = grounded = True
    known: set[str] = set()
    asked = said_yes = False
    last_text = ""
    for m in messages:
        if m.role == "tool":
            known |= _amounts(m.content or "")
        elif m.role == "user":
            known |= _amounts(m.content or "")
            said_yes |= asked and bool(_YES.search(m.content or ""))
        elif m.role == "assistant":
            if m.content and not m.tool_calls:
                last_text = m.content
                asked |= "?" in m.content
                if not all(_derivable(a, known) for a in _amounts(m.content)):
                    grounded = False
            for call in m.tool_calls:
                if call.name in LOOKUPS and ok.get(call.id, False):
                    known.add("authenticated")
                if _is_write(call.name) and ok.get(call.id, False):
                    authenticated &= "authenticated" in known
                    confirmed &= said_yes
                    asked = said_yes = False
    last = messages[-1] if messages else None
    last_tool_failed = last is not None and last.role == "tool" and not ok.get(last.tool_call_id or "", True)
    answered = bool(last_text) and not last_text.rstrip().endswith("?") and not last_tool_failed
    return {"authenticated": float(authenticated), "confirmed": float(confirmed),
            "grounded": float(grounded), "answered": float(answered)}


class ToolUseRules(Verifier):
    """The tool-use policy's checkable rules, from the conversation alone (deployable)."""

    name = "tooluse_rules"
    privileged = False
    scores_steps = True

    async def score_step(self, episode: Episode, index: int, task: Task, env: Env | None = None) -> Reward:
        if task.family != "tooluse":
            raise VerifierError(f"tooluse_rules checks tool-use episodes, not {task.family!r} ones")
        step = episode.steps[index]
        failed = sum((m.content or "").startswith("Error") for m in step.tool_results)
        before = check(tr.history(episode, index))
        after = check([*tr.history(episode, index), tr.action_message(step.action), *step.tool_results])
        broken = [k for k in ("authenticated", "confirmed", "grounded") if before[k] > after[k]]
        value = -1.0 if failed or broken else 0.0
        why = [f"{failed} tool call(s) failed"] if failed else []
        why += [f"broke {', '.join(broken)}"] if broken else []
        return Reward(value=value, components={"failed_calls": float(failed), "broken": float(len(broken))},
                      explanation="; ".join(why) or "no slip", source=self.name)

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        if task.family != "tooluse":
            raise VerifierError(f"tooluse_rules checks tool-use episodes, not {task.family!r} ones")
        components = check(tr.conversation(episode))
        value = 1.0
        for v in components.values():
            value *= v
        broken = [k for k, v in components.items() if v == 0]
        explanation = "all rules hold" if not broken else "broken: " + ", ".join(broken)
        return Reward(value=value, components=components, explanation=explanation, source=self.name)


def tooluse_rules(arg: str | None = None) -> ToolUseRules:
    if arg is not None:
        raise TypeError(f"tooluse_rules takes no argument (got {arg!r})")
    return ToolUseRules()
