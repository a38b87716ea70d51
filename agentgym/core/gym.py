"""The sync `gymnasium.Env` facade over an async `Env`.

The async env runs on one private event loop in a daemon thread, shared by every facade, so the
facade works the same in a plain script, in Jupyter, or inside someone else's running loop
(sync Playwright cannot; BrowserGym #134).

A forked child (gymnasium's AsyncVectorEnv with the default "fork" start method) inherits the
loop but not its thread, so it starts a loop of its own; envs made before the fork stay with the
parent (AsyncVectorEnv makes each env in its worker).
"""

from __future__ import annotations

import asyncio
import copy
import os
import threading
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

import gymnasium

from agentgym.core.env import Env
from agentgym.core.spaces import AssistantAction, ChatObservation
from agentgym.core.types import Observation

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()
_inherited: list[asyncio.AbstractEventLoop] = []  # kept, never closed: the parent still runs it


def _forget_loop_after_fork() -> None:
    """In a forked child: the loop's thread did not come along, so the next call starts another
    (without this, every call waits forever for a thread that is not there)."""
    global _loop, _loop_lock
    if _loop is not None:
        _inherited.append(_loop)
    _loop, _loop_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_loop_after_fork)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on the shared background loop and wait for its result."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="agentgym-loop", daemon=True).start()
    return asyncio.run_coroutine_threadsafe(coro, _loop).result()


def _to_gym(obs: Observation) -> dict[str, Any]:
    return {"messages": [m.to_openai() for m in obs.messages], "extras": dict(obs.extras)}


class GymEnv(gymnasium.Env):
    """`agentgym.make(id)` returns this.

    reward="step" (default): each step's reward is the verifier's step reward, and the final step
    adds the difference to the outcome, so an episode's return equals its verified outcome.
    reward="outcome": 0 on every step but the last, which carries the outcome.

    What was paid so far is read from the async env (`Env.paid`), not kept here: a fork (this
    class's `fork()`, or `GymEnv(await env.fork())`) carries its prefix's payments along, so the
    prefix's rewards plus the child's remaining ones equal the child's outcome, never more.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        env: Env,
        render_mode: str | None = None,
        reward: Literal["step", "outcome"] = "step",
    ):
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', not {render_mode!r}")
        if reward not in ("step", "outcome"):
            raise ValueError(f"reward must be 'step' or 'outcome', not {reward!r}")
        self.env = env
        self.render_mode = render_mode
        self.reward_mode = reward
        self.observation_space = ChatObservation()
        self.action_space = AssistantAction([t.name for t in env.tools])
        self._closed = False

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The env's tools in OpenAI format, ready for `client.chat.completions.create(tools=...)`."""
        return [t.to_openai() for t in self.env.tools]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(0, 2**31 - 1))
        obs, info = run_sync(self.env.reset(seed=seed, options=options))
        return _to_gym(obs), dict(info)

    def step(self, action: Any):
        paid = self.env.paid  # what the episode's earlier steps (a fork's prefix too) paid
        result = run_sync(self.env.step(action))
        reward = result.reward.value if self.reward_mode == "step" else 0.0
        info = dict(result.info)
        info["reward_components"] = dict(result.reward.components)
        if "outcome" in info:
            outcome = float(info["outcome"]["value"])
            reward = outcome - paid if self.reward_mode == "step" else outcome
        return _to_gym(result.observation), float(reward), result.terminated, result.truncated, info

    def fork(self) -> GymEnv:
        """An independent copy of this env mid-episode (`Env.fork`), as a gym env of its own: same
        task, history, state and reward mode. Close it when done; it owns its own resources."""
        if self._closed:
            raise RuntimeError("this env is closed")
        child = GymEnv(
            run_sync(self.env.fork()), render_mode=self.render_mode, reward=self.reward_mode
        )
        child.spec = self.spec
        if self._np_random is not None:  # the same random stream from here on, like the state
            child._np_random = copy.deepcopy(self._np_random)
            child._np_random_seed = self._np_random_seed
        return child

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        lines = []
        for m in self.env.messages:
            text = m.content or ""
            if m.tool_calls:
                text += " " + "; ".join(f"{c.name}({c.arguments})" for c in m.tool_calls)
            lines.append(f"[{m.role}] {text.strip()}")
        return "\n".join(lines)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            run_sync(self.env.close())
