"""Running a task's tests and reading per-test results.

A small pytest plugin (written by the verifier into private /tmp, never into the repo) records
each test's outcome as JSON lines, so results do not depend on parsing terminal output that
the sandbox may cut.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

PLUGIN_MODULE = "agentgym_report"
PLUGIN_SOURCE = '''\
import json, os

_outcomes = {}

def pytest_runtest_logreport(report):
    previous = _outcomes.get(report.nodeid)
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped and previous is None:
        _outcomes[report.nodeid] = "skipped"
    elif report.when == "call" and report.passed and previous in (None, "skipped"):
        _outcomes[report.nodeid] = "passed"

def pytest_collectreport(report):
    if report.failed:
        _outcomes[report.nodeid or "<collection>"] = "error"

def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["AGENTGYM_REPORT"], "w") as f:
        for nodeid, outcome in _outcomes.items():
            f.write(json.dumps({"nodeid": nodeid, "outcome": outcome}) + "\\n")
'''


@dataclass
class TestRun:
    """Per-test outcomes of one run ("passed", "failed", "skipped", "error")."""

    outcomes: dict[str, str] = field(default_factory=dict)
    output: str = ""
    exit_code: int = 0
    timed_out: bool = False

    def passed(self, test_id: str) -> bool:
        return self.outcomes.get(test_id) == "passed"

    def failing(self, test_ids: Iterable[str]) -> list[str]:
        return [t for t in test_ids if not self.passed(t)]


def parse_report(text: str) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            outcomes[record["nodeid"]] = record["outcome"]
    return outcomes


def test_files(test_ids: Iterable[str]) -> list[str]:
    """The files that hold these tests (running whole files avoids quoting parametrized ids)."""
    return sorted({t.split("::", 1)[0] for t in test_ids})


def test_command(base: str, files: list[str], extra: str = "") -> str:
    args = " ".join(shlex.quote(f) for f in files)
    return f"{base} -p {PLUGIN_MODULE} {extra} {args}".strip()


def shell_env(repo: str, deps: str, pythonpath: list[str], extra_paths: tuple[str, ...] = ()) -> dict[str, str]:
    """Variables for commands in a task's repo: its source dirs and the deps on sys.path, the deps'
    `python` first on PATH, no bytecode files."""
    paths = [os.path.normpath(os.path.join(repo, p)) for p in pythonpath] + [*extra_paths, deps]
    return {
        "PYTHONPATH": ":".join(paths),
        "PATH": f"{deps}/bin:/usr/local/bin:/usr/bin:/bin",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def test_env(repo: str, deps: str, pythonpath: list[str], plugin_dir: str, report: str) -> dict[str, str]:
    """Variables for a test run: the agent's shell variables plus our report plugin."""
    return {**shell_env(repo, deps, pythonpath, (plugin_dir,)), "AGENTGYM_REPORT": report,
            "HOME": "/tmp", "LC_ALL": "C.UTF-8"}


def run_local(repo: str, deps: str, pythonpath: list[str], base_command: str, files: list[str],
              scratch: str, timeout: float = 300, extra: str = "") -> TestRun:
    """Run tests on this machine (task generation and environment checks, on trusted source)."""
    os.makedirs(scratch, exist_ok=True)
    with open(os.path.join(scratch, f"{PLUGIN_MODULE}.py"), "w") as f:
        f.write(PLUGIN_SOURCE)
    report = os.path.join(scratch, "report.jsonl")
    if os.path.exists(report):
        os.remove(report)
    env = test_env(repo, deps, pythonpath, scratch, report)
    try:
        proc = subprocess.run(
            ["bash", "-c", test_command(base_command, files, extra)], cwd=repo, env=env,
            capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return TestRun(timed_out=True, exit_code=-1, output=f"timed out after {timeout}s")
    outcomes = parse_report(open(report).read()) if os.path.exists(report) else {}
    return TestRun(outcomes, proc.stdout + proc.stderr, proc.returncode)
