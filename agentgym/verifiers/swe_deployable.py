"""Deployable SWE verifiers: no hidden tests, only what a deployed agent's repository has.

- `swe_agent_tests`: the tests the agent wrote. A good reproduction test fails on the task's base
  state and passes with the agent's change (as R2E-Gym's); the score is the share of its tests
  that pass with the change, halved when none of them fails without it (they show nothing).
- `swe_regression`: the repository's own tests that passed before the change must still pass.
  A change that touches no source file scores 0 (a no-op verifies nothing).

Both need the live SWE env (after the episode, before close) and use its public pieces: the
sandbox options, the built environment and `SWEVerifier.run_files` (a fresh sandbox on the base
state plus the given files, under the family's tamper-checked test runner); test ids come from
`pytest --collect-only` in a fresh sandbox. The agent's own tests are agent code: a policy can
write tests that always pass, so `swe_agent_tests` is evidence for a hybrid, never a verdict on
its own (see THREAT_MODEL in the notes).
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from agentgym.core.env import Env
from agentgym.core.errors import VerifierError
from agentgym.core.types import Episode, Reward, Task
from agentgym.verifiers.base import Verifier
from agentgym.verifiers.swe_workspace import REPO_DIR, agent_changes

_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")
_NOT_SOURCE = re.compile(r"(^|/)(tests?|testing)/|(^|/)conftest\.py$|(^|/)(test_[^/]*|[^/]*_test)\.py$"
                         r"|^(pytest\.ini|tox\.ini|setup\.cfg|pyproject\.toml|setup\.py)$")
COLLECT_TIMEOUT = 300


def is_test_file(rel: str) -> bool:
    return bool(_TEST_FILE.search(rel))


def is_source(rel: str) -> bool:
    return not _NOT_SOURCE.search(rel)


def _live(env: Env | None) -> Any:
    verifier = getattr(env, "verifier", None)
    if env is None or getattr(env, "sandbox", None) is None or not callable(getattr(verifier, "run_files", None)):
        raise VerifierError("this SWE verifier needs the live SWE env (after the episode, before close)")
    return verifier


async def collect(env: Env, files: dict[str, bytes | None], targets: list[str]) -> list[str]:
    """Test ids pytest collects from `targets` on the base state plus `files`."""
    from agentgym.environments.swe.runner import shell_env
    from agentgym.environments.swe.verify import DEPS_DIR
    from agentgym.sandbox import create

    verifier = _live(env)
    built = verifier.env
    base = shlex.split(built.spec.test_command)
    # one -q lists node ids; -qq would list counts per file
    quiet = [] if any(re.fullmatch(r"-q+", a) for a in base) else ["-q"]
    command = [*base, "--collect-only", *quiet, *targets]
    async with create(workspace=str(built.root), **env.sandbox_options) as fresh:
        await verifier.write_base(fresh)
        for rel, content in files.items():
            if content is None:
                await fresh.exec(["rm", "-f", f"{REPO_DIR}/{rel}"], timeout=30)
            else:
                await fresh.write_file(f"{REPO_DIR}/{rel}", content)
        res = await fresh.exec(command, timeout=COLLECT_TIMEOUT, cwd=REPO_DIR,
                               env=shell_env(REPO_DIR, DEPS_DIR, built.pythonpath))
    if res.timed_out:
        return []
    return [line.strip() for line in res.stdout.splitlines()
            if "::" in line and not line.startswith((" ", "="))]


async def run_tests(verifier: Any, files: dict[str, bytes | None], ids: list[str],
                    test_code: tuple[str, ...] = ()) -> Any:
    """`run_files` without the task's hidden tests (a deployable verifier must not run them);
    `test_code` names the agent's own test files among `files` (their bodies are the tests)."""
    return await verifier.run_files(files, ids, hidden_tests=False, test_code=test_code)


class SWEAgentTests(Verifier):
    """The agent's own tests: fail before its change, pass after (deployable)."""

    name = "swe_agent_tests"
    privileged = False

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        verifier = _live(env)
        changes, problem = await agent_changes(env)
        tests = {rel: c for rel, c in changes.items() if c is not None and is_test_file(rel)}
        source = {rel: c for rel, c in changes.items() if is_source(rel)}
        if not tests:
            return Reward(value=0.0, components={"agent_tests": 0.0},
                          explanation="the agent wrote no tests", source=self.name)
        ids = await collect(env, {**source, **tests}, sorted(tests))
        if not ids:
            return Reward(value=0.0, components={"agent_tests": 0.0},
                          explanation=f"pytest collects no test from {', '.join(sorted(tests))}",
                          source=self.name)
        after = await run_tests(verifier, {**source, **tests}, ids, tuple(tests))
        before = await run_tests(verifier, dict(tests), ids, tuple(tests))  # the base state with only its tests
        pass_after = sum(after.passed(t) for t in ids) / len(ids)
        fail_before = sum(not before.passed(t) for t in ids) / len(ids)
        value = pass_after * (1.0 if fail_before > 0 else 0.5)
        notes = [f"{len(ids)} agent tests: {pass_after:.0%} pass with the change, "
                 f"{fail_before:.0%} fail without it"]
        for name, run in (("with the change", after), ("without it", before)):
            if run.problem:
                notes.append(f"{name}: {run.problem}")
        if problem:
            notes.append(problem)
        return Reward(value=value, components={"agent_tests": float(len(ids)), "pass_after": pass_after,
                                               "fail_before": fail_before},
                      explanation="; ".join(notes), source=self.name)


class SWERegression(Verifier):
    """The repository's tests that passed before the change still pass (deployable)."""

    name = "swe_regression"
    privileged = False

    def __init__(self) -> None:
        self._baseline: dict[str, list[str]] = {}  # task id -> test ids passing on the base state

    async def baseline(self, env: Env, task_id: str) -> list[str]:
        if task_id not in self._baseline:
            ids = await collect(env, {}, [])
            run = await run_tests(_live(env), {}, ids) if ids else None
            self._baseline[task_id] = [t for t in ids if run is not None and run.passed(t)]
        return self._baseline[task_id]

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        verifier = _live(env)
        changes, problem = await agent_changes(env)
        source = {rel: c for rel, c in changes.items() if is_source(rel)}
        if not source:
            return Reward(value=0.0, components={"regressions": 0.0},
                          explanation="the agent changed no source file: nothing to verify", source=self.name)
        passing = await self.baseline(env, task.id)
        if not passing:
            raise VerifierError(f"swe_regression: no test of the repository passes on the base state of {task.id}")
        run = await run_tests(verifier, source, passing)
        broken = run.failing(passing)
        value = 1.0 - len(broken) / len(passing)
        shown = ", ".join(broken[:10]) + (" ..." if len(broken) > 10 else "")
        explanation = f"{len(passing) - len(broken)}/{len(passing)} previously passing tests pass"
        explanation += f"; broken: {shown}" if broken else ""
        explanation += f"; {run.problem}" if run.problem else ""
        explanation += f"; {problem}" if problem else ""
        return Reward(value=value, components={"regressions": float(len(broken)),
                                               "kept": value}, explanation=explanation, source=self.name)


def swe_agent_tests(arg: str | None = None) -> SWEAgentTests:
    if arg is not None:
        raise TypeError(f"swe_agent_tests takes no argument (got {arg!r})")
    return SWEAgentTests()


def swe_regression(arg: str | None = None) -> SWERegression:
    if arg is not None:
        raise TypeError(f"swe_regression takes no argument (got {arg!r})")
    return SWERegression()
