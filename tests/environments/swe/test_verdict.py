"""The host's check of a verdict line: only one authentic line for this run's plan is accepted."""

import base64
import hashlib
import hmac
import json

import pytest

from agentgym.core.errors import UserInputError
from agentgym.environments.swe import runner
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
    assert runner.TestRun(verdict.outcomes).failing(IDS) == ["t.py::b"]


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
    assert runner.TestRun(verdict.outcomes, problem=verdict.problem).failing(IDS) == IDS


def test_only_python_m_pytest_commands_are_accepted():
    assert pytest_args("python -m pytest -p no:cacheprovider -q") == ["-p", "no:cacheprovider", "-q"]
    with pytest.raises(UserInputError, match="python -m pytest"):
        pytest_args("bash run_tests.sh")


UNITTEST_CASES = '''
import unittest


class TestDouble(unittest.TestCase):
    def test_good(self):
        self.assertEqual(2 * 2, 4)

    def test_bad(self):
        self.assertEqual(2 * 2, 5)

    def test_sub(self):
        for i in (1, 2):
            with self.subTest(i=i):
                self.assertEqual(2 * i, 2)


def test_plain():
    assert True
'''


def test_unittest_cases_pass_only_when_their_method_returns(tmp_path):
    from agentgym.environments.swe.build import build_environment
    from agentgym.environments.swe.runner import run_local
    from agentgym.environments.swe.schema import EnvironmentSpec
    from tests.environments.swe.helpers import sample_project

    deps = build_environment(EnvironmentSpec(local_dir=str(sample_project()))).deps
    (tmp_path / "test_u.py").write_text(UNITTEST_CASES)
    run = run_local(str(tmp_path), str(deps), ["."], "python -m pytest -q", ["test_u.py"], str(tmp_path / "s"))
    assert run.problem == "" and run.outcomes == {
        "test_u.py::TestDouble::test_good": "passed", "test_u.py::TestDouble::test_bad": "failed",
        "test_u.py::TestDouble::test_sub": "failed", "test_u.py::test_plain": "passed"}
