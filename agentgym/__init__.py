"""agentgym: a gym for LLM agents.

    import agentgym
    env = agentgym.make("tooluse/Retail-v0")
    obs, info = env.reset(seed=0)
"""

__version__ = "0.1.0"

from agentgym.core import (  # noqa: E402
    Action,
    AgentgymError,
    Env,
    EnvSpec,
    Episode,
    InfraError,
    Message,
    Reward,
    Task,
    TaskFileError,
    ToolCall,
    ToolSpec,
    UnknownEnvError,
    UserInputError,
    VerifierError,
    make,
    make_async,
    register,
    registry,
    spec,
)
from agentgym.core.registry import register_with_gymnasium  # noqa: E402
from agentgym.core.taskfile import read_tasks  # noqa: E402

register_with_gymnasium()  # `gymnasium.make("tooluse/Retail-v0")` works after `import agentgym`

__all__ = [
    "__version__", "Action", "Env", "EnvSpec", "Episode", "Message", "Reward", "Task", "ToolCall",
    "ToolSpec", "make", "make_async", "register", "registry", "spec", "read_tasks",
    "AgentgymError", "InfraError", "TaskFileError", "UnknownEnvError", "UserInputError",
    "VerifierError",
]
