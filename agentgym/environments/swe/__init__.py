"""SWE environments: fix real bugs in real Python projects inside sandboxes, scored by their tests.

`swe/Mutants-v1` (v1: the verifier of issue #8 — tests run under our own bootstrap, suspicious
patches and doctests never pass; v0 scored with an in-process results plugin) holds tasks generated from pinned PyPI projects by AST mutation
(tasks/swe/*.jsonl); any SWE-bench-shaped file with an `environment` per instance loads too
(`agentgym.make("swe/Mutants-v1", tasks_path="my_tasks.jsonl")`).

How a task runs:
- build.py: the environment (sdist or git commit or directory, plus pytest in `.deps`) is built
  once into the cache, keyed by the hash of its spec; `scripts/setup_swe.sh` prebuilds them all.
- env.py: each episode is a sandbox whose workspace has that build as its lowest read-only
  layer; the task's `base_patch` (the injected bug) is written on top. No .git, no sdist, no
  installed copy of the project: the pristine file exists only in the hidden lower layer.
- tools.py: bash, str_replace_editor, search, submit; every answer bounded.
- verify.py: the agent's diff (read with bounded reads, repo_io.py, and audited statically,
  audit.py) is replayed on a fresh sandbox over the pristine build, without test/config files,
  then `test_patch` on the base state and the tests, run under bootstrap.py with an
  authenticated verdict (verdict.py). THREAT_MODEL.md says what is defended. Step rewards:
  change in the fraction of FAIL_TO_PASS passing, cached by the diff's hash.
- generate.py / mutate.py: new tasks from any pure-Python project with tests.
  Mutation tasks keep the project's tests visible (as SWE-smith does) and have an empty
  `test_patch`; editing them gains nothing, since the verifier uses the pristine test files.
  With `--hidden` (hidden.py) the failing tests leave the agent's repository and come back only
  in the verifier's sandbox (tasks/swe/hidden-tests.jsonl).
"""

from __future__ import annotations

from agentgym.core.registry import EnvSpec
from agentgym.environments.swe.schema import SWEData, SWETask, count_tasks, load_tasks


def specs() -> list[EnvSpec]:
    return [
        EnvSpec(
            id="swe/Mutants-v1",
            entry_point="agentgym.environments.swe.env:SWEEnv",
            description=(
                "Fix a bug injected into a real PyPI project (inflection, parse, toolz, tabulate) "
                "with bash, a file editor and search in a bubblewrap sandbox; scored by the "
                "project's own tests (FAIL_TO_PASS and PASS_TO_PASS), with step rewards."
            ),
            count_tasks=count_tasks,
        )
    ]


__all__ = ["specs", "SWEData", "SWETask", "load_tasks", "count_tasks"]
