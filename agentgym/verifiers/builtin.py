"""The verifiers agentgym ships, by name (factories are imported when first built)."""

from __future__ import annotations

from agentgym.verifiers.registry import VerifierSpec

_M = "agentgym.verifiers"


def builtin_specs() -> list[VerifierSpec]:
    return [
        VerifierSpec("execution", f"{_M}.outcome:execution", "the family's execution verdict: "
                     "the live env's score(), else the verdict recorded in the episode", True),
        # the names task files give their family's execution verifier
        *(VerifierSpec(alias, f"{_M}.outcome:execution", f"the {family} execution verifier", True)
          for alias, family in (("state_diff", "tooluse"), ("swe_tests", "swe"), ("web_checks", "web"))),
        VerifierSpec("judge", f"{_M}.judge:judge", "an LLM judge with the family's rubric "
                     "(judge:POLICY_SPEC); privileged only with include_reference", False),
        VerifierSpec("step_judge", f"{_M}.judge:step_judge", "an LLM judge of single steps", False),
        VerifierSpec("prm", f"{_M}.prm:prm", "a trained process reward model (prm:DIR); "
                     "step reward = V(after) - V(before)", False),
        VerifierSpec("tooluse_rules", f"{_M}.tooluse_rules:tooluse_rules", "tool-use policy rules "
                     "and grounded facts, read from the conversation", False),
        VerifierSpec("swe_agent_tests", f"{_M}.swe_deployable:swe_agent_tests", "tests the agent "
                     "wrote: fail on the base state, pass with its change", False),
        VerifierSpec("swe_regression", f"{_M}.swe_deployable:swe_regression", "the repo's tests "
                     "that passed before the change still pass", False),
        # resolvable by name everywhere (a task's second opinion, calibrate), not only in MCPEnv
        VerifierSpec("mcp_state", "agentgym.mcp.verify:StateMatch", "an MCP server's end state, "
                     "read through a tool (mcp_state:TOOL), against the task's expected_state", True),
        VerifierSpec("hybrid", f"{_M}.compose:hybrid", "weighted mean of parts", None),
        VerifierSpec("first_decisive", f"{_M}.compose:first_decisive",
                     "first decisive verdict of a chain", None),
        VerifierSpec("second_opinion", f"{_M}.compose:second_opinion", "a reviewer (the judge) "
                     "decides on patches the execution verifier flags as suspicious but passes", None),
    ]
