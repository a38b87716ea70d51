"""Hidden FAIL_TO_PASS tests for generated tasks (`agentgym tasks generate swe --hidden`).

The failing tests' functions are taken out of the agent's repository (part of `base_patch`) and
come back only in the verifier's sandbox (`test_patch`, applied to the base state), as
SWE-bench's hidden tests do. The problem statement keeps the assertion messages (what a user
reporting the bug would see) but no line of the hidden tests' source.
"""

from __future__ import annotations

import ast
import hashlib

from agentgym.environments.swe.build import BuiltEnv
from agentgym.environments.swe.diffs import make_patch
from agentgym.environments.swe.schema import SWETask

MAX_LINES = 40


def without_tests(source: str, names: set[str]) -> str | None:
    """`source` without the top-level test functions `names` (decorators included); None if one
    of them is not a top-level function there."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    spans = [(min([n.lineno] + [d.lineno for d in n.decorator_list]) - 1, n.end_lineno)
             for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in names]
    if len(spans) != len(names):
        return None
    for start, end in sorted(spans, reverse=True):
        del lines[start:end]
    return "".join(lines)


def hidden_statement(project: str, statement: str, names: set[str]) -> str:
    """The assertion messages of the visible statement, without test sources or test names."""
    messages = [line[1:].strip() for line in statement.splitlines() if line.startswith("E ")]
    messages = [m for m in messages if not any(name in m for name in names)][:MAX_LINES]
    shown = "\n".join(messages) or "(no message)"
    return (f"Some of {project}'s behaviour is wrong. Checks of it fail with:\n\n```\n{shown}\n```\n\n"
            "Fix the library code in the repository. The maintainers have tests for this that are "
            "not in the repository; other tests must keep passing.")


def hide_failing_tests(task: SWETask, env: BuiltEnv) -> SWETask | None:
    """The same bug with its FAIL_TO_PASS tests hidden; None when they cannot be (tests in
    classes, or a test file that would lose every test)."""
    names_by_file: dict[str, set[str]] = {}
    for test_id in task.data.FAIL_TO_PASS:
        path, _, rest = test_id.partition("::")
        if "::" in rest:
            return None
        names_by_file.setdefault(path, set()).add(rest.split("[", 1)[0])
    base_tests, test_patch = {}, ""
    for path, names in sorted(names_by_file.items()):
        pristine = env.read(path)
        stripped = without_tests(pristine, names) if pristine else None
        if stripped is None or not any(t.startswith(f"{path}::") for t in task.data.PASS_TO_PASS):
            return None
        base_tests[path] = stripped
        test_patch += make_patch(path, stripped, pristine)
    base_patch = task.data.base_patch + "".join(
        make_patch(path, env.read(path) or "", text) for path, text in base_tests.items())
    project = f"{task.data.repo.removeprefix('pypi/')} {task.data.base_commit.split('==')[-1]}"
    names = {n for group in names_by_file.values() for n in group}
    statement = hidden_statement(project, task.data.problem_statement, names)
    digest = hashlib.sha256(base_patch.encode()).hexdigest()[:8]
    task_id = task.id.rsplit("-", 2)[0] + f"-h{task.difficulty or 1}-{digest}"
    data = task.data.model_copy(update={"instance_id": task_id, "base_patch": base_patch,
                                        "test_patch": test_patch, "problem_statement": statement})
    return SWETask(id=task_id, prompt=statement, data=data, difficulty=task.difficulty)
