"""What every `agentgym` sub-command shares: consoles and the error-to-exit-code rule."""

from __future__ import annotations

import functools
from typing import Any

import typer
from rich.console import Console

from agentgym.core.errors import AgentgymError, UserInputError

console = Console()
err_console = Console(stderr=True)


def clean_errors(fn):
    """Turn our errors into one line on stderr: exit 2 for bad input, 1 for infrastructure."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return fn(*args, **kwargs)
        except UserInputError as e:
            err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except AgentgymError as e:
            err_console.print(f"[bold red]infrastructure error:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper
