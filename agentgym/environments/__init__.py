"""Environment families: tooluse/, web/, swe/, each exposing `specs()`; and the tool-env base.

The families register through the entry-point group `agentgym.environments` (pyproject.toml),
exactly as a plugin package does; nothing here is imported by the core registry.
"""
