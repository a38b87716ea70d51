"""One MCP server from the client side: where it is (a command or a URL) and a live connection.

A connection runs the SDK's client inside a task of its own: the SDK's task groups must be
entered and left by one task, while an env is reset, stepped and closed from whichever task the
caller uses (the gymnasium facade gives each call its own). Failures are sorted the house way: a
server that answers a call with an error (unknown tool, bad arguments, a failing tool) gives the
agent an observation (`ToolCallError`); a server that cannot be started, stops answering, or whose
connection is gone is an `InfraError`; a command that does not exist or a malformed URL is the
user's input (`UserInputError`).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import sys
import tempfile
import weakref
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from agentgym.core.errors import InfraError, UserInputError
from agentgym.tools import ToolCallError

if sys.version_info < (3, 11):  # pragma: no cover - the backport anyio depends on
    from exceptiongroup import BaseExceptionGroup

#: how long a server may take to start and answer the handshake
CONNECT_TIMEOUT_S = 60.0
#: how much of a stdio server's stderr an error message quotes
STDERR_TAIL_CHARS = 600


class MCPServerError(InfraError):
    """An MCP server that could not be reached, died, or stopped answering."""


def require_sdk() -> None:
    """UserInputError (one line on the CLI) when the `mcp` extra is not installed."""
    try:
        import mcp  # noqa: F401
    except ModuleNotFoundError:
        raise UserInputError("MCP support needs the official SDK: pip install 'agentgym[mcp]'") from None


@dataclass(frozen=True)
class ServerAddress:
    """An MCP server: a command to spawn and talk to over stdio, or a streamable HTTP URL."""

    command: tuple[str, ...] = ()
    url: str | None = None
    env: tuple[tuple[str, str], ...] = field(default=())  # added to the SDK's safe default environment
    cwd: str | None = None

    @classmethod
    def parse(cls, server: str | Sequence[str] | Mapping[str, Any] | ServerAddress) -> ServerAddress:
        """From a URL, a command line (a string or a list), or a config entry as MCP clients write
        them: {"command": ..., "args": [...], "env": {...}, "cwd": ...} or {"url": ...}."""
        if isinstance(server, ServerAddress):
            return server
        if isinstance(server, Mapping):
            return cls._from_mapping(server)
        if isinstance(server, str):
            text = server.strip()
            if "://" in text:
                return cls(url=_checked_url(text))
            try:
                return cls(command=_checked_command(shlex.split(text)))
            except ValueError as e:
                raise UserInputError(f"cannot read the MCP server command {server!r}: {e}") from None
        if isinstance(server, Sequence) and all(isinstance(part, str) for part in server):
            return cls(command=_checked_command(list(server)))
        raise UserInputError(f"an MCP server is a URL, a command or a config dict, not {server!r}")

    @classmethod
    def _from_mapping(cls, entry: Mapping[str, Any]) -> ServerAddress:
        unknown = sorted(set(entry) - {"command", "args", "env", "cwd", "url"})
        if unknown:
            raise UserInputError(f"MCP server config: unknown field(s) {', '.join(unknown)}")
        if "url" in entry:
            if "command" in entry:
                raise UserInputError("MCP server config: give a command or a url, not both")
            return cls(url=_checked_url(str(entry["url"])))
        command = entry.get("command")
        args = entry.get("args") or []
        if isinstance(command, str):
            command = [command]
        if not isinstance(command, list) or not isinstance(args, list):
            raise UserInputError("MCP server config: command is a string or a list, args a list")
        env = entry.get("env") or {}
        if not isinstance(env, Mapping) or not all(isinstance(v, str) for v in env.values()):
            raise UserInputError("MCP server config: env maps names to strings")
        cwd = entry.get("cwd")
        return cls(command=_checked_command([*command, *args]), env=tuple(sorted(env.items())),
                   cwd=None if cwd is None else str(cwd))

    def describe(self) -> str:
        return self.url or shlex.join(self.command)


def _checked_url(text: str) -> str:
    parts = urlparse(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserInputError(f"not an MCP server URL (http:// or https://): {text!r}")
    return text


def _checked_command(parts: list[str]) -> tuple[str, ...]:
    if not parts or not all(isinstance(p, str) for p in parts) or not parts[0].strip():
        raise UserInputError("the MCP server command is empty")
    program = parts[0]
    found = shutil.which(program) if os.sep not in program else (program if os.access(program, os.X_OK) else None)
    if found is None:
        raise UserInputError(f"MCP server command not found: {program!r}")
    return tuple(parts)


def _root_cause(error: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups, which the SDK's task groups raise."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        inner = [e for e in error.exceptions if not isinstance(e, asyncio.CancelledError)]
        error = (inner or list(error.exceptions))[0]
    return error


class MCPConnection:
    """A live client session with one server: `open`, then `list_tools` / `call_tool`, `close`."""

    def __init__(self, address: ServerAddress, call_timeout: float = 60.0):
        self.address = address
        self.call_timeout = call_timeout
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._failure: BaseException | None = None
        self._stderr: Any = None  # a stdio server's stderr, quoted in error messages
        self._finalizer: weakref.finalize | None = None

    # ---- life ----------------------------------------------------------------------------------

    async def open(self, timeout: float = CONNECT_TIMEOUT_S) -> None:
        require_sdk()
        if self.address.command:  # append mode: our reads never move where the server writes
            self._stderr = tempfile.TemporaryFile("a+", encoding="utf-8", errors="replace")
        self._task = asyncio.create_task(self._run(), name=f"mcp:{self.address.describe()[:60]}")
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait({ready, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._client is None:
            error = self._open_error() if done else MCPServerError(
                f"the MCP server {self.address.describe()} did not finish the handshake within "
                f"{timeout:.0f}s{self._stderr_tail()}")
            await self.close()
            raise error

    async def _run(self) -> None:
        from mcp import Client

        try:
            async with AsyncExitStack() as stack:
                client = Client(self._transport(), cache=None, read_timeout_seconds=self.call_timeout)
                self._client = await stack.enter_async_context(client)
                self._ready.set()
                await self._stop.wait()
        except BaseException as e:  # kept for the caller; the task itself ends quietly
            self._failure = _root_cause(e)
            if isinstance(e, asyncio.CancelledError):
                raise
        finally:
            self._client = None

    def _transport(self) -> Any:
        if self.address.url is not None:
            from mcp.client.streamable_http import streamable_http_client

            return streamable_http_client(self.address.url)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        params = StdioServerParameters(command=self.address.command[0], args=list(self.address.command[1:]),
                                       env=dict(self.address.env) or None, cwd=self.address.cwd)
        return stdio_client(params, errlog=self._stderr)

    def _open_error(self) -> Exception:
        cause = self._failure
        where = self.address.describe()
        if isinstance(cause, (FileNotFoundError, PermissionError, NotADirectoryError)):
            return UserInputError(f"cannot start the MCP server {where}: {cause}")
        return MCPServerError(f"cannot connect to the MCP server {where}: {_describe(cause)}{self._stderr_tail()}")

    def stop_with(self, owner: object) -> None:
        """Stop this connection (and its server) when `owner` is garbage-collected unclosed: an
        env dropped without `close()` must not leave a server process behind."""
        self._finalizer = weakref.finalize(owner, _stop_soon, asyncio.get_running_loop(), self._stop)

    @property
    def alive(self) -> bool:
        return self._client is not None and self._task is not None and not self._task.done()

    async def close(self) -> None:
        """Stop the session; a stdio server is stopped with it (the SDK ends its process tree)."""
        task, self._task = self._task, None
        if self._finalizer is not None:
            self._finalizer.detach()
        if task is not None:
            self._stop.set()
            if not self._ready.is_set():
                task.cancel()  # still starting: nothing to end politely (the SDK still ends the process)
            done, _ = await asyncio.wait({task}, timeout=15)
            if not done:
                task.cancel()
                await asyncio.wait({task}, timeout=15)
        if self._stderr is not None:
            self._stderr.close()

    # ---- calls ---------------------------------------------------------------------------------

    async def list_tools(self) -> list[Any]:
        tools: list[Any] = []
        cursor = None
        while True:
            page = await self._request(lambda c, cursor=cursor: c.list_tools(cursor=cursor), "tools/list")
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """The server's CallToolResult. An error the server answers with is a ToolCallError."""
        return await self._request(lambda c: c.call_tool(name, arguments), f"tools/call {name}")

    async def _request(self, send: Any, what: str) -> Any:
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        client, owner = self._client, self._task
        if client is None or owner is None or owner.done():
            raise self._gone(what)
        call = asyncio.create_task(send(client))
        try:
            await asyncio.wait({call, owner}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the caller gave up (an episode timeout): so does the call
            call.cancel()
            raise
        if not call.done():  # the session ended under the call: the transport is gone
            call.cancel()
            await asyncio.gather(call, return_exceptions=True)
            raise self._gone(what)
        try:
            return call.result()
        except MCPError as e:
            if e.code == REQUEST_TIMEOUT:
                raise MCPServerError(f"the MCP server {self.address.describe()} did not answer "
                                     f"{what} within {self.call_timeout:.0f}s") from None
            if e.code == CONNECTION_CLOSED and not await self._still_answers():
                raise self._gone(what) from None
            raise ToolCallError(e.message or f"the server refused {what} (code {e.code})") from None
        except (ToolCallError, InfraError):
            raise
        except Exception as e:  # transport failures: broken pipes, HTTP errors, closed streams
            raise MCPServerError(f"{what} on the MCP server {self.address.describe()} failed: "
                                 f"{_describe(e)}{self._stderr_tail()}") from None

    async def _still_answers(self) -> bool:
        """Whether the server still answers (a server may use the connection-closed code itself).
        A listing is the probe: `ping` is gone from the 2026 protocol."""
        client = self._client
        if client is None:
            return False
        try:
            await asyncio.wait_for(client.list_tools(), timeout=5)
            return True
        except Exception:
            return False

    def _gone(self, what: str) -> MCPServerError:
        cause = f": {_describe(self._failure)}" if self._failure is not None else ""
        return MCPServerError(f"the connection to the MCP server {self.address.describe()} closed "
                              f"during {what}{cause}{self._stderr_tail()}")

    def _stderr_tail(self) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        try:
            self._stderr.flush()
            size = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, size - STDERR_TAIL_CHARS * 4))
            tail = " | ".join(line.strip() for line in self._stderr.read().splitlines() if line.strip())
        except (OSError, ValueError):
            return ""
        return f" (server stderr: {tail[-STDERR_TAIL_CHARS:]})" if tail else ""


def _stop_soon(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(stop.set)


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
