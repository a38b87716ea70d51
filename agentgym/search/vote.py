"""What a finished episode answered, as a key for majority voting.

- swe: the agent's patch (the diff of its workspace against the base state, read from outside
  its code); episodes that made the same change vote together.
- every other family: the agent's final message to the user (normalized) plus the successful
  calls that change state (not lookups), in order: two episodes that did the same thing and said
  the same thing vote together.
An episode that changed nothing and said nothing (an empty patch, say) abstains: its key is
`NO_ANSWER`, and it wins a vote only when every episode abstained. The key never reads the
episode's outcome or rewards (hidden verdicts).
"""

from __future__ import annotations

import hashlib
import json
import re

from agentgym.core.types import Episode
from agentgym.search.tree import Branch, SearchContext
from agentgym.verifiers import trajectory as tr

NO_ANSWER = "no-answer"
READ_PREFIXES = ("find_", "get_", "list_", "search", "view", "read", "calculate", "think", "check_")
_SPACE = re.compile(r"\s+")


def _calls_that_changed_something(episode: Episode) -> list[list]:
    done = []
    for step in episode.steps:
        failed = {
            m.tool_call_id for m in step.tool_results if (m.content or "").startswith("Error")
        }
        for call in step.action.tool_calls:
            if call.id not in failed and not call.name.startswith(READ_PREFIXES):
                done.append([call.name, call.arguments])
    return done


def conversation_answer(episode: Episode) -> str:
    """The final message (case and spacing normalized) and the state-changing calls."""
    final = _SPACE.sub(" ", tr.final_answer(episode)).strip().lower()
    return json.dumps([final, _calls_that_changed_something(episode)], sort_keys=True, default=str)


async def answer_key(ctx: SearchContext, branch: Branch) -> str:
    """A short key naming what the episode answered (needs the live env for swe)."""
    if ctx.task is not None and ctx.task.family == "swe" and branch.env is not None:
        from agentgym.verifiers.swe_workspace import agent_patch

        text = await agent_patch(branch.env)
        if not text.strip():
            return NO_ANSWER
    else:
        episode = ctx.episode(branch)
        if not tr.final_answer(episode).strip() and not _calls_that_changed_something(episode):
            return NO_ANSWER
        text = conversation_answer(episode)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
