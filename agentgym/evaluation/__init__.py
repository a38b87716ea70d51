"""Evaluation: running a policy over an env's tasks, and the metrics over the episodes."""

from agentgym.evaluation.metrics import bootstrap_ci, iqm, pass_at_k, summarize

__all__ = ["bootstrap_ci", "iqm", "pass_at_k", "summarize"]
