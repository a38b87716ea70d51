"""The scripted user: a deterministic conversation partner, offline and reproducible.

Rules, in order, for each message the agent writes to the user:
1. no question mark in it, or it only asks whether there is anything else: the user is done
   ("Thanks, that's all.") and the episode ends;
2. it asks to confirm or proceed ("confirm", "proceed", "go ahead", "shall I", ...): "Yes, please.";
3. it asks about facts the user knows (their email, zip, order id, ...; the task's `user_facts`,
   matched by key): the user answers with those facts;
4. any other question: the user says they don't know and repeats what they want.
The opening message is the task's instruction, which carries the facts needed to identify them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DONE_REPLY = "Thanks, that's all I needed. Goodbye!"
YES_REPLY = "Yes, please go ahead."
_CONFIRM_CUES = (
    "confirm", "proceed", "go ahead", "shall i", "should i", "would you like me", "do you want me",
    "is that correct", "is this correct", "is that right",
)
_ANYTHING_ELSE = ("anything else", "something else", "any other question")


@dataclass
class ScriptedUser:
    instruction: str
    facts: dict[str, str] = field(default_factory=dict)

    def opening(self) -> str:
        return self.instruction

    def respond(self, agent_text: str, conversation: object = None) -> tuple[str, bool]:
        """The user's answer to an agent message, and whether the user is done."""
        text = agent_text.lower()
        if "?" not in text or any(cue in text for cue in _ANYTHING_ELSE):
            return DONE_REPLY, True
        if any(cue in text for cue in _CONFIRM_CUES):
            return YES_REPLY, False
        known = [(k, v) for k, v in self.facts.items() if _mentions(text, k)]
        if known:
            return "Sure. " + "; ".join(f"My {k} is {v}" for k, v in known) + ".", False
        return f"I'm not sure about that. What I want is this: {self.instruction}", False


def _mentions(text: str, key: str) -> bool:
    """Does the agent's text mention a fact's key (every word of it, as a word prefix)?"""
    return all(re.search(rf"\b{re.escape(word)}", text) for word in key.lower().split())
