"""A shell-like session on a sandbox: `cd` and `export` carry over from one command to the next.

Each command still runs in a fresh shell (so nothing else leaks between commands); the
session reads back the working directory and the exported environment after each command
and replays them before the next one.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from agentgym.sandbox.base import BASE_ENV, WORKSPACE, ExecResult, Sandbox

_SKIP = {"PWD", "OLDPWD", "SHLVL", "_", "AGENTGYM_CMD"}
_SCRIPT = (
    'cd "$AGENTGYM_CWD" 2>/dev/null || cd {home}\n'
    "unset AGENTGYM_CWD\n"
    "trap '__agentgym_rc=$?; printf '\\''{mark}'\\''; pwd; printf '\\''\\0'\\''; env -0; "
    "exit $__agentgym_rc' EXIT\n"
    'eval "$AGENTGYM_CMD"\n'
)


class ShellSession:
    """Runs commands one after another as if typed into one interactive shell."""

    def __init__(self, sandbox: Sandbox, cwd: str = WORKSPACE, env: dict[str, str] | None = None):
        self.sandbox = sandbox
        self.cwd = cwd
        self.env: dict[str, str] = dict(env or {})
        self._mark = f"\x00AGENTGYM-STATE-{secrets.token_hex(8)}\x00"

    async def run(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run `command` (shell syntax) from the session's directory with its variables."""
        script = _SCRIPT.format(home=WORKSPACE, mark=self._mark.replace("\x00", "\\0"))
        env = {**self.env, "AGENTGYM_CWD": self.cwd, "AGENTGYM_CMD": command}
        result = await self.sandbox.exec(["bash", "-c", script], timeout=timeout, env=env)
        stdout, sep, state = result.stdout.rpartition(self._mark)
        if not sep:
            return result
        self._take_state(state)
        return replace(result, stdout=stdout)

    def _take_state(self, state: str) -> None:
        cwd, _, env_blob = state.partition("\x00")
        if cwd.strip():
            self.cwd = cwd.strip()
        if env_blob:
            pairs = (item.partition("=") for item in env_blob.split("\x00") if "=" in item)
            env = {k: v for k, _, v in pairs if k not in _SKIP}
            self.env = {k: v for k, v in env.items() if BASE_ENV.get(k) != v}

    def on(self, sandbox: Sandbox) -> ShellSession:
        """The same directory and variables on another sandbox (e.g. a fork)."""
        return ShellSession(sandbox, self.cwd, self.env)
