"""Running a task's tests and reading per-test results.

A small pytest plugin (report_plugin.py, written by the verifier into private /tmp, never into the
repo) records each test's outcome as JSON lines, so results do not depend on parsing terminal
output that the sandbox may cut. `read_report` cross-checks what it says from outside the run.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# the plugin's source, written into each sandbox under a fresh random module name
PLUGIN_SOURCE = (Path(__file__).parent / "report_plugin.py").read_text()


def plugin_module() -> str:
    """A random module name for the plugin, so no project file can shadow it or guess it."""
    return f"agentgym_report_{secrets.token_hex(8)}"


@dataclass
class TestRun:
    """Per-test outcomes of one run ("passed", "failed", "skipped", "error"). A `problem` (the test
    machinery was modified, the run left no report...) means no test counts as passed."""

    outcomes: dict[str, str] = field(default_factory=dict)
    output: str = ""
    exit_code: int = 0
    timed_out: bool = False
    problem: str = ""

    def passed(self, test_id: str) -> bool:
        return not self.problem and self.outcomes.get(test_id) == "passed"

    def failing(self, test_ids: Iterable[str]) -> list[str]:
        return [t for t in test_ids if not self.passed(t)]


def read_report(text: str, requested: list[str] | None = None) -> tuple[dict[str, str], str]:
    """The outcomes in a plugin report, and what shows it was tampered with ("" if nothing).
    `requested`: the test ids the run was asked for by id (None when whole files ran); then
    the report may name those tests only, each once."""
    outcomes: dict[str, str] = {}
    tests: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            kind, nodeid = record.get("kind"), record.get("nodeid")
        except (ValueError, AttributeError):
            return {}, "the test report is malformed (the test machinery was modified)"
        if kind == "tampered":
            return {}, f"the test machinery was modified: {record.get('detail')}"
        if kind not in ("test", "collect") or not isinstance(nodeid, str):
            return {}, "the test report is malformed (the test machinery was modified)"
        if kind == "test":
            tests.append(nodeid)
        outcomes[nodeid] = str(record.get("outcome"))
    if len(tests) != len(set(tests)):
        return {}, "the test report names a test twice (the test machinery was modified)"
    if requested is not None and not set(tests) <= set(requested):
        return {}, "the test report names tests that were not run (the test machinery was modified)"
    return outcomes, ""


def test_files(test_ids: Iterable[str]) -> list[str]:
    """The files that hold these tests (running whole files avoids quoting parametrized ids)."""
    return sorted({t.split("::", 1)[0] for t in test_ids})


def test_command(base: str, files: list[str], module: str, extra: str = "") -> str:
    args = " ".join(shlex.quote(f) for f in files)
    return f"{base} -p {module} {extra} {args}".strip()


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
            "AGENTGYM_REPO": repo, "HOME": "/tmp", "LC_ALL": "C.UTF-8"}


def run_local(repo: str, deps: str, pythonpath: list[str], base_command: str, files: list[str],
              scratch: str, timeout: float = 300, extra: str = "") -> TestRun:
    """Run tests on this machine (task generation and environment checks, on trusted source)."""
    os.makedirs(scratch, exist_ok=True)
    module = plugin_module()
    with open(os.path.join(scratch, f"{module}.py"), "w") as f:
        f.write(PLUGIN_SOURCE)
    report = os.path.join(scratch, "report.jsonl")
    if os.path.exists(report):
        os.remove(report)
    env = test_env(repo, deps, pythonpath, scratch, report)
    try:
        proc = subprocess.run(
            ["bash", "-c", test_command(base_command, files, module, extra)], cwd=repo, env=env,
            capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return TestRun(timed_out=True, exit_code=-1, output=f"timed out after {timeout}s")
    finally:
        os.remove(os.path.join(scratch, f"{module}.py"))
    outcomes, problem = read_report(open(report).read()) if os.path.exists(report) else ({}, "")
    return TestRun(outcomes, proc.stdout + proc.stderr, proc.returncode, problem=problem)
