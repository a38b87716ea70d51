"""The execution-based verifier: the agent's changes, replayed on a clean environment, under test.

The verifier never runs in state the agent controls. It lists what the agent changed in its
repository (repo_io.py: bounded, regular files only), then starts a fresh sandbox on the pristine
environment, writes the task's base state, then the agent's changes except protected files
(tests, conftest.py, pytest/packaging config, sitecustomize and .pth files, anything outside
the repository), then the hidden `test_patch` (applied to the base state) and a canary test
file, and runs the tests there under bootstrap.py. So test files the agent edited are restored,
and deps the agent tampered with are never used. New top-level modules (a `pytest.py` or `json/`
at the repo root) are ignored, so nothing can shadow pytest or the standard library. The
changed Python code is also audited statically (audit.py). THREAT_MODEL.md says what is
defended and how. Whatever the agent's changes do to the run (exit it, leave no verdict, fail to
apply, make files unreadable) scores 0 with an explanation; VerifierError is only for our
machinery failing.

Results are cached by the hash of the agent's diff: re-checking an unchanged tree costs one
listing of the workspace and no test run.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field

from agentgym.core.types import Reward
from agentgym.environments.swe.audit import audit_changes
from agentgym.environments.swe.build import BuiltEnv, TaskSetupError
from agentgym.environments.swe.diffs import PatchError, apply_file_patch, parse_patch
from agentgym.environments.swe.editor import REPO_DIR, WORKSPACE
from agentgym.environments.swe.repo_io import read_files, workspace_diff, write_files
from agentgym.environments.swe.runner import TestRun, import_path, stdlib_dir, test_env, test_files
from agentgym.environments.swe.schema import SWETask
from agentgym.environments.swe.verdict import (
    BOOTSTRAP_SOURCE,
    Canary,
    RunPlan,
    pytest_args,
    read_verdict,
)
from agentgym.sandbox import Sandbox

DEPS_DIR = f"{WORKSPACE}/.deps"
MAX_IDS = 100
_PROTECTED = re.compile(
    r"(^|/)(test_[^/]*\.py|[^/]*_test\.py|conftest\.py|sitecustomize\.py|usercustomize\.py|[^/]*\.pth)$"
    r"|(^|/)(tests?|testing)/"
    r"|^(pytest\.ini|tox\.ini|setup\.cfg|pyproject\.toml|setup\.py|\.coveragerc)$"
)


def is_protected(rel: str) -> bool:
    """Files the agent may not change for scoring: their pristine versions are always used."""
    return bool(_PROTECTED.search(rel)) or rel.startswith("../")


def adds_top_level_module(rel: str, manifest: dict[str, str], roots: list[str]) -> bool:
    """A new file that starts a new top-level name in the repo or a source dir on sys.path:
    such a module could shadow pytest or the standard library in the test run, so it is ignored."""
    if rel in manifest:
        return False
    for root in {".", *roots}:
        prefix = "" if os.path.normpath(root) == "." else os.path.normpath(root) + "/"
        if rel.startswith(prefix):
            top = rel[len(prefix):].split("/", 1)[0]
            if prefix + top not in manifest and not any(p.startswith(f"{prefix}{top}/") for p in manifest):
                return True
    return False


def patched_files(env: BuiltEnv, patch: str, who: str, step: str,
                  start: dict[str, str | None] | None = None) -> dict[str, str | None]:
    """New contents (None = deleted) of the files `patch` touches, applied to `start` or the env."""
    out: dict[str, str | None] = {}
    if not patch.strip():
        return out
    try:
        for fp in parse_patch(patch):
            old = start[fp.path] if start and fp.path in start else env.read(fp.path)
            out[fp.path] = apply_file_patch(old, fp)
    except PatchError as e:
        raise TaskSetupError(who, step, str(e)) from None
    return out


@dataclass
class SWEVerifier:
    task: SWETask
    env: BuiltEnv
    sandbox_options: dict = field(default_factory=dict)
    timeout: float = 600
    cache: dict[tuple, TestRun] = field(default_factory=dict)
    runs: int = 0  # test runs actually made (cache misses)

    def __post_init__(self) -> None:
        data = self.task.data
        self.pytest_args = pytest_args(self.env.spec.test_command)
        self.base_files = patched_files(self.env, data.base_patch, self.task.id, "apply base_patch")
        # the task's base state, file by file: diffs are taken against it, not the pristine env
        self.manifest = self.env.manifest()
        for rel, content in self.base_files.items():
            if content is None:
                self.manifest.pop(rel, None)
            else:
                self.manifest[rel] = hashlib.sha256(content.encode()).hexdigest()
        # hidden tests go on top of the base state (which may have removed them), not the pristine env
        self.test_files = patched_files(self.env, data.test_patch, self.task.id, "apply test_patch",
                                        start=self.base_files)

    def base_text(self, rel: str) -> str | None:
        """A repo file as the task's base state has it (None if it has no such file)."""
        try:
            return self.base_files[rel] if rel in self.base_files else self.env.read(rel)
        except UnicodeDecodeError:
            return None

    async def write_base(self, sandbox: Sandbox) -> None:
        """Turn a sandbox on the pristine environment into the task's base state."""
        await write_files(sandbox, REPO_DIR, self.base_files)

    async def tests(self, agent: Sandbox, test_ids: list[str]) -> TestRun:
        """Run `test_ids` against the agent's changes in a fresh sandbox (cached by the diff)."""
        diff = await workspace_diff(agent, REPO_DIR, self.manifest)
        key = (diff.key, tuple(test_ids))
        if key not in self.cache:
            self.cache[key] = await self._agent_run(agent, diff, test_ids)
        return self.cache[key]

    async def _agent_run(self, agent: Sandbox, diff, test_ids: list[str]) -> TestRun:
        if diff.problem:
            return TestRun(problem=diff.problem)
        roots = self.env.pythonpath
        wanted = [rel for rel in sorted(diff.changed)
                  if not is_protected(rel) and not adds_top_level_module(rel, self.manifest, roots)]
        read, problem = await read_files(agent, REPO_DIR, wanted)
        if problem:
            return TestRun(problem=problem)
        contents: dict[str, str | bytes | None] = dict(read)
        for rel in diff.deleted:
            if not is_protected(rel):
                contents[rel] = None
        return await self._run(contents, test_ids)

    async def run_files(self, contents: dict[str, str | bytes | None], test_ids: list[str],
                        hidden_tests: bool = True, test_code: tuple[str, ...] = ()) -> TestRun:
        """Run tests on the base state plus `contents` (the reference patch, when validating).
        `hidden_tests=False` leaves the task's `test_patch` out: what deployable verifiers run.
        `test_code`: files of `contents` that are the tests being run (the agent's own tests, for
        a deployable verifier): their bodies count as test code, not as code under test."""
        return await self._run(contents, test_ids, hidden_tests, test_code)

    def plan(self, agent_files: dict[str, str | bytes | None], test_ids: list[str],
             hidden_tests: bool = True, test_code: tuple[str, ...] = ()) -> RunPlan:
        """What the run executes and trusts; a canary file goes beside the first test file."""
        canary = Canary.beside(test_files(test_ids)[0])
        by_id = len(test_ids) <= MAX_IDS  # a few tests by id (fast step rewards); many by file
        targets = [*test_ids, canary.passing, canary.failing] if by_id else [*test_files(test_ids), canary.path]
        changed = {rel for rel, content in agent_files.items() if content is not None} - set(test_code)
        trusted = {*self.manifest, *(self.test_files if hidden_tests else ()), *test_code, canary.path} - changed
        return RunPlan(
            repo=REPO_DIR, sys_path=import_path(REPO_DIR, DEPS_DIR, self.env.pythonpath),
            args=[*self.pytest_args, "--tb=short", *targets], requested=list(test_ids),
            agent_files=[f"{REPO_DIR}/{rel}" for rel in sorted(changed)],
            trusted_repo_files=[f"{REPO_DIR}/{rel}" for rel in sorted(trusted)],
            trusted_dirs=[stdlib_dir(self.python), DEPS_DIR], canary=canary,
        )

    @property
    def python(self) -> str:
        return f"/usr/bin/python{self.env.spec.python}"

    async def _run(self, agent_files: dict[str, str | bytes | None], test_ids: list[str],
                   hidden_tests: bool = True, test_code: tuple[str, ...] = ()) -> TestRun:
        from agentgym.sandbox import create

        self.runs += 1
        findings = audit_changes(agent_files, self.base_text)
        plan = self.plan(agent_files, test_ids, hidden_tests, test_code)
        async with create(workspace=str(self.env.root), **self.sandbox_options) as fresh:
            await self.write_base(fresh)
            unwritable = await write_files(fresh, REPO_DIR, agent_files, force=False)
            if unwritable:  # e.g. a file where the environment has a directory
                return TestRun(problem=f"the changes could not be applied to a clean copy: {unwritable}")
            assert plan.canary is not None
            hidden = self.test_files if hidden_tests else {}
            await write_files(fresh, REPO_DIR, {**hidden, plan.canary.path: plan.canary.source})
            # a private directory outside the repo: no project code imports the bootstrap
            bootstrap = f"/tmp/agentgym-{secrets.token_hex(8)}/run.py"
            await write_files(fresh, "", {bootstrap.lstrip("/"): BOOTSTRAP_SOURCE})
            res = await fresh.exec([self.python, "-I", "-S", bootstrap], timeout=self.timeout,
                                   cwd=REPO_DIR, env=test_env(REPO_DIR, DEPS_DIR, self.env.pythonpath),
                                   stdin=plan.stdin())
        verdict = read_verdict(res.stdout, plan)
        problem = "" if res.timed_out else verdict.problem
        return TestRun(verdict.outcomes, res.stderr, res.exit_code, res.timed_out, problem,
                       suspicious="; ".join(findings[:5]))

    async def f2p_fraction(self, agent: Sandbox) -> float:
        f2p = self.task.data.FAIL_TO_PASS
        run = await self.tests(agent, f2p)
        return 0.0 if run.suspicious else sum(run.passed(t) for t in f2p) / len(f2p)

    async def score(self, agent: Sandbox) -> Reward:
        data = self.task.data
        run = await self.tests(agent, data.FAIL_TO_PASS + data.PASS_TO_PASS)
        return outcome_reward(run, data.FAIL_TO_PASS, data.PASS_TO_PASS)


_IMPORT_ERROR = re.compile(r"(ModuleNotFoundError|ImportError): [^\n]+")


def outcome_reward(run: TestRun, f2p: list[str], p2p: list[str]) -> Reward:
    failed_f2p, failed_p2p = run.failing(f2p), run.failing(p2p)
    ok = not failed_f2p and not failed_p2p and not run.suspicious
    parts = [f"FAIL_TO_PASS {len(f2p) - len(failed_f2p)}/{len(f2p)} pass",
             f"PASS_TO_PASS {len(p2p) - len(failed_p2p)}/{len(p2p)} pass"]
    if run.timed_out:
        parts.append("the test run timed out")
    if run.problem:
        parts.append(f"no test counts as passed: {run.problem}")
    if run.suspicious:
        parts.append(f"scored 0: the change touches the test machinery ({run.suspicious})")
    for name, failed in (("FAIL_TO_PASS", failed_f2p), ("PASS_TO_PASS", failed_p2p)):
        if failed:
            shown = ", ".join(failed[:20]) + (f" and {len(failed) - 20} more" if len(failed) > 20 else "")
            parts.append(f"failing {name}: {shown}")
    import_error = _IMPORT_ERROR.search(run.output or "") if (failed_f2p or failed_p2p) else None
    if import_error:  # every test failing at once usually means the code under test never loaded
        parts.append(f"the tests could not import the code: {import_error.group(0)[:200]}")
    return Reward(
        value=1.0 if ok else 0.0,
        components={"fail_to_pass": (len(f2p) - len(failed_f2p)) / max(1, len(f2p)),
                    "pass_to_pass": (len(p2p) - len(failed_p2p)) / max(1, len(p2p)),
                    "suspicious": 1.0 if run.suspicious else 0.0},
        explanation="; ".join(parts),
        source="swe_tests",
    )
