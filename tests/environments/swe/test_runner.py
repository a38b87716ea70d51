"""The parent's cross-check of a plugin report: forged or tampered reports pass no test."""

import json

from agentgym.environments.swe import runner
from agentgym.environments.swe.runner import read_report

IDS = ["t.py::a", "t.py::b"]


def report(*records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def record(nodeid, outcome="passed"):
    return {"kind": "test", "nodeid": nodeid, "outcome": outcome}


def test_honest_report_is_read_with_missing_tests_failing():
    outcomes, problem = read_report(report(record("t.py::a"), {"kind": "collect", "nodeid": "u.py", "outcome": "error"}), IDS)
    assert problem == "" and outcomes == {"t.py::a": "passed", "u.py": "error"}
    run = runner.TestRun(outcomes)
    assert run.failing(IDS) == ["t.py::b"]


def test_forged_reports_are_rejected():
    cases = {
        report(record("t.py::a"), record("t.py::a", "failed")): "names a test twice",
        report(record("t.py::a"), record("t.py::other")): "tests that were not run",
        "not json\n": "malformed",
        report({"kind": "test", "outcome": "passed"}): "malformed",
        report(record("t.py::a", "failed"), {"kind": "tampered", "detail": "X was replaced"}):
            "the test machinery was modified: X was replaced",
    }
    for text, expected in cases.items():
        outcomes, problem = read_report(text, IDS)
        assert outcomes == {} and expected in problem
        assert runner.TestRun(outcomes, problem=problem).failing(IDS) == IDS


def test_whole_file_runs_may_report_other_tests():
    outcomes, problem = read_report(report(record("t.py::a"), record("t.py::c")), None)
    assert problem == "" and runner.TestRun(outcomes).passed("t.py::a")
    assert runner.TestRun(outcomes, problem="the machinery was modified").failing(["t.py::a"]) == ["t.py::a"]
