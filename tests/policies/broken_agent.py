"""A module that fails on import, for load_policy's error path."""

raise RuntimeError("this agent module is broken")
