"""Verifiers: turn what happened in an episode into rewards.

Execution verifiers (state_diff here; the SWE tests and web checks in their families) are
privileged: they read hidden task data. Model-based and deployable ones (judge, prm,
tooluse_rules, swe_agent_tests, swe_regression) use only what a deployed agent has. All share
the contract in base.py and are built by name with `load_verifier` (registry.py).
"""

from agentgym.verifiers.answers import (
    Amount,
    AnswerKey,
    AnswerVerdict,
    Phrase,
    money_mentions,
    normalize_text,
    output_present,
)
from agentgym.verifiers.base import (
    Verifier,
    VerifierError,
    VerifierSpecError,
    score_episode,
    score_step,
    task_for,
)
from agentgym.verifiers.compose import FirstDecisive, Hybrid, first_decisive, hybrid
from agentgym.verifiers.registry import (
    ENTRY_POINT_GROUP,
    VerifierSpec,
    load_verifier,
    register_verifier,
    verifier,
    verifier_registry,
)
from agentgym.verifiers.state_diff import (
    RowChange,
    Snapshot,
    StateDiffVerifier,
    diff,
    explain,
    snapshot,
)

__all__ = [
    "RowChange", "Snapshot", "StateDiffVerifier", "diff", "explain", "normalize_text",
    "output_present", "snapshot", "Amount", "AnswerKey", "AnswerVerdict", "Phrase", "money_mentions",
    "Verifier", "VerifierError", "VerifierSpecError", "score_episode", "score_step", "task_for",
    "FirstDecisive", "Hybrid", "first_decisive", "hybrid",
    "ENTRY_POINT_GROUP", "VerifierSpec", "load_verifier", "register_verifier", "verifier",
    "verifier_registry",
]
