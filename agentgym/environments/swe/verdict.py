"""The host's side of a test run: the plan sent to bootstrap.py and the check of what it sends back.

The run's secret and plan go in on stdin; the verdict comes back on stdout as one line,
`AGENTGYM-VERDICT <base64 JSON> <HMAC-SHA256>`, keyed by the secret. Accepted only if stdout
holds that one line and nothing else, the MAC and the run's nonce match and each requested test
has one outcome. Nothing is read from a file, so nothing the agent's code leaves behind (atexit
handlers, daemons, a container's leftover processes) can write where the verdict is read from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from agentgym.core.errors import UserInputError

BOOTSTRAP_SOURCE = (Path(__file__).parent / "bootstrap.py").read_text()
OUTCOMES = {"p": "passed", "f": "failed", "e": "error", "s": "skipped"}
PYTEST_PREFIXES = (["python", "-m", "pytest"], ["python3", "-m", "pytest"])


def pytest_args(test_command: str) -> list[str]:
    """The pytest arguments of a task's `test_command`, which must be `python -m pytest [ARGS]`."""
    argv = shlex.split(test_command)
    for prefix in PYTEST_PREFIXES:
        if argv[:3] == prefix:
            return argv[3:]
    raise UserInputError(f"test_command must be 'python -m pytest [ARGS]', got {test_command!r}")


@dataclass(frozen=True)
class Canary:
    """A protected test file the verifier adds among the targets: one test must pass, one fail."""

    path: str  # relative to the repo
    passing: str  # node ids
    failing: str
    source: str

    @classmethod
    def beside(cls, test_file: str) -> Canary:
        folder = test_file.rsplit("/", 1)[0] + "/" if "/" in test_file else ""
        path = f"{folder}test_{secrets.token_hex(6)}.py"
        good, bad = f"test_{secrets.token_hex(6)}", f"test_{secrets.token_hex(6)}"
        a = secrets.randbelow(1 << 30)
        source = f"def {good}():\n    assert {a} == {a}\n\n\ndef {bad}():\n    assert {a} == {a + 1}\n"
        return cls(path, f"{path}::{good}", f"{path}::{bad}", source)


@dataclass
class RunPlan:
    """What one bootstrap run does and what it is allowed to trust."""

    repo: str
    sys_path: list[str]
    args: list[str]
    requested: list[str] | None
    agent_files: list[str] = field(default_factory=list)
    trusted_repo_files: list[str] | None = None  # None: every repo file (trusted source)
    trusted_dirs: list[str] = field(default_factory=list)
    writable: list[str] = field(default_factory=lambda: ["/tmp"])
    canary: Canary | None = None
    report_all: bool = False
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))

    def stdin(self) -> bytes:
        plan = {
            "repo": self.repo, "sys_path": self.sys_path, "args": self.args,
            "requested": self.requested, "agent_files": self.agent_files,
            "trusted_repo_files": self.trusted_repo_files, "trusted_dirs": self.trusted_dirs,
            "writable": [self.repo, *self.writable], "report_all": self.report_all,
            "canaries": [self.canary.passing, self.canary.failing] if self.canary else None,
            "nonce": self.nonce,
        }
        return self.secret + json.dumps(plan).encode() + b"\n"


@dataclass
class Verdict:
    outcomes: dict[str, str]
    problem: str = ""  # non-empty: no test counts as passed
    exit_code: int | None = None
    collect_errors: list[str] = field(default_factory=list)


def read_verdict(stdout: str | bytes, plan: RunPlan) -> Verdict:
    """Check and decode what the run sent on its verdict channel."""
    data = stdout.encode("latin-1", errors="replace") if isinstance(stdout, str) else stdout
    lines = data.splitlines()
    if not lines:
        return Verdict({}, "the test run ended without sending a verdict (the code under test ended it)")
    if len(lines) != 1 or not lines[0].startswith(b"AGENTGYM-VERDICT "):
        return Verdict({}, "something other than the verifier wrote to its verdict channel")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        return Verdict({}, "the verdict is malformed")
    try:
        payload = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return Verdict({}, "the verdict is malformed")
    expected = hmac.new(plan.secret, payload, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, parts[2]):
        return Verdict({}, "the verdict is not authentic")
    record = json.loads(payload)
    if record.get("nonce") != plan.nonce:
        return Verdict({}, "the verdict belongs to another run")
    codes = record["requested"]
    requested = plan.requested or []
    if len(codes) != len(requested):
        return Verdict({}, "the verdict does not cover the requested tests")
    outcomes = {t: OUTCOMES[c] for t, c in zip(requested, codes, strict=True) if c in OUTCOMES}
    outcomes.update({t: OUTCOMES.get(c, c) for t, c in record.get("all", {}).items()})
    for nodeid in record["collect_errors"]:
        outcomes.setdefault(nodeid, "error")
    problems = record["problems"]
    problem = f"the test machinery was tampered with: {'; '.join(problems[:3])}" if problems else ""
    return Verdict(outcomes, problem, record["exit"], record["collect_errors"])
