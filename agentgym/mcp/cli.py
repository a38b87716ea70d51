"""`agentgym mcp …`: serve an env to MCP clients; look at an MCP server; check one wrapped as an env.

Importing this module is cheap: the `mcp` SDK is imported by the commands, and its absence is a
one-line error (exit 2) naming the extra to install.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer

from agentgym.cli_common import clean_errors, console, err_console
from agentgym.core.errors import InfraError, UserInputError

mcp_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

SERVER_HELP = "An MCP server: a URL (http://...), or a command line in one string ('python server.py')."


def _reach(server: str) -> tuple[Any, list[Any]]:
    """The server's address and tools; an unreachable server is bad input here (one line, exit 2)."""
    from agentgym.mcp.client import MCPConnection, ServerAddress, require_sdk

    require_sdk()
    address = ServerAddress.parse(server)

    async def listing() -> list[Any]:
        connection = MCPConnection(address)
        try:
            await connection.open(timeout=30)
            return await connection.list_tools()
        finally:
            await connection.close()

    try:
        return address, asyncio.run(listing())
    except InfraError as e:
        raise UserInputError(str(e)) from None


@mcp_app.command()
@clean_errors
def serve(
    env_id: str = typer.Argument(..., help="Env id, e.g. tooluse/Retail-v0"),
    transport: str = typer.Option("stdio", "--transport", "-t", help="stdio | http (streamable HTTP)"),
    host: str = typer.Option("127.0.0.1", "--host", help="HTTP: the address to listen on."),
    port: int = typer.Option(8000, "--port", help="HTTP: the port (0: any free port)."),
    tasks: str | None = typer.Option(None, "--tasks", help="A task file to use instead of the env's own."),
    task: str | None = typer.Option(None, "--task", help="Every session plays this task (default: session k plays seed+k)."),
    seed: int = typer.Option(0, "--seed"),
    max_steps: int | None = typer.Option(None, "--max-steps"),
    verdict: str = typer.Option("value", "--verdict", help="What finish tells the client: value | full (with the explanation) | none"),
    record: str | None = typer.Option(None, "--record", help="Append every episode to this JSONL file."),
    max_sessions: int = typer.Option(32, "--max-sessions", help="HTTP: at most this many episodes at once."),
):
    """Serve an env over MCP: one episode per session; `finish` returns the verdict."""
    from agentgym.core.registry import spec as env_spec
    from agentgym.core.shutdown import release_shared
    from agentgym.mcp.client import require_sdk
    from agentgym.mcp.episode import ServeOptions
    from agentgym.mcp.server import EpisodeServer, listen, serve_http, serve_stdio

    require_sdk()
    if transport not in ("stdio", "http"):
        raise UserInputError(f"--transport is stdio or http, not {transport!r}")
    if verdict not in ("value", "full", "none"):
        raise UserInputError(f"--verdict is value, full or none, not {verdict!r}")
    if max_steps is not None and max_steps < 1:
        raise UserInputError("--max-steps must be at least 1")
    if max_sessions < 1:
        raise UserInputError("--max-sessions must be at least 1")
    if record is not None:
        try:
            open(record, "a").close()
        except OSError as e:
            raise UserInputError(f"cannot write --record {record}: {e.strerror}") from None
    server = EpisodeServer(env_spec(env_id), ServeOptions(
        task_id=task, seed=seed, max_steps=max_steps, verdict=verdict, record=record,  # type: ignore[arg-type]
        env_kwargs={"tasks": tasks} if tasks else {},
        log=lambda text: err_console.print(f"agentgym mcp: {text}", highlight=False, markup=False,
                                           soft_wrap=True)))

    async def go() -> None:
        try:
            if transport == "stdio":
                await serve_stdio(server)
                return
            await server.check()
            sock = listen(host, port)
            name, bound = sock.getsockname()[:2]
            name = f"[{name}]" if ":" in name else name  # an IPv6 address in a URL
            err_console.print(f"agentgym mcp: serving {env_id} at http://{name}:{bound}/mcp", highlight=False,
                              soft_wrap=True)
            await serve_http(server, sock, max_sessions)
        finally:
            await release_shared()

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        pass


@mcp_app.command("tools")
@clean_errors
def tools_cmd(
    server: str = typer.Argument(..., help=SERVER_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the tools as JSON."),
):
    """List an MCP server's tools as an agent would see them."""
    from rich.table import Table

    from agentgym.mcp.remote import toolbox_from

    _, listed = _reach(server)
    specs = toolbox_from(listed).specs
    if as_json:
        print(json.dumps([s.model_dump() for s in specs], indent=2))
        return
    table = Table(title=f"{len(specs)} tool(s)")
    for column in ("name", "parameters", "description"):
        table.add_column(column)
    for s in specs:
        params = ", ".join(s.parameters.get("properties", {}))
        table.add_row(s.name, params, (s.description or "").strip().split("\n")[0])
    console.print(table)


@mcp_app.command("check")
@clean_errors
def check_cmd(
    server: str = typer.Argument(..., help=SERVER_HELP),
    tasks: str = typer.Option(..., "--tasks", help="A task file (JSONL) for the server's tools."),
    verifier: str | None = typer.Option(None, "--verifier", help="A verifier spec, e.g. mcp_state:export_notes (else each task's own)."),
    check: str | None = typer.Option(None, "--check", help="A check function, module:attr, called with the env."),
    hide: list[str] = typer.Option([], "--hide", help="A tool the agent is not offered (the verifier's). Repeatable."),
    n_tasks: int = typer.Option(3, "--n-tasks", "-n", help="How many tasks the oracle and no-op checks run."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
):
    """Wrap an MCP server as an env (tasks + verifier) and run `agentgym check` on it."""
    from agentgym.conformance import run_checks
    from agentgym.core.registry import EnvSpec
    from agentgym.mcp.env import MCPEnv

    if n_tasks < 1:
        raise UserInputError("--n-tasks must be at least 1")
    address, _ = _reach(server)
    kwargs = {"server": address, "tasks": tasks, "verifier": verifier, "check": check, "hide_tools": hide}
    MCPEnv(**kwargs)  # bad tasks or verifier: one line now rather than a failed check each
    spec = EnvSpec("mcp/Server-v0", MCPEnv, kwargs=kwargs, description=address.describe())
    marks = {"pass": "[green]pass[/]", "fail": "[bold red]FAIL[/]", "skip": "[yellow]skip[/]"}

    def show(result: Any) -> None:
        if not as_json:
            console.print(f"{marks[result.status]}  {result.name:<12} {result.detail}", highlight=False,
                          soft_wrap=True)

    results = asyncio.run(run_checks(spec, n_tasks, None, show))
    if as_json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    failed = [r.name for r in results if r.status == "fail"]
    if failed:
        err_console.print(f"{address.describe()}: {len(failed)} check(s) failed: {', '.join(failed)}",
                          highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if not as_json:
        console.print(f"{address.describe()}: every check passed", highlight=False, soft_wrap=True)
