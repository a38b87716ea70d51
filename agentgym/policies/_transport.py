"""HTTP for the chat policy: JSON over one aiohttp session (and connection pool) per event loop.

Why not the `openai` SDK's client: measured in `bench/rollout.py`, it spends about ten times the
CPU of a bare aiohttp request on each call (request building, httpx layers, response models), so
on a small machine the SDK, not the server, capped how many episodes ran at once. The protocol
itself is small (POST JSON, read JSON, status codes); retries stay in `OpenAIPolicy`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp


class HTTPStatusError(Exception):
    """The server answered with a status other than 2xx."""

    def __init__(self, status: int, body: Any, text: str, headers: Any):
        super().__init__(f"HTTP {status}")
        self.status, self.body, self.text, self.headers = status, body, text, headers

    def server_message(self) -> str:
        body = self.body
        if isinstance(body, dict):
            inner = body.get("error", body)
            if isinstance(inner, dict) and inner.get("message"):
                return str(inner["message"])
            if isinstance(inner, str):
                return inner
        return self.text.strip()[:500] or f"HTTP {self.status}"


class ReplyError(Exception):
    """A 2xx reply that is not the JSON object asked for."""


async def _keeper(session: aiohttp.ClientSession) -> AsyncIterator[aiohttp.ClientSession]:
    # asyncio.run() (and pytest's loops) close unfinished async generators before closing the
    # loop, so the session is closed on the loop it belongs to, even when nobody calls aclose()
    try:
        yield session
    finally:
        await session.close()


class JSONClient:
    """GET and POST JSON to one base URL; one session per event loop, shared by every copy."""

    def __init__(self, base_url: str, api_key: str, timeout: float, user_agent: str):
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.headers = {"Authorization": f"Bearer {api_key}", "User-Agent": user_agent,
                        "Accept": "application/json"}
        for variable, header in (("OPENAI_ORG_ID", "OpenAI-Organization"),
                                 ("OPENAI_PROJECT_ID", "OpenAI-Project")):
            if os.environ.get(variable):
                self.headers[header] = os.environ[variable]
        self.sessions: dict[asyncio.AbstractEventLoop, tuple[Any, aiohttp.ClientSession]] = {}

    async def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        kept = self.sessions.get(loop)
        if kept is None or kept[1].closed:
            for old in [lp for lp in self.sessions if lp.is_closed()]:
                del self.sessions[old]
            # no connection limit here: the runner's concurrency is the limit (aiohttp's default
            # of 100 would queue requests beyond it, httpx's keeps only 20 alive)
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            session = aiohttp.ClientSession(
                connector=connector, headers=self.headers, timeout=self.timeout,
                json_serialize=json.dumps,
            )
            keeper = _keeper(session)
            await keeper.__anext__()
            kept = self.sessions[loop] = (keeper, session)
        return kept[1]

    async def aclose(self) -> None:
        kept = self.sessions.pop(asyncio.get_running_loop(), None)
        if kept is not None:
            await kept[0].aclose()  # its `finally` closes the session

    async def get(self, path: str) -> Any:
        return await self._request("GET", path, None)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._request("POST", path, body)

    async def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        session = await self.session()
        async with session.request(method, f"{self.base_url}/{path.lstrip('/')}", json=body) as response:
            raw = await response.read()
        text = raw.decode("utf-8", errors="replace")
        try:
            data = json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            data = None
        if response.status >= 300:
            raise HTTPStatusError(response.status, data, text, response.headers)
        if not isinstance(data, dict):
            raise ReplyError(f"the reply to {method} {path} is not a JSON object: {text[:200]!r}")
        return data
