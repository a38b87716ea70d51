"""Serving our apps and MiniWoB++ pages to an episode's browser context, and per-episode DBs.

Why in-process routing and not loopback servers: every request from an episode's context is caught
by a Playwright route on that context and answered by that episode's own ASGI app (over its own
copy of the DB) through httpx's ASGITransport. No ports are allocated, so nothing collides or
leaks between hundreds of concurrent episodes; nothing listens on the network, so no other process
can touch an episode's state; and tearing an episode down is closing its context. Requests to any
origin the task does not allow are aborted, so pages cannot reach the outside world either.
"""

from __future__ import annotations

import atexit
import json
import mimetypes
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx

APP_DOMAIN = "agentgym.test"
REDIRECT_MARK = "agentgym-redirect"


def app_origin(app: str) -> str:
    """Where an app lives as seen from the browser, e.g. http://shop.agentgym.test."""
    return f"http://{app}.{APP_DOMAIN}"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class AsgiSite:
    """Answers routed requests with an in-process ASGI app."""

    def __init__(self, app: Any, origin: str):
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=origin, follow_redirects=False
        )
        self.error: BaseException | None = None

    def take_error(self) -> BaseException | None:
        """The first exception our app raised since the last call (the env fails the step with it)."""
        error, self.error = self.error, None
        return error

    async def fulfill(self, route: Any) -> None:
        request = route.request
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        try:
            response = await self.client.request(
                request.method, request.url, headers=headers, content=request.post_data_buffer
            )
        except (
            Exception
        ) as e:  # our app crashed: remember it for the env, show the page a plain 500
            self.error = self.error or e
            raise
        out: dict[str, str] = {}
        for key, value in response.headers.multi_items():
            key = key.lower()
            if key in ("content-length", "content-encoding", "transfer-encoding"):
                continue  # httpx has already decoded the body; Playwright sets the length
            out[key] = (
                f"{out[key]}\n{value}" if key in out else value
            )  # Playwright joins Set-Cookie by \n
        location = response.headers.get("location")
        if 300 <= response.status_code < 400 and location and request.is_navigation_request():
            # Playwright does not route the request a fulfilled redirect leads to (it would go to
            # the network), so the redirect is done by the page itself, replacing its history entry.
            out.pop("location", None)
            out["content-type"] = "text/html; charset=utf-8"
            target = json.dumps(urljoin(request.url, location))
            body = f'<!doctype html><meta name="{REDIRECT_MARK}"><script>location.replace({target})</script>'
            await route.fulfill(status=200, headers=out, body=body)
            return
        await route.fulfill(status=response.status_code, headers=out, body=response.content)

    async def close(self) -> None:
        await self.client.aclose()


class StaticSite:
    """Answers routed GET requests with files under `root` (MiniWoB++ pages from the package)."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    async def fulfill(self, route: Any) -> None:
        path = (self.root / unquote(urlsplit(route.request.url).path).lstrip("/")).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            await route.fulfill(status=404, body="not found", content_type="text/plain")
            return
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        await route.fulfill(status=200, body=path.read_bytes(), content_type=content_type)

    async def close(self) -> None:
        pass


WARM_ORIGIN = f"http://warm.{APP_DOMAIN}"
# A spare context's first page: text and form controls, so its renderer has loaded its fonts and
# laid out such elements once before an episode's page needs them
WARM_PAGE = (
    "<!doctype html><title>ready</title><body><h1>ready</h1><p>ready <b>ready</b> <a href=#>ready</a>"
    "<form><input value=ready><input type=checkbox><select><option>ready</select>"
    "<textarea>ready</textarea><button>ready</button></form><table><tr><th>ready<td>ready</table>"
)


class Router:
    """Answers every request of one browser context; an episode sets its sites when it claims it.

    Our sites answer theirs, other allowed origins pass through, everything else is aborted.
    Until an episode claims it, every request gets an empty page, so a spare context can start its
    renderer (on WARM_ORIGIN, or on the origin a fork will show) before it is used.
    """

    def __init__(self) -> None:
        self.sites: dict[str, Any] = {}
        self.allowed: set[str] = set()
        self.claimed = False
        self.blank = False  # answer every request with an empty page (a fork filling local storage)

    def use(self, sites: dict[str, Any], allowed_origins: list[str]) -> None:
        self.sites = dict(sites)
        self.allowed = {origin_of(o) for o in allowed_origins}
        self.claimed = True

    def release(self) -> None:
        """Back to serving empty pages only (its context is kept for another episode)."""
        self.sites, self.allowed, self.claimed, self.blank = {}, set(), False, False

    async def handle(self, route: Any) -> None:
        origin = origin_of(route.request.url)
        site = self.sites.get(origin)
        try:
            if not self.claimed:
                await route.fulfill(status=200, body=WARM_PAGE, content_type="text/html")
            elif self.blank and (origin in self.allowed or site is not None):
                await route.fulfill(status=200, body="<title></title>", content_type="text/html")
            elif site is not None:
                await site.fulfill(route)
            elif origin == WARM_ORIGIN:
                await route.fulfill(status=200, body=WARM_PAGE, content_type="text/html")
            elif origin in self.allowed:
                await route.continue_()
            else:
                await route.abort("blockedbyclient")
        except Exception as e:  # the page may be gone (context closed mid-request)
            if "closed" not in str(e).lower() and "disposed" not in str(e).lower():
                try:
                    await route.fulfill(
                        status=500, body=f"agentgym: {e}", content_type="text/plain"
                    )
                except Exception:
                    pass


# ---- per-episode databases ------------------------------------------------------------------

_templates: dict[tuple[str, int], Path] = {}
_templates_lock = threading.Lock()
_workdir: Path | None = None


def _dir() -> Path:
    global _workdir
    if _workdir is None:
        _workdir = Path(tempfile.mkdtemp(prefix="agentgym-web-"))
        atexit.register(shutil.rmtree, _workdir, ignore_errors=True)
    return _workdir


def db_template(app_name: str, app_module: Any, seed: int) -> Path:
    """The app's DB for `seed`, built once per process (so it always matches the app's code)."""
    key = (app_name, seed)
    with _templates_lock:
        if key not in _templates:
            path = _dir() / f"{app_name}-{seed}.template.sqlite"
            tmp = path.with_suffix(".building")
            tmp.unlink(missing_ok=True)
            app_module.build_db(str(tmp), seed)
            tmp.rename(path)
            _templates[key] = path
        return _templates[key]


def episode_db(template: Path) -> Path:
    """A private copy of `template` for one episode (a file copy: well under a millisecond)."""
    handle, name = tempfile.mkstemp(
        prefix=template.name.split(".")[0] + "-", suffix=".sqlite", dir=_dir()
    )
    with open(handle, "wb") as out, open(template, "rb") as src:
        shutil.copyfileobj(src, out)
    return Path(name)
