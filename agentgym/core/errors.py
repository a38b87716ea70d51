"""Errors. Two tiers (DESIGN.md): the agent's mistakes are observations, never exceptions;
everything here is either bad input from the user or an infrastructure failure."""

from __future__ import annotations


class AgentgymError(Exception):
    """Base of every error agentgym raises on purpose."""


# --- bad input from the user: a clear message, exit code 2 on the CLI -------------------------


class UserInputError(AgentgymError):
    """Something the user gave us is wrong; the message says what and where."""


class UnknownEnvError(UserInputError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0] if self.args else ""


class RegistrationError(UserInputError):
    pass


class TaskFileError(UserInputError):
    """A task file that cannot be read or does not match its schema."""

    def __init__(self, path: str, message: str, line: int | None = None):
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path, self.line = path, line


class PolicySpecError(UserInputError):
    pass


# --- infrastructure: typed, retried, recorded as status infra_error, never a reward of 0 -------


class InfraError(AgentgymError):
    """The machinery failed, not the agent. The episode is recorded as `infra_error`."""

    retryable: bool = True

    def __init__(self, *args: object, retryable: bool | None = None):
        super().__init__(*args)
        if retryable is not None:  # per instance: a refused request or a deterministic failure
            self.retryable = retryable


class SandboxError(InfraError):
    pass


class BrowserError(InfraError):
    pass


class EndpointError(InfraError):
    """An LLM endpoint that stayed down (or refused us) after retries."""


class VerifierError(InfraError):
    """A verifier that could not score: it raises rather than returning 0."""
