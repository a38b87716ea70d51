"""`agentgym mcp serve ENV_ID`: an env's episodes for any MCP client, over stdio or streamable HTTP.

Each MCP session plays one episode in a fresh env (`episode.py`). Over stdio the process serves
one client: one episode. Over HTTP every session (the `Mcp-Session-Id` the initialize handshake
hands out) gets its own env, closed when the client ends the session, when it sits idle past
`idle_timeout`, or when the server stops. The 2026 protocol's stateless HTTP requests carry no
session, so they are refused with the error that makes clients fall back to the handshake.

What the client can reach: the tools `get_task`, `finish` (and `send_message` when the env has a
user), the env's own tools, and the `task` prompt (the same text as `get_task`).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

from agentgym.core.errors import UserInputError
from agentgym.core.registry import EnvSpec
from agentgym.mcp.episode import ServedEpisode, ServeOptions

STDIO_SESSION = "stdio"
TASK_PROMPT = "task"
MAX_BODY_BYTES = 1 << 20


class EpisodeServer:
    """The MCP server of one env id: a table of sessions, each with its episode."""

    def __init__(self, spec: EnvSpec, options: ServeOptions, idle_timeout: float = 1800.0):
        self.spec, self.options, self.idle_timeout = spec, options, idle_timeout
        self.episodes: dict[str, ServedEpisode] = {}
        self.sessions_started = 0
        self.mcp = self._build()

    async def check(self) -> None:
        """Fail now, with one line, on what would fail every session: an env that cannot be made,
        an unknown --task."""
        env = self.spec.make_async(**self.options.env_kwargs)
        try:
            if self.options.task_id is not None and self.options.task_id not in env.tasks:
                raise UserInputError(f"{self.spec.id} has no task {self.options.task_id!r}")
        finally:
            await env.close()

    # ---- sessions ------------------------------------------------------------------------------

    def episode_for(self, ctx: Any) -> ServedEpisode:
        from mcp import MCPError
        from mcp_types import INVALID_REQUEST

        request = ctx.request
        key = STDIO_SESSION if request is None else request.headers.get("mcp-session-id")
        if not key:
            raise MCPError(code=INVALID_REQUEST, message="no MCP session: start one with initialize")
        episode = self.episodes.get(key)
        if episode is None:
            params = ctx.session.client_params
            client = params.client_info.name if params is not None and params.client_info else "client"
            episode = ServedEpisode(self.spec, self.options, self.sessions_started, client)
            self.sessions_started += 1
            self.episodes[key] = episode
        return episode

    async def end_session(self, key: str) -> None:
        episode = self.episodes.pop(key, None)
        if episode is not None:
            await episode.close()

    async def end_idle_sessions(self) -> None:
        now = time.monotonic()
        for key, episode in list(self.episodes.items()):
            if now - episode.last_used > self.idle_timeout and not episode.lock.locked():
                await self.end_session(key)

    async def close(self) -> None:
        for key in list(self.episodes):
            await self.end_session(key)

    # ---- the MCP server ------------------------------------------------------------------------

    def _build(self) -> Any:
        import mcp_types as types
        from mcp import MCPError
        from mcp.server.lowlevel import Server
        from mcp_types import INVALID_PARAMS

        async def list_tools(ctx: Any, params: Any) -> Any:
            specs = await self.episode_for(ctx).tool_specs()
            return types.ListToolsResult(tools=[
                types.Tool(name=s.name, description=s.description, input_schema=s.parameters) for s in specs])

        async def call_tool(ctx: Any, params: Any) -> Any:
            reply = await self.episode_for(ctx).call(params.name, dict(params.arguments or {}))
            return types.CallToolResult(content=[types.TextContent(type="text", text=t) for t in reply.texts],
                                        is_error=reply.is_error, structured_content=reply.data)

        async def list_prompts(ctx: Any, params: Any) -> Any:
            return types.ListPromptsResult(prompts=[types.Prompt(
                name=TASK_PROMPT, description="The task of this session's episode: its opening messages.")])

        async def get_prompt(ctx: Any, params: Any) -> Any:
            if params.name != TASK_PROMPT:
                raise MCPError(code=INVALID_PARAMS, message=f"no prompt {params.name!r} (there is {TASK_PROMPT!r})")
            text = await self.episode_for(ctx).task_text()
            return types.GetPromptResult(description=f"a task of {self.spec.id}", messages=[
                types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))])

        return Server(
            "agentgym", version=_version(), title=f"agentgym {self.spec.id}",
            instructions=(f"Each session is one episode of the agentgym environment {self.spec.id}. "
                          "Call get_task (or use the 'task' prompt) to read the task, act with the "
                          "tools, then call finish to end the episode and get its verdict."),
            on_list_tools=list_tools, on_call_tool=call_tool, on_list_prompts=list_prompts,
            on_get_prompt=get_prompt,
        )


def _version() -> str:
    import agentgym

    return agentgym.__version__


# ---- transports ------------------------------------------------------------------------------


async def serve_stdio(server: EpisodeServer) -> None:
    """Serve one client on this process's stdin and stdout until it hangs up."""
    from mcp.server.stdio import stdio_server

    try:
        async with stdio_server() as (read_stream, write_stream):  # stray prints now go to stderr
            await server.check()
            await server.mcp.run(read_stream, write_stream, server.mcp.create_initialization_options())
    finally:
        await server.close()


def http_app(server: EpisodeServer, host: str = "127.0.0.1", max_sessions: int = 32) -> Any:
    """The ASGI app: the SDK's stateful streamable HTTP app, behind a door that refuses requests
    without a session (2026 protocol) and closes a session's episode when the client ends it."""
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

    inner = server.mcp.streamable_http_app(host=host, max_sessions=max_sessions,
                                           session_idle_timeout=server.idle_timeout)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        headers = dict(scope["headers"])
        version = headers.get(b"mcp-protocol-version", b"").decode("latin-1")
        if version and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            await _refuse_sessionless(version, receive, send, list(HANDSHAKE_PROTOCOL_VERSIONS))
            return
        await inner(scope, receive, send)
        session = headers.get(b"mcp-session-id")
        if scope["method"] == "DELETE" and session:
            await server.end_session(session.decode("latin-1"))

    return app


async def _refuse_sessionless(version: str, receive: Any, send: Any, supported: list[str]) -> None:
    from mcp_types import UNSUPPORTED_PROTOCOL_VERSION

    body = b""
    while len(body) <= MAX_BODY_BYTES:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    try:
        request_id = json.loads(body).get("id")
    except (ValueError, AttributeError):
        request_id = None
    error = {"code": UNSUPPORTED_PROTOCOL_VERSION,
             "message": "this server runs one episode per session: connect with the initialize handshake",
             "data": {"supported": supported, "requested": version}}
    payload = json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}).encode()
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def listen(host: str, port: int) -> socket.socket:
    """The listening socket (port 0: any free port); a bad host or a taken port is the user's."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as e:
        raise UserInputError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_http(server: EpisodeServer, sock: socket.socket, max_sessions: int = 32) -> None:
    """Serve streamable HTTP on `sock` until interrupted; every episode is closed at the end."""
    import uvicorn

    host = sock.getsockname()[0]
    config = uvicorn.Config(http_app(server, host, max_sessions), log_level="warning", lifespan="on")
    runner = uvicorn.Server(config)
    serving = asyncio.create_task(runner.serve(sockets=[sock]))
    try:
        while not serving.done():
            await asyncio.wait({serving}, timeout=min(60.0, server.idle_timeout / 4))
            await server.end_idle_sessions()
        await serving
    finally:
        runner.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
        await server.close()
