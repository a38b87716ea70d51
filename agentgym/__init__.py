"""agentgym: a gym for LLM agents.

    import agentgym
    env = agentgym.make("tooluse/Retail-v0")
    obs, info = env.reset(seed=0)
"""

__version__ = "0.1.0"

from agentgym.core import (  # noqa: E402
    Action,
    Env,
    Episode,
    Message,
    Reward,
    Task,
    ToolCall,
    make,
    make_async,
    register,
    registry,
    spec,
)

__all__ = [
    "__version__", "Action", "Env", "Episode", "Message", "Reward", "Task", "ToolCall",
    "make", "make_async", "register", "registry", "spec",
]
