"""The host's check of a verdict line: only one authentic line for this run's plan is accepted."""

import base64
import hashlib
import hmac
import json

import pytest

from agentgym.core.errors import UserInputError
from agentgym.environments.swe.runner import TestRun
from agentgym.environments.swe.verdict import RunPlan, pytest_args, read_verdict

IDS = ["t.py::a", "t.py::b"]


def plan() -> RunPlan:
    return RunPlan(repo="/r", sys_path=[], args=[], requested=list(IDS))


def line(p: RunPlan, secret: bytes | None = None, **changes) -> str:
    record = {"nonce": p.nonce, "exit": 1, "problems": [], "collect_errors": [], "requested": "pf", **changes}
    payload = json.dumps(record).encode()
    mac = hmac.new(secret or p.secret, payload, hashlib.sha256).hexdigest()
    return f"AGENTGYM-VERDICT {base64.b64encode(payload).decode()} {mac}\n"


def test_an_authentic_verdict_is_read():
    p = plan()
    verdict = read_verdict(line(p), p)
    assert verdict.problem == "" and verdict.outcomes == {"t.py::a": "passed", "t.py::b": "failed"}
    assert TestRun(verdict.outcomes).failing(IDS) == ["t.py::b"]


@pytest.mark.parametrize("make, expected", [
    (lambda p: "", "without sending a verdict"),
    (lambda p: line(p, secret=b"x" * 32), "not authentic"),
    (lambda p: line(p, nonce="another run"), "another run"),
    (lambda p: line(p) + line(p), "something other than the verifier"),
    (lambda p: "AGENTGYM-VERDICT e30= 00\n", "not authentic"),
    (lambda p: "1 passed\n" + line(p), "something other than the verifier"),
    (lambda p: line(p, requested="p"), "does not cover"),
    (lambda p: line(p, requested="pp", problems=["X was replaced"]), "tampered with: X was replaced"),
])
def test_forged_or_damaged_verdicts_pass_nothing(make, expected):
    p = plan()
    verdict = read_verdict(make(p), p)
    assert expected in verdict.problem
    assert TestRun(verdict.outcomes, problem=verdict.problem).failing(IDS) == IDS


def test_only_python_m_pytest_commands_are_accepted():
    assert pytest_args("python -m pytest -p no:cacheprovider -q") == ["-p", "no:cacheprovider", "-q"]
    with pytest.raises(UserInputError, match="python -m pytest"):
        pytest_args("bash run_tests.sh")
