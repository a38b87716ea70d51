"""Envs the serving tests put behind `agentgym mcp serve`, and a launcher that registers them.

    python -m tests.mcp.served_envs mcp serve test/Vault-v0     # = `agentgym mcp serve`, with these

`VaultEnv` holds a secret a client must never reach through the server: the vault's code is task
data, the reference knows it, and the verifier's explanation names it (as careless verifiers do).
A scripted user answers `send_message` (it knows only the owner's name).
"""

from __future__ import annotations

import sys

import agentgym
from agentgym.core.types import Action, Message, Reward, Task
from agentgym.environments.base import ToolEnv
from agentgym.tools import Toolbox, tool
from agentgym.users import ScriptedUser
from tests.core.counter_env import CounterEnv

SECRET_CODE = "OPAL-4471"
SECRET_TASK_ID = "vault-QX7"


@tool
def try_code(code: str, *, vault: dict) -> str:
    """Try a code on the vault.

    Args:
        code: The code to try.
    """
    vault["tries"] += 1
    if code == vault["code"]:
        vault["open"] = True
        return "The vault is open."
    return "Wrong code."


VAULT_TASKS = [Task(id=SECRET_TASK_ID, family="test", prompt="Please open my vault.", data={"code": SECRET_CODE},
                    reference=[Action(tool_calls=[{"name": "try_code", "arguments": {"code": SECRET_CODE}}]),
                               Action(content="Done, your vault is open.")])]


class VaultEnv(ToolEnv):
    toolbox = Toolbox([try_code])

    def __init__(self, tasks: list[Task] | None = None, max_steps: int = 8):
        super().__init__(tasks or VAULT_TASKS, max_steps=max_steps)
        self.vault = {"code": "", "open": False, "tries": 0}

    async def _start(self, task: Task, seed: int | None) -> list[Message]:
        self.vault = {"code": task.data["code"], "open": False, "tries": 0}
        self.user = ScriptedUser("Please open my vault.", {"name": "Ada"})
        return [Message(role="system", content="You guard a vault. Use try_code."),
                Message(role="user", content=self.user.opening())]

    def tool_context(self) -> dict:
        return {"vault": self.vault}

    async def score(self) -> Reward:
        opened = self.vault["open"]
        return Reward(value=float(opened), components={"tries": float(self.vault["tries"])},
                      explanation=f"the code was {self.vault['code']}", source="vault")


def register() -> None:
    agentgym.register("test/Counter-v0", CounterEnv, override=True, description="framework test env")
    agentgym.register("test/Vault-v0", VaultEnv, override=True)


if __name__ == "__main__":
    from agentgym.cli import app

    register()
    sys.exit(app())
