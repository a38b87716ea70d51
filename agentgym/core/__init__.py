"""Core types, the Env base, spaces, the registry and errors."""

from agentgym.core.env import Env
from agentgym.core.errors import (
    AgentgymError,
    BrowserError,
    EndpointError,
    InfraError,
    SandboxError,
    TaskFileError,
    UnknownEnvError,
    UserInputError,
    VerifierError,
)
from agentgym.core.registry import EnvSpec, make, make_async, register, registry, spec
from agentgym.core.types import (
    Action,
    Episode,
    Message,
    Observation,
    Reward,
    Step,
    StepResult,
    Task,
    TokenUsage,
    ToolCall,
    ToolSpec,
)

__all__ = [
    "Env", "EnvSpec", "make", "make_async", "register", "registry", "spec",
    "Action", "Episode", "Message", "Observation", "Reward", "Step", "StepResult", "Task",
    "TokenUsage", "ToolCall", "ToolSpec",
    "AgentgymError", "BrowserError", "EndpointError", "InfraError", "SandboxError",
    "TaskFileError", "UnknownEnvError", "UserInputError", "VerifierError",
]
