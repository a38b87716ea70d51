"""Versions recorded in every episode, so a result can be traced to the code that made it."""

from __future__ import annotations

import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version

from agentgym.core.types import Versions

_KEY_PACKAGES = ("gymnasium", "pydantic", "openai", "playwright", "docker", "torch", "transformers")


@cache
def current_versions() -> Versions:
    import agentgym

    packages = {}
    for name in _KEY_PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            pass
    return Versions(agentgym=agentgym.__version__, python=platform.python_version(), packages=packages)
