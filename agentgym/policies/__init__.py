"""Policies: what acts in an env. `load_policy(spec)` turns a spec string into one.

openai:MODEL       an OpenAI-compatible chat model (OPENAI_BASE_URL / OPENAI_API_KEY)
oracle             the task's reference solution
random[:SEED]      random schema-valid tool calls
local:PATH         a transformers model directory, sampled locally (token ids and logprobs)
replay:PATH        the actions of recorded episodes (JSONL)
module:attr        your own: a class, a zero-argument factory, or an instance with `act`
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import Any

from agentgym.core.errors import PolicySpecError
from agentgym.policies.base import Policy, act, begin

BUILTIN_KINDS = ("openai", "oracle", "random", "replay", "local")

__all__ = ["Policy", "act", "begin", "load_policy", "BUILTIN_KINDS"]


def load_policy(spec: str, **options: Any) -> Policy:
    """Build the policy a spec names; `options` go to its constructor. Bad specs raise PolicySpecError."""
    spec = spec.strip()
    kind, colon, argument = spec.partition(":")
    if kind in BUILTIN_KINDS:
        policy = _builtin(spec, kind, argument if colon else None, options)
        policy.name = spec
        return policy
    if colon:
        return _import(spec, kind, argument, options)
    close = difflib.get_close_matches(spec, BUILTIN_KINDS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise PolicySpecError(
        f"unknown policy {spec!r}.{hint} Use openai:MODEL, local:PATH, oracle, random[:SEED], "
        "replay:PATH or module:attr"
    )


def _builtin(spec: str, kind: str, argument: str | None, options: dict[str, Any]) -> Any:
    try:
        if kind == "openai":
            if not argument:
                raise PolicySpecError(f"policy {spec!r} needs a model: openai:MODEL")
            from agentgym.policies.openai import OpenAIPolicy

            return OpenAIPolicy(argument, **options)
        if kind == "local":
            if not argument:
                raise PolicySpecError(f"policy {spec!r} needs a model directory: local:PATH")
            from agentgym.policies.local import LocalPolicy

            return LocalPolicy(argument, **options)
        if kind == "oracle":
            if argument is not None:
                raise PolicySpecError(f"policy {spec!r}: oracle takes no argument")
            from agentgym.policies.oracle import OraclePolicy

            return OraclePolicy(**options)
        if kind == "random":
            from agentgym.policies.random import RandomPolicy

            if argument is None:
                return RandomPolicy(**options)
            try:
                seed = int(argument)
            except ValueError:
                raise PolicySpecError(f"policy {spec!r}: the seed must be an integer") from None
            return RandomPolicy(seed=seed, **options)
        if not argument:
            raise PolicySpecError(f"policy {spec!r} needs a file: replay:PATH")
        from agentgym.policies.replay import ReplayPolicy

        return ReplayPolicy(argument, **options)
    except (TypeError, ValueError) as e:  # bad options
        raise PolicySpecError(f"policy {spec!r}: {e}") from None


def _import(spec: str, module_name: str, attr: str, options: dict[str, Any]) -> Any:
    if not module_name or not attr:
        raise PolicySpecError(
            f"policy {spec!r}: expected module:attr, such as mypkg.agents:MyAgent"
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:
        raise PolicySpecError(
            f"policy {spec!r}: cannot import {module_name!r}: {type(e).__name__}: {e}"
        ) from e
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PolicySpecError(f"policy {spec!r}: {module_name!r} has no {attr!r}") from None
    if inspect.isclass(obj) or (callable(obj) and not hasattr(obj, "act")):
        try:
            obj = obj(**options)
        except Exception as e:
            raise PolicySpecError(
                f"policy {spec!r}: creating it failed: {type(e).__name__}: {e}"
            ) from e
    elif options:
        raise PolicySpecError(f"policy {spec!r} is an instance; it takes no options")
    if not callable(getattr(obj, "act", None)):
        raise PolicySpecError(
            f"policy {spec!r}: {type(obj).__name__} has no act(observation, tools) method"
        )
    if not isinstance(getattr(obj, "name", None), str):
        try:
            obj.name = spec
        except AttributeError:
            raise PolicySpecError(f"policy {spec!r} has no `name` and one cannot be set") from None
    return obj
