"""Environment families. Each family package exposes `specs()`; this module only lists them."""

from __future__ import annotations

import importlib
import warnings

from agentgym.core.registry import EnvSpec

FAMILIES = ("tooluse", "web", "swe")


def builtin_specs() -> list[EnvSpec]:
    """Specs of every family present. A family that fails to load is named in a warning and
    skipped, so one broken family never hides the others."""
    specs: list[EnvSpec] = []
    for family in FAMILIES:
        try:
            module = importlib.import_module(f"agentgym.environments.{family}")
            specs.extend(module.specs() if hasattr(module, "specs") else [])
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith("agentgym.environments"):
                continue  # family not part of this installation
            warnings.warn(f"agentgym: the {family} environments are unavailable: {e}", stacklevel=3)
        except Exception as e:
            warnings.warn(f"agentgym: the {family} environments failed to load: {e}", stacklevel=3)
    return specs
