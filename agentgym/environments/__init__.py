"""Environment families. Each family package exposes `specs()`; this module only lists them."""

from __future__ import annotations

import importlib

from agentgym.core.registry import EnvSpec

FAMILIES = ("tooluse", "web", "swe")


def builtin_specs() -> list[EnvSpec]:
    specs: list[EnvSpec] = []
    for family in FAMILIES:
        try:
            module = importlib.import_module(f"agentgym.environments.{family}")
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith("agentgym.environments"):
                continue  # family not part of this installation
            raise
        if hasattr(module, "specs"):
            specs.extend(module.specs())
    return specs
