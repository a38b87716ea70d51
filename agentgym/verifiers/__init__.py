"""Verifiers: turn what happened in an episode into rewards."""

from agentgym.verifiers.state_diff import (
    RowChange,
    Snapshot,
    StateDiffVerifier,
    diff,
    explain,
    normalize_text,
    output_present,
    snapshot,
)

__all__ = [
    "RowChange", "Snapshot", "StateDiffVerifier", "diff", "explain", "normalize_text",
    "output_present", "snapshot",
]
