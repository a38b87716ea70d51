"""Procedural SWE tasks: inject bugs into a real project and keep those its own tests catch.

For a pinned PyPI project: build its environment, run its suite once (the tests that pass are
the baseline), then try AST mutations and keep a candidate only when 1..k baseline tests fail and
every other baseline test still passes. The failing tests become FAIL_TO_PASS, the rest
PASS_TO_PASS; the problem statement is built from the failing tests' output.

Test files stay visible to the agent, as in SWE-smith: the tests are the project's own. The
verifier restores any test file the agent edits before it scores (see verify.py).
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from agentgym.environments.swe.build import BuiltEnv, TaskSetupError, build_environment
from agentgym.environments.swe.diffs import make_patch
from agentgym.environments.swe.hidden import hide_failing_tests
from agentgym.environments.swe.mutate import Mutation, apply_mutations, find_sites, pick_combination
from agentgym.environments.swe.runner import TestRun, run_local, test_files
from agentgym.environments.swe.schema import EnvironmentSpec, SWEData, SWETask

_TEST_FILE = re.compile(r"(^|/)(test_[^/]*\.py|[^/]*_test\.py|conftest\.py)$")
_SKIP_DIRS = {"tests", "test", "testing", "docs", "doc", "examples", "benchmarks", "bench", "scripts"}
MAX_STATEMENT = 6000


def is_test_file(rel: str) -> bool:
    parts = rel.split("/")
    return bool(_TEST_FILE.search(rel)) or any(p in ("tests", "test", "testing") for p in parts[:-1])


def source_files(repo: Path) -> list[str]:
    """The project's library modules (not tests, docs or build scripts)."""
    out = []
    for path in sorted(repo.rglob("*.py")):
        rel = str(path.relative_to(repo))
        parts = rel.split("/")
        if is_test_file(rel) or any(p in _SKIP_DIRS or p.startswith(".") for p in parts[:-1]):
            continue
        if parts[-1] in ("setup.py", "conftest.py", "noxfile.py", "tasks.py", "_version.py", "version.py"):
            continue
        out.append(rel)
    return out


def spec_for(source: str) -> EnvironmentSpec:
    """`pypi:NAME==VER` (or a bare `NAME==VER`), or `local:DIR`, to an environment spec."""
    if source.startswith("local:"):
        path = Path(source.removeprefix("local:")).resolve()
        if not path.is_dir():
            raise TaskSetupError(source, "read source", f"{path} is not a directory")
        return EnvironmentSpec(local_dir=str(path))
    requirement = source.removeprefix("pypi:")
    if "==" not in requirement:
        raise TaskSetupError(source, "read source", 'expected "pypi:NAME==VERSION" or "local:DIR"')
    return EnvironmentSpec(pypi_sdist=requirement)


def _name_version(spec: EnvironmentSpec) -> tuple[str, str]:
    if spec.pypi_sdist:
        name, _, version = spec.pypi_sdist.partition("==")
        return name, version
    return Path(spec.local_dir or "project").name, "local"


def _with_layout(spec: EnvironmentSpec, env: BuiltEnv) -> EnvironmentSpec:
    if (env.repo / "src").is_dir() and spec.pythonpath == ["."]:
        return spec.model_copy(update={"pythonpath": ["src"]})
    return spec


def baseline(env: BuiltEnv, spec: EnvironmentSpec, scratch: str, who: str) -> tuple[list[str], TestRun]:
    """Test files and the run of the untouched project; at least one test must pass."""
    files = sorted(str(p.relative_to(env.repo)) for p in env.repo.rglob("*.py")
                   if is_test_file(str(p.relative_to(env.repo))) and not p.name == "conftest.py")
    if not files:
        raise TaskSetupError(who, "find tests", "the source has no test files")
    run = run_local(str(env.repo), str(env.deps), spec.pythonpath, spec.test_command, files, scratch)
    passing = [t for t, o in run.outcomes.items() if o == "passed"]
    if not passing:
        raise TaskSetupError(who, "run tests before the bug", f"no test passes:\n{run.output[-1500:]}")
    files = test_files(passing)
    return files, run


def problem_statement(project: str, failing: list[str], output: str) -> str:
    """An issue-like text from the failing tests and their short tracebacks."""
    shown = "\n".join(f"- {t}" for t in failing[:15]) + (f"\n- ... and {len(failing) - 15} more" if len(failing) > 15 else "")
    trimmed = re.sub(r"0x[0-9a-f]{6,}", "0x...", output.strip())  # addresses differ per run
    if len(trimmed) > MAX_STATEMENT:
        trimmed = trimmed[:MAX_STATEMENT // 2] + "\n[...]\n" + trimmed[-MAX_STATEMENT // 2:]
    return (
        f"Some of {project}'s own tests fail:\n\n{shown}\n\n"
        f"Output of the failing tests:\n\n```\n{trimmed}\n```\n\n"
        "Fix the library code in the repository so that these tests pass without breaking any "
        "other test. Do not change the tests."
    )


def generate_tasks(
    source: str,
    n: int = 10,
    difficulty: int = 1,
    max_failing: int = 25,
    seed: int = 0,
    max_attempts: int | None = None,
    log: Callable[[str], None] = lambda _: None,
    rewrite: Callable[[str], str] | None = None,
    hidden: bool = False,
) -> list[SWETask]:
    """Up to `n` tasks from `source` ("pypi:NAME==VER"); `rewrite` may turn statements into prose;
    `hidden` takes the failing tests out of the agent's repository (hidden.py)."""
    spec = spec_for(source)
    env = build_environment(spec, source)
    spec = _with_layout(spec, env)
    env = build_environment(spec, source)
    name, version = _name_version(spec)
    rng = random.Random(f"{source}:{difficulty}:{seed}")
    with tempfile.TemporaryDirectory(prefix="agentgym-gen-") as tmp:
        files, base = baseline(env, spec, f"{tmp}/scratch", source)
        passing = sorted(t for t, o in base.outcomes.items() if o == "passed")
        sites = [s for rel in source_files(env.repo) for s in find_sites(rel, env.read(rel) or "")]
        if not sites:
            raise TaskSetupError(source, "find mutation sites", "no library code to mutate")
        work = Path(tmp, "repo")
        shutil.copytree(env.repo, work)
        tasks: list[SWETask] = []
        tried: set[tuple[Mutation, ...]] = set()
        attempts = 0
        while len(tasks) < n and attempts < (max_attempts or n * 12):
            attempts += 1
            combo = tuple(sorted(pick_combination(sites, difficulty, rng), key=lambda m: (m.path, m.line)))
            if not combo or combo in tried:
                continue
            tried.add(combo)
            task = _try(combo, env, spec, work, files, passing, max_failing, f"{tmp}/scratch", name, version, difficulty)
            if task is not None and hidden:
                task = hide_failing_tests(task, env)
            if task is None:
                continue
            if rewrite is not None:
                task.prompt = task.data.problem_statement = rewrite(task.prompt)
            tasks.append(task)
            log(f"kept {task.id}: {len(task.data.FAIL_TO_PASS)} failing; {'; '.join(task.data.mutations)}")
        return tasks


def _try(combo, env: BuiltEnv, spec, work: Path, files, passing, max_failing, scratch, name, version, difficulty):
    by_file: dict[str, list[Mutation]] = {}
    for m in combo:
        by_file.setdefault(m.path, []).append(m)
    mutated: dict[str, str] = {}
    try:
        for rel, ms in by_file.items():
            mutated[rel] = apply_mutations(env.read(rel) or "", ms)
    except SyntaxError:
        return None
    try:
        for rel, text in mutated.items():
            (work / rel).write_text(text)
        run = run_local(str(work), str(env.deps), spec.pythonpath, spec.test_command, files, scratch, timeout=120)
        failing = [t for t in passing if run.outcomes.get(t) != "passed"]
        broken = any(o == "error" for o in run.outcomes.values())
        if run.timed_out or broken or not 1 <= len(failing) <= max_failing:
            return None
        detail = run_local(str(work), str(env.deps), spec.pythonpath, spec.test_command, failing, scratch,
                           timeout=120, extra="--tb=short -q --no-header -rN")
    finally:
        for rel in mutated:
            (work / rel).write_text(env.read(rel) or "")
    base_patch = "".join(make_patch(rel, env.read(rel) or "", text) for rel, text in sorted(mutated.items()))
    fix = "".join(make_patch(rel, text, env.read(rel) or "") for rel, text in sorted(mutated.items()))
    digest = hashlib.sha256(base_patch.encode()).hexdigest()[:8]
    task_id = f"{name}-{version}-d{difficulty}-{digest}"
    statement = problem_statement(f"{name} {version}", failing, detail.output)
    data = SWEData(
        instance_id=task_id, repo=f"pypi/{name}" if spec.pypi_sdist else name,
        base_commit=f"{name}=={version}",
        problem_statement=statement, patch=fix, base_patch=base_patch,
        FAIL_TO_PASS=failing, PASS_TO_PASS=[t for t in passing if t not in failing],
        environment=spec, mutations=[m.description for m in combo],
    )
    return SWETask(id=task_id, prompt=statement, data=data, difficulty=difficulty)
