"""Running a task's tests and reading per-test results.

Tests always run under bootstrap.py (see verdict.py for the protocol): in a fresh sandbox for
scoring (verify.py), or as a host process on trusted source for task generation (`run_local`).
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass, field

from agentgym.environments.swe.verdict import BOOTSTRAP_SOURCE, RunPlan, pytest_args, read_verdict

# names pytest itself would read from the environment to load more plugins: never wanted here
QUIET_PYTEST = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


@dataclass
class TestRun:
    """Per-test outcomes of one run ("passed", "failed", "skipped", "error"). A `problem` (the test
    machinery was modified, the run left no verdict...) means no test counts as passed."""

    outcomes: dict[str, str] = field(default_factory=dict)
    output: str = ""
    exit_code: int = 0
    timed_out: bool = False
    problem: str = ""
    suspicious: str = ""  # what the static audit found in the change ("" if nothing)

    def passed(self, test_id: str) -> bool:
        return not self.problem and self.outcomes.get(test_id) == "passed"

    def failing(self, test_ids: Iterable[str]) -> list[str]:
        return [t for t in test_ids if not self.passed(t)]


def test_files(test_ids: Iterable[str]) -> list[str]:
    """The files that hold these tests (running whole files avoids quoting parametrized ids)."""
    return sorted({t.split("::", 1)[0] for t in test_ids})


def shell_env(repo: str, deps: str, pythonpath: list[str], extra_paths: tuple[str, ...] = ()) -> dict[str, str]:
    """Variables for commands in a task's repo: its source dirs and the deps on sys.path, the deps'
    `python` first on PATH, no bytecode files."""
    paths = [os.path.normpath(os.path.join(repo, p)) for p in pythonpath] + [*extra_paths, deps]
    return {
        "PYTHONPATH": ":".join(paths),
        "PATH": f"{deps}/bin:/usr/local/bin:/usr/bin:/bin",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def test_env(repo: str, deps: str, pythonpath: list[str]) -> dict[str, str]:
    """Variables for a test run (processes the tests start see the agent's shell variables)."""
    return {**shell_env(repo, deps, pythonpath), **QUIET_PYTEST, "HOME": "/tmp", "LC_ALL": "C.UTF-8"}


def import_path(repo: str, deps: str, pythonpath: list[str]) -> list[str]:
    """sys.path ahead of the standard library, as `python -m pytest` with shell_env's PYTHONPATH has it."""
    return [repo, *[os.path.normpath(os.path.join(repo, p)) for p in pythonpath], deps]


def stdlib_dir(python: str) -> str:
    """The standard library of the image's `/usr/bin/pythonX.Y` (same layout on host and image)."""
    version = os.path.basename(python).removeprefix("python")
    return f"/usr/lib/python{version}" if version else sysconfig.get_paths()["stdlib"]


def run_local(repo: str, deps: str, pythonpath: list[str], base_command: str, files: list[str],
              scratch: str, timeout: float = 300, extra: str = "") -> TestRun:
    """Run tests on this machine (task generation and environment checks, on trusted source)."""
    os.makedirs(scratch, exist_ok=True)
    bootstrap = os.path.join(scratch, "bootstrap.py")
    with open(bootstrap, "w") as f:
        f.write(BOOTSTRAP_SOURCE)
    python = os.path.realpath(os.path.join(deps, "bin", "python"))
    plan = RunPlan(repo=repo, sys_path=import_path(repo, deps, pythonpath),
                   args=[*pytest_args(base_command), *extra.split(), *files], requested=None,
                   trusted_dirs=[stdlib_dir(python), deps], report_all=True)
    try:
        proc = subprocess.run([python, "-I", "-S", bootstrap], input=plan.stdin(), cwd=repo,
                              env=test_env(repo, deps, pythonpath), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return TestRun(timed_out=True, exit_code=-1, output=f"timed out after {timeout}s")
    verdict = read_verdict(proc.stdout, plan)
    output = proc.stderr.decode(errors="replace")
    return TestRun(verdict.outcomes, output, proc.returncode if verdict.exit_code is None else verdict.exit_code,
                   problem=verdict.problem)
