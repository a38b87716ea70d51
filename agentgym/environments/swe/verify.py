"""The execution-based verifier: the agent's changes, replayed on a clean environment, under test.

The verifier never runs in state the agent controls. It lists what the agent changed in its
repository (a diff against the built environment), then starts a fresh sandbox on the pristine
environment, writes the task's base state, then the agent's changes except protected files
(tests, conftest.py, pytest/packaging config, sitecustomize and .pth files, anything outside
the repository), then the hidden `test_patch`, and runs the tests there. So test files the agent
edited are restored, and deps the agent tampered with are never used. New top-level modules
(a `pytest.py` or `json/` at the repo root) are ignored, so nothing can shadow pytest or the
standard library. The agent's library code still runs inside pytest: report_plugin.py says what
is checked against that. Whatever the agent's changes do to the run (exit it, leave no report,
fail to apply) scores 0 with an explanation; VerifierError is only for our machinery failing.

Results are cached by the hash of the agent's diff: re-checking an unchanged tree costs one
listing of the workspace and no test run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field

from agentgym.core.errors import VerifierError
from agentgym.core.types import Reward
from agentgym.environments.swe.build import BuiltEnv, TaskSetupError
from agentgym.environments.swe.diffs import PatchError, apply_file_patch, parse_patch
from agentgym.environments.swe.editor import REPO_DIR, WORKSPACE
from agentgym.environments.swe.runner import (
    PLUGIN_SOURCE,
    TestRun,
    plugin_module,
    read_report,
    test_command,
    test_env,
    test_files,
)
from agentgym.environments.swe.schema import SWETask
from agentgym.sandbox import Sandbox

DEPS_DIR = f"{WORKSPACE}/.deps"
MAX_IDS = 100
_PROTECTED = re.compile(
    r"(^|/)(test_[^/]*\.py|[^/]*_test\.py|conftest\.py|sitecustomize\.py|usercustomize\.py|[^/]*\.pth)$"
    r"|(^|/)(tests?|testing)/"
    r"|^(pytest\.ini|tox\.ini|setup\.cfg|pyproject\.toml|setup\.py|\.coveragerc)$"
)
# Lists the repository's regular files with their sha256, from the image's Python in isolated
# mode (no site, no PYTHONPATH), so nothing in the workspace runs while it lists.
_LIST_SCRIPT = r"""
import hashlib, json, os, sys
root = sys.argv[1]; out = {}
for d, dirs, files in os.walk(root):
    dirs[:] = [x for x in dirs if x not in ("__pycache__", ".pytest_cache")]
    for name in files:
        p = os.path.join(d, name)
        if os.path.isfile(p) and not os.path.islink(p):
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            out[os.path.relpath(p, root)] = h.hexdigest()
print(json.dumps(out))
"""


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


@dataclass(frozen=True)
class WorkspaceDiff:
    """What differs between the agent's repository and the built environment's."""

    changed: dict[str, str]  # path -> sha256 of new or modified files
    deleted: tuple[str, ...]

    @property
    def key(self) -> str:
        blob = json.dumps([sorted(self.changed.items()), sorted(self.deleted)])
        return hashlib.sha256(blob.encode()).hexdigest()


async def workspace_diff(sandbox: Sandbox, manifest: dict[str, str]) -> WorkspaceDiff:
    # uncapped output: a workspace with many files must not cut the listing (so fail to score)
    argv = ["/usr/bin/python3", "-I", "-S", "-c", _LIST_SCRIPT, REPO_DIR]
    res = await sandbox._exec(argv, 120, None, {}, None, capped=False)
    if res.exit_code != 0 or res.timed_out:
        raise VerifierError(f"could not list the workspace: {res.stderr.strip()[-500:] or 'timed out'}")
    files: dict[str, str] = json.loads(res.stdout)
    changed = {p: h for p, h in files.items() if manifest.get(p) != h}
    deleted = tuple(sorted(p for p in manifest if p not in files))
    return WorkspaceDiff(changed, deleted)


_READ_SCRIPT = r"""
import base64, json, os, sys
root = sys.argv[1]; out = {}
for rel in json.load(sys.stdin):
    with open(os.path.join(root, rel), "rb") as f:
        out[rel] = base64.b64encode(f.read()).decode()
print(json.dumps(out))
"""


async def _read_files(sandbox: Sandbox, rels: list[str]) -> dict[str, bytes]:
    """The contents of repo files, in one uncapped command (one exec per file is slow)."""
    if not rels:
        return {}
    argv = ["/usr/bin/python3", "-I", "-S", "-c", _READ_SCRIPT, REPO_DIR]
    res = await sandbox._exec(argv, 120, None, {}, json.dumps(rels).encode(), capped=False)
    if res.exit_code != 0 or res.timed_out:
        raise VerifierError(f"could not read the agent's files: {res.stderr.strip()[-500:] or 'timed out'}")
    return {rel: base64.b64decode(data) for rel, data in json.loads(res.stdout).items()}


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
        self.base_files = patched_files(self.env, data.base_patch, self.task.id, "apply base_patch")
        # the task's base state, file by file: diffs are taken against it, not the pristine env
        self.manifest = self.env.manifest()
        for rel, content in self.base_files.items():
            if content is None:
                self.manifest.pop(rel, None)
            else:
                self.manifest[rel] = hashlib.sha256(content.encode()).hexdigest()
        self.test_files = patched_files(self.env, data.test_patch, self.task.id, "apply test_patch")

    async def write_base(self, sandbox: Sandbox) -> None:
        """Turn a sandbox on the pristine environment into the task's base state."""
        await _write_files(sandbox, self.base_files)

    async def tests(self, agent: Sandbox, test_ids: list[str]) -> TestRun:
        """Run `test_ids` against the agent's changes in a fresh sandbox (cached by the diff)."""
        diff = await workspace_diff(agent, self.manifest)
        key = (diff.key, tuple(test_ids))
        if key not in self.cache:
            roots = self.env.spec.pythonpath
            wanted = [rel for rel in sorted(diff.changed)
                      if not is_protected(rel) and not adds_top_level_module(rel, self.manifest, roots)]
            contents: dict[str, str | bytes | None] = dict(await _read_files(agent, wanted))
            for rel in diff.deleted:
                if not is_protected(rel):
                    contents[rel] = None
            self.cache[key] = await self._run(contents, test_ids)
        return self.cache[key]

    async def run_files(self, contents: dict[str, str | bytes | None], test_ids: list[str]) -> TestRun:
        """Run tests on the base state plus `contents` (the reference patch, when validating)."""
        return await self._run(contents, test_ids)

    async def _run(self, agent_files: dict[str, str | bytes | None], test_ids: list[str]) -> TestRun:
        from agentgym.sandbox import create

        self.runs += 1
        spec = self.env.spec
        async with create(workspace=str(self.env.root), **self.sandbox_options) as fresh:
            await self.write_base(fresh)
            unwritable = await _write_files(fresh, agent_files, force=False)
            if unwritable:  # e.g. a file where the environment has a directory
                return TestRun(problem=f"the changes could not be applied to a clean copy: {unwritable}")
            await _write_files(fresh, self.test_files)
            # random names: project code can neither shadow the plugin nor guess where it reports
            module, plugin_dir = plugin_module(), f"/tmp/agentgym-verifier-{secrets.token_hex(8)}"
            await fresh.write_file(f"{plugin_dir}/{module}.py", PLUGIN_SOURCE)
            report = f"{plugin_dir}/{secrets.token_hex(8)}.jsonl"
            env = test_env(REPO_DIR, DEPS_DIR, spec.pythonpath, plugin_dir, report)
            # a few tests run by id (fast step rewards); many by file (short command lines)
            by_id = len(test_ids) <= MAX_IDS
            targets = list(test_ids) if by_id else test_files(test_ids)
            cmd = test_command(spec.test_command, targets, module, "--tb=short")
            res = await fresh.exec(["bash", "-c", cmd], timeout=self.timeout, cwd=REPO_DIR, env=env)
            try:
                outcomes, problem = read_report(await fresh.read_file(report), list(test_ids) if by_id else None)
            except FileNotFoundError:  # pytest never finished: the project's code ended or killed it
                outcomes, problem = {}, ("" if res.timed_out else
                                         f"the test run ended without reporting results (exit {res.exit_code})")
        return TestRun(outcomes, res.output, res.exit_code, res.timed_out, problem)

    async def f2p_fraction(self, agent: Sandbox) -> float:
        f2p = self.task.data.FAIL_TO_PASS
        run = await self.tests(agent, f2p)
        return sum(run.passed(t) for t in f2p) / len(f2p)

    async def score(self, agent: Sandbox) -> Reward:
        data = self.task.data
        run = await self.tests(agent, data.FAIL_TO_PASS + data.PASS_TO_PASS)
        return outcome_reward(run, data.FAIL_TO_PASS, data.PASS_TO_PASS)


def outcome_reward(run: TestRun, f2p: list[str], p2p: list[str]) -> Reward:
    failed_f2p, failed_p2p = run.failing(f2p), run.failing(p2p)
    ok = not failed_f2p and not failed_p2p
    parts = [f"FAIL_TO_PASS {len(f2p) - len(failed_f2p)}/{len(f2p)} pass",
             f"PASS_TO_PASS {len(p2p) - len(failed_p2p)}/{len(p2p)} pass"]
    if run.timed_out:
        parts.append("the test run timed out")
    if run.problem:
        parts.append(f"no test counts as passed: {run.problem}")
    for name, failed in (("FAIL_TO_PASS", failed_f2p), ("PASS_TO_PASS", failed_p2p)):
        if failed:
            shown = ", ".join(failed[:20]) + (f" and {len(failed) - 20} more" if len(failed) > 20 else "")
            parts.append(f"failing {name}: {shown}")
    return Reward(
        value=1.0 if ok else 0.0,
        components={"fail_to_pass": (len(f2p) - len(failed_f2p)) / max(1, len(f2p)),
                    "pass_to_pass": (len(p2p) - len(failed_p2p)) / max(1, len(p2p))},
        explanation="; ".join(parts),
        source="swe_tests",
    )


# Writes (or deletes, for None) files. With "force" (our files) whatever blocks a path is removed
# first; otherwise (the agent's files) paths that cannot be written are reported on stdout.
_WRITE_SCRIPT = r"""
import base64, json, os, shutil, sys
job = json.load(sys.stdin); failed = []

def clear(path):
    parts = path.split("/")
    for i in range(2, len(parts)):
        parent = "/".join(parts[:i])
        if os.path.islink(parent) or (os.path.lexists(parent) and not os.path.isdir(parent)):
            os.remove(parent)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)

def write(path, data):
    if data is None:
        if os.path.lexists(path) and not os.path.isdir(path):
            os.remove(path)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(base64.b64decode(data))

for path, data in job["files"].items():
    try:
        write(path, data)
    except (NotADirectoryError, IsADirectoryError, FileExistsError) as e:
        if not job["force"]:
            failed.append(f"{path}: {e.strerror}")
            continue
        clear(path)
        write(path, data)
print(json.dumps(failed))
"""


async def _write_files(sandbox: Sandbox, files: dict[str, str | bytes | None], force: bool = True) -> str:
    """Write (or delete, for None) repo files in one command: each exec is a sandbox start.
    Returns what could not be written ("" if all was; only without `force`)."""
    if not files:
        return ""
    payload = {
        f"{REPO_DIR}/{rel}": None if content is None else base64.b64encode(
            content.encode() if isinstance(content, str) else content).decode()
        for rel, content in files.items()
    }
    res = await sandbox.exec(["/usr/bin/python3", "-I", "-S", "-c", _WRITE_SCRIPT], timeout=120,
                             stdin=json.dumps({"force": force, "files": payload}))
    if res.exit_code != 0:
        raise VerifierError(f"could not write files into the sandbox: {res.stderr.strip()[-500:]}")
    failed = json.loads(res.stdout)
    return "; ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
