"""The model-based user simulator: a chat model plays the user from the task's hidden instruction.

    user = SimulatedUser(load_policy("openai:gpt-4o-mini"), instruction, facts={"date of birth": "1980-01-02"})

It is told (its prompt, `simulator_prompt`) to say what it wants in its own words, to give a fact
only when the agent asks for it, never to tell the agent how to do its job, and to end its
message with `STOP` when it is done. It sees only what the agent writes to it, never tool calls
or results; its view of the conversation is rebuilt from the env's messages at every turn, so a
forked env forks the user too.

The verdict never rests on the simulator: the env scores the database and what the agent said,
so a simulator talked into agreeing to anything cannot raise a score. What the agent writes is cut
to `max_agent_chars` before the simulator sees it, so an agent cannot make the simulator's
request fail by flooding it. Its model failing (an endpoint that stays down, empty or unusable
replies after `max_attempts` tries) raises `UserSimulatorError`, an infrastructure error: the
episode is retried or left out of every metric, never scored 0.

`record()` gives the prompt and the transcript (every reply as the model wrote it); the env puts
it in the outcome's explanation and in the final step's info.
"""

from __future__ import annotations

import copy
from typing import Any

from agentgym.core.errors import InfraError
from agentgym.core.types import Message, Observation

STOP = "###STOP###"
#: what the agent is taken to have said first (the simulator answers it with the opening)
GREETING = "Hi! How can I help you today?"
GOODBYE = "Thanks, goodbye."
ENV_NOTE = "[environment]"  # the env's own notes to the agent, not the user's words


class UserSimulatorError(InfraError):
    """The user simulator could not produce a usable reply: our machinery failed, not the agent."""


def simulator_prompt(instruction: str, facts: dict[str, str], notes: str = "") -> str:
    known = "\n".join(f"- {k}: {v}" for k, v in facts.items()) or "- (nothing beyond the instructions)"
    extra = f"\n- {notes}" if notes else ""
    return f"""You play a customer who chats with a customer service agent. Stay in that role for the
whole conversation; you are the customer, never the agent.

Your instructions (what you want, in order; keep them to yourself and speak for yourself):
<instructions>
{instruction}
</instructions>

Facts you know about yourself (give one only when the agent asks for it):
{known}

How to behave:
- Say what you want in your own words and briefly. Ask for one or two things at a time, and move
  on to the next when the agent is done with them.
- Give a fact from the list above only when the agent asks for it. If asked for something you do
  not know, say you do not know. Never make up ids, numbers or facts.
- Do not tell the agent how to do its job: no tool names, no policy, no steps.
- When the agent asks you to confirm an action that matches your instructions, confirm it; if it
  does not match, say no and say what you want instead.
- Ask for nothing beyond your instructions. If the agent refuses something, you may ask why once,
  then accept it.{extra}
- When everything in your instructions has been handled (done or refused), or you have been
  transferred to a human agent, end your message with {STOP}.
- Write only the customer's next message: no notes, no names of speakers."""


class SimulatedUser:
    """A user played by a policy (anything with `act(observation, tools)`, such as `openai:MODEL`)."""

    def __init__(self, policy: Any, instruction: str, facts: dict[str, str] | None = None, notes: str = "",
                 *, max_attempts: int = 3, max_agent_chars: int = 4000):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.policy = policy
        self.name = getattr(policy, "name", type(policy).__name__)
        self.prompt = simulator_prompt(instruction, dict(facts or {}), notes)
        self.max_attempts = max_attempts
        self.max_agent_chars = max_agent_chars
        self.transcript: list[dict[str, Any]] = []

    def __deepcopy__(self, memo: dict) -> SimulatedUser:
        """A fork's user shares the policy (and its HTTP client) but keeps its own transcript."""
        twin = copy.copy(self)
        twin.transcript = copy.deepcopy(self.transcript, memo)
        return twin

    async def opening(self) -> str:
        text, done = await self._ask([], agent_text=GREETING, opening=True)
        return text

    async def respond(self, agent_text: str, conversation: list[Message]) -> tuple[str, bool]:
        return await self._ask(conversation, agent_text=agent_text)

    def record(self) -> dict[str, Any]:
        """The prompt and every exchange: what the agent said, the raw reply, the tries it took."""
        return {"simulator": self.name, "prompt": self.prompt, "turns": list(self.transcript)}

    # ---- internals -----------------------------------------------------------------------------

    def _view(self, conversation: list[Message]) -> list[Message]:
        """The conversation as the simulator sees it: the agent's words as `user`, its own as
        `assistant` (chat models answer the `user` side)."""
        out = [Message(role="system", content=self.prompt), Message(role="user", content=GREETING)]
        for m in conversation:
            if m.role == "user" and m.content and not m.content.startswith(ENV_NOTE):
                role, text = "assistant", m.content
            elif m.role == "assistant" and m.content and m.content.strip():
                role, text = "user", self._cut(m.content)
            else:
                continue
            if out[-1].role == role:  # the agent wrote twice in a row (text, then tools, then text)
                out[-1] = Message(role=role, content=f"{out[-1].content}\n\n{text}")
            else:
                out.append(Message(role=role, content=text))
        return out

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_agent_chars:
            return text
        return text[: self.max_agent_chars] + " [...]"

    async def _ask(self, conversation: list[Message], agent_text: str, opening: bool = False) -> tuple[str, bool]:
        from agentgym.policies.base import act

        view = self._view(conversation)
        problems = []
        for attempt in range(1, self.max_attempts + 1):
            try:
                action = await act(self.policy, Observation(messages=view), [])
            except InfraError:
                raise
            except Exception as e:  # a broken simulator policy is our failure, never the agent's
                raise UserSimulatorError(f"user simulator {self.name} failed: {type(e).__name__}: {e}",
                                         retryable=False) from e
            raw = action.content
            problem = _unusable(raw, bool(action.tool_calls), opening)
            self.transcript.append({"agent": self._cut(agent_text), "reply": raw, "attempt": attempt,
                                    **({"problem": problem} if problem else {})})
            if problem is None:
                assert raw is not None
                done = STOP in raw
                text = raw.replace(STOP, "").strip()
                return (text or GOODBYE), done
            problems.append(problem)
        raise UserSimulatorError(f"user simulator {self.name} gave no usable reply in {self.max_attempts} "
                                 f"tries: {'; '.join(problems)}")


def _unusable(raw: str | None, called_tools: bool, opening: bool) -> str | None:
    """Why a reply cannot be the user's message (None if it can)."""
    if called_tools:
        return "it called tools instead of writing a message"
    if raw is None or not raw.strip():
        return "an empty reply"
    if opening and STOP in raw:
        return "it ended the conversation before it began"
    return None


def simulator_policy(user: Any) -> Any:
    """The policy behind a simulated user: a spec such as "openai:MODEL", or a policy object."""
    if isinstance(user, str):
        from agentgym.policies import load_policy

        return load_policy(user)
    if not callable(getattr(user, "act", None)):
        from agentgym.core.errors import UserInputError

        raise UserInputError(f"user must be 'scripted', a policy spec such as 'openai:MODEL', or a policy; "
                             f"not {type(user).__name__}")
    return user
